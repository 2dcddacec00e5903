package payouts_test

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"payoutdesk/views/payouts"
)

// TestApprovalsReviewLinksNamePayout: each row's "Review" link names its
// payout, so that a screen reader's list of links is not "Review, Review,
// Review" with nothing to tell them apart.
func TestApprovalsReviewLinksNamePayout(t *testing.T) {
	page := payouts.ApprovalsPage{Rows: []payouts.ApprovalRow{
		{ID: 7, Amount: "600,000 XOF", Beneficiary: "Ana Big"},
		{ID: 9, Amount: "2,000.00 USD", Beneficiary: "Bo Li"},
	}}
	var sb strings.Builder
	if err := payouts.Approvals(page).Render(context.Background(), &sb); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		row, want string
	}{
		{"approval-7", "Review payout 7"},
		{"approval-9", "Review payout 9"},
	}
	for _, tt := range tests {
		link := doc.Find(`[data-testid="` + tt.row + `"] [data-testid="review"]`)
		if link.Length() != 1 {
			t.Fatalf("row %s: got %d review links, want 1", tt.row, link.Length())
		}
		if got := strings.Join(strings.Fields(link.Text()), " "); got != tt.want {
			t.Errorf("row %s: review link reads %q, want %q", tt.row, got, tt.want)
		}
	}
}
