package audit

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestEventNeighbourLinksSayWhereTheyGo: the links to the events before
// and after say so in words, not by an arrow only, which a screen reader
// reads out as "left arrow 4" in its list of links.
func TestEventNeighbourLinksSayWhereTheyGo(t *testing.T) {
	var sb strings.Builder
	if err := Event(EventPage{Seq: 5, PrevSeq: 4, NextSeq: 6}).Render(context.Background(), &sb); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		href, want string
	}{
		{"/audit/4", "Previous event, 4"},
		{"/audit/6", "Next event, 6"},
	}
	for _, tt := range tests {
		link := doc.Find(`a[href="` + tt.href + `"]`)
		if link.Length() != 1 {
			t.Fatalf("got %d links to %s, want 1", link.Length(), tt.href)
		}
		// What a screen reader reads: the text, arrows hidden from it left out.
		link.Find(`[aria-hidden="true"]`).Remove()
		if got := strings.Join(strings.Fields(link.Text()), " "); got != tt.want {
			t.Errorf("link to %s reads %q, want %q", tt.href, got, tt.want)
		}
	}
}
