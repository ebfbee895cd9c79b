package country

import "testing"

func TestCountries(t *testing.T) {
	if len(countryNames) != 249 {
		t.Fatalf("%d codes, want the 249 assigned ISO 3166-1 alpha-2 codes", len(countryNames))
	}
	if c, ok := Normalise(" de "); !ok || c != "DE" || Name(c) != "Germany" {
		t.Fatalf("Normalise(de) = %q %v", c, ok)
	}
	for _, bad := range []string{"XX", "Germany", "", "UK"} {
		if _, ok := Normalise(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	for code := range eea {
		if !Known(code) {
			t.Errorf("EEA member %s unknown", code)
		}
	}
	for code := range adequate {
		if !Known(code) || InEEA(code) {
			t.Errorf("adequacy entry %s unknown or inside the EEA", code)
		}
	}
	if len(eea) != 30 || !InEEA("NO") || InEEA("CH") || InEEA("GB") {
		t.Fatal("EEA membership")
	}
	if all := All(); all[0].Name > all[1].Name || len(Codes()) != len(all) {
		t.Fatal("ordering")
	}
}
