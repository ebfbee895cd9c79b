package datamap

import (
	"regexp"
	"testing"

	"github.com/sessionshq/sessions/internal/privacy/vendors"
)

// saleWords matches ids and names that would declare selling personal
// data, or handing it over for others' marketing, as a purpose or a
// recipient.
var saleWords = regexp.MustCompile(`(?i)(\bsell|\bsale|\bsold\b|broker|monetis|monetiz|resell|data[- ]?shar|third[- ]party[- ]marketing|advertis)`)

// TestNoPurposeOrRecipientForSellingData holds the promise the notice
// makes: we never sell personal data. Declaring a purpose, another
// recipient or a sub-processor for it fails here first.
func TestNoPurposeOrRecipientForSellingData(t *testing.T) {
	t.Parallel()
	m := Default()
	for _, p := range m.Purposes {
		if saleWords.MatchString(p.ID) || saleWords.MatchString(p.Name) {
			t.Errorf("purpose %s (%s) suggests selling personal data", p.ID, p.Name)
		}
	}
	for _, o := range m.OtherRecipients {
		if saleWords.MatchString(o.ID) || saleWords.MatchString(o.Name) {
			t.Errorf("recipient %s (%s) suggests selling personal data", o.ID, o.Name)
		}
	}
	for _, v := range vendors.Seed() {
		if saleWords.MatchString(v.ID) || saleWords.MatchString(v.Name) || saleWords.MatchString(v.Activity) {
			t.Errorf("sub-processor %s (%s) suggests selling personal data", v.ID, v.Name)
		}
	}
	for _, tb := range m.Tables {
		for _, c := range tb.Columns {
			for _, u := range c.Uses {
				if _, ok := m.Purpose(u.Purpose); !ok {
					t.Errorf("%s.%s uses undeclared purpose %q, which this test cannot vet", tb.Name, c.Name, u.Purpose)
				}
			}
		}
	}
}

func TestSaleWordsCatchTheObviousNames(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"data-sale", "Sale of personal data", "selling", "Data brokers", "resellers", "third-party-marketing", "Advertising partners"} {
		if !saleWords.MatchString(s) {
			t.Errorf("%q is not caught", s)
		}
	}
	for _, s := range []string{"marketing", "Corporate transactions", "acquirers", "Companies of our group", "analytics"} {
		if saleWords.MatchString(s) {
			t.Errorf("%q is caught", s)
		}
	}
}
