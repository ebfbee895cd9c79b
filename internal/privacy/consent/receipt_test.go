package consent

import (
	"encoding/json"
	"testing"
	"time"
)

func TestReceipts(t *testing.T) {
	if !json.Valid(ReceiptSchema) {
		t.Fatal("the embedded schema is not JSON")
	}
	given := valid()
	withdrawn := valid()
	withdrawn.State, withdrawn.At, withdrawn.Purposes = Withdrawn, given.At.Add(time.Hour), []string{"analytics"}
	withdrawn.IP, withdrawn.UserAgent = "", ""
	now := given.At.Add(2 * time.Hour)
	doc := NewReceipts("https://example.test/schema.json", []Controller{{Name: "C", Role: "controller", Contact: "c@example.test"}},
		Visitor, given.SubjectID, []Record{given, withdrawn}, now)
	if len(doc.Receipts) != 2 || doc.Receipts[1].DPV.Status != "dpv:ConsentWithdrawn" || doc.Receipts[0].DPV.Status != "dpv:ConsentGiven" {
		t.Fatalf("receipts = %+v", doc.Receipts)
	}
	if doc.Receipts[1].IPTruncated != nil || doc.Receipts[1].UserAgent != nil || *doc.Receipts[0].IPTruncated != "192.0.2.0" {
		t.Error("absent IP and user agent must be null, present ones kept")
	}
	if doc.Receipts[0].Purposes[0].Name != "Usage analytics" {
		t.Errorf("purpose names = %+v", doc.Receipts[0].Purposes)
	}
	states := map[string]string{}
	for _, c := range doc.Current {
		states[c.Purpose] = c.State
	}
	want := map[string]string{"analytics": "withdrawn", "personalisation": "given", "behaviour-tracking": "none", "recording": "none", "ai-processing": "none"}
	for p, s := range want {
		if states[p] != s {
			t.Errorf("current %s = %q, want %q", p, states[p], s)
		}
	}
	later := NewReceipts("", nil, Visitor, given.SubjectID, []Record{given}, given.At.AddDate(0, 7, 0))
	for _, c := range later.Current {
		if c.Purpose == "personalisation" && c.State != "expired" {
			t.Errorf("seven months on, personalisation is %q", c.State)
		}
	}
}
