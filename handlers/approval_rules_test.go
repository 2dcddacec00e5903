package handlers

import (
	"strings"
	"testing"

	"payoutdesk/providers"
)

// A payout needs a second person when it is above the threshold for its
// provider and currency, else for its currency, and always in a currency
// without one; a payout at the threshold exactly does not.
func TestApprovalRules(t *testing.T) {
	r, err := ParseApprovalRules("fedapay:XOF=200000, XOF=500000, usd=1000.50")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		provider string
		amount   providers.Money
		want     bool
	}{
		{"fedapay", providers.Money{Minor: 200000, Currency: "XOF"}, false},
		{"fedapay", providers.Money{Minor: 200001, Currency: "XOF"}, true},
		{"monime", providers.Money{Minor: 500000, Currency: "XOF"}, false},
		{"monime", providers.Money{Minor: 500001, Currency: "XOF"}, true},
		{"kibramoa", providers.Money{Minor: 100050, Currency: "USD"}, false},
		{"kibramoa", providers.Money{Minor: 100051, Currency: "USD"}, true},
		{"fedapay", providers.Money{Minor: 100051, Currency: "USD"}, true},
		{"smartglocal", providers.Money{Minor: 1, Currency: "EUR"}, true},
	} {
		needs, why := r.Needs(tt.provider, tt.amount)
		if needs != tt.want || needs != (why != "") {
			t.Errorf("%s payout of %s: needs approval %v (%q), want %v", tt.provider, tt.amount, needs, why, tt.want)
		}
	}
	if _, why := r.Needs("monime", providers.Money{Minor: 1, Currency: "EUR"}); !strings.Contains(why, "EUR") {
		t.Errorf("a currency without a threshold is explained as %q", why)
	}
	for _, bad := range []string{"nosuch:XOF=1", "XOF", "XOF=1.5", "USD=-5", "ABC=10"} {
		if _, err := ParseApprovalRules(bad); err == nil {
			t.Errorf("ParseApprovalRules(%q) accepted", bad)
		}
	}
	if _, err := ParseApprovalRules(DefaultApprovalThresholds); err != nil {
		t.Errorf("the default thresholds: %v", err)
	}
}
