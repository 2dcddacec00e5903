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
