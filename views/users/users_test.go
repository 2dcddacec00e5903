package users

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestUserActionsNameTheUser: each row's "New password…" and "Disable…"
// toggles name the user, so that a screen reader moving from control to
// control knows whose account they open.
func TestUserActionsNameTheUser(t *testing.T) {
	page := ListPage{Users: []Row{
		{ID: 2, Email: "ana@example.com", Role: "agent"},
		{ID: 3, Email: "bo@example.com", Role: "agent", Disabled: true},
	}}
	var sb strings.Builder
	if err := List(page).Render(context.Background(), &sb); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		row, action, want string
	}{
		{"user-2", "password-action", "New password for ana@example.com…"},
		{"user-2", "disable-action", "Disable ana@example.com…"},
		{"user-3", "password-action", "Enable bo@example.com with a new password…"},
	}
	for _, tt := range tests {
		summary := doc.Find(`[data-testid="` + tt.row + `"] [data-testid="` + tt.action + `"] > summary`)
		if summary.Length() != 1 {
			t.Fatalf("%s %s: got %d summaries, want 1", tt.row, tt.action, summary.Length())
		}
		if got := strings.Join(strings.Fields(summary.Text()), " "); got != tt.want {
			t.Errorf("%s %s: summary reads %q, want %q", tt.row, tt.action, got, tt.want)
		}
	}
}
