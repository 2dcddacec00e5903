package dashboard

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// The managers' card says "Nothing" exactly when it lists nothing: never
// above a line about the manager's own payouts waiting for another.
func TestManagersSaysNothingOnlyWhenEmpty(t *testing.T) {
	for _, b := range []Backlog{
		{}, {Approvals: 1}, {Own: 1}, {Unknown: 1}, {UnknownOwn: 1}, {Own: 1, UnknownOwn: 1}, {Contradicted: 1},
	} {
		var sb strings.Builder
		if err := managers(b).Render(context.Background(), &sb); err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(sb.String()))
		if err != nil {
			t.Fatal(err)
		}
		nothing, items := doc.Find(".empty").Length() == 1, doc.Find("li").Length()
		if nothing == (items > 0) {
			t.Errorf("%+v: says nothing %v with %d lines listed", b, nothing, items)
		}
	}
}

// A payout waiting on somebody names its provider, sandbox badge and
// number apart: "Kibramoa SANDBOX · #16", not "KibramoaSANDBOX· #16".
func TestAttentionSpacesTheSandboxBadge(t *testing.T) {
	g := Group{Status: "awaiting_customer", Title: "Waiting for the customer",
		Payouts: []Payout{{ID: 16, Provider: "Kibramoa", Sandbox: true, Amount: "666.00 BRL", Beneficiary: "c1"}}}
	var sb strings.Builder
	if err := attention([]Group{g}).Render(context.Background(), &sb); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(doc.Find(`[data-testid="attention-payout-16"]`).Text()), " ")
	if !strings.Contains(text, "· Kibramoa SANDBOX · #16 ·") {
		t.Errorf("the payout reads %q, want its provider, badge and number spaced apart", text)
	}
}
