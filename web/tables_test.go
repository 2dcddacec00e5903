package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"payoutdesk/db"
)

// TestTablesHaveCaptions: every table names itself in a caption, first in
// the table, which a screen reader announces when it reaches the table or
// lists the page's tables; the heading above it does not reach it.
func TestTablesHaveCaptions(t *testing.T) {
	ts := newTestServerWith(t, false)
	ts.seedMany(3, ts.Users[db.RoleAgent])
	if err := db.NewAudit(ts.DB).Record(t.Context(), db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "test.changed",
		Details: map[string]any{"before": map[string]any{"status": "queued"}, "after": map[string]any{"status": "paid"}}}); err != nil {
		t.Fatal(err)
	}
	changed := ts.events("test.changed")[0]
	admin := ts.as(db.RoleAdmin)
	for _, path := range []string{"/", "/overview", "/payouts", "/approvals", "/audit", "/audit/" + strconv.FormatInt(changed.Seq, 10), "/users", "/providers"} {
		r := admin.get(path)
		wantStatus(t, r, ok)
		tables := r.doc(t).Find("table")
		if tables.Length() == 0 {
			t.Errorf("%s: no table to check", path)
		}
		tables.Each(func(i int, table *goquery.Selection) {
			caption := table.ChildrenFiltered("caption")
			if caption.Length() != 1 || strings.TrimSpace(caption.Text()) == "" || goquery.NodeName(table.Children().First()) != "caption" {
				t.Errorf("%s: table %d has %d captions (%q), want one, first, naming it", path, i+1, caption.Length(), caption.Text())
			}
		})
	}
}

// TestNavCountsReadInWords: the number next to a navigation link is read
// with what it counts, "Approvals, 1 waiting", not "Approvals 1"; the
// badge shows the number alone, as before.
func TestNavCountsReadInWords(t *testing.T) {
	ts := newTestServerWith(t, false)
	ts.seedMany(1, ts.Users[db.RoleAgent])
	doc := ts.as(db.RoleManager).get("/payouts").doc(t)
	link := doc.Find(`nav a[href="/approvals"]`)
	if got := link.Find(`[data-testid="count/approvals"]`).Text(); got != "1" {
		t.Errorf("the badge shows %q, want 1", got)
	}
	// What a screen reader reads: the link's text without what is hidden
	// from it.
	read := link.Clone()
	read.Find(`[aria-hidden="true"]`).Remove()
	if got := strings.Join(strings.Fields(read.Text()), " "); got != "Approvals, 1 waiting" {
		t.Errorf("the link reads %q, want %q", got, "Approvals, 1 waiting")
	}
}
