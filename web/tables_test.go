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
		doc := r.doc(t)
		tables := doc.Find("table")
		if tables.Length() == 0 {
			t.Errorf("%s: no table to check", path)
		}
		tables.Each(func(i int, table *goquery.Selection) {
			caption := table.ChildrenFiltered("caption")
			if caption.Length() != 1 || strings.TrimSpace(caption.Text()) == "" || goquery.NodeName(table.Children().First()) != "caption" {
				t.Errorf("%s: table %d has %d captions (%q), want one, first, naming it", path, i+1, caption.Length(), caption.Text())
			}
			// Each header says what it heads: its column, or its row's.
			table.Find("thead th").Each(func(_ int, th *goquery.Selection) {
				if scope, _ := th.Attr("scope"); scope != "col" {
					t.Errorf("%s: table %d: column header %q has scope %q, want col", path, i+1, strings.TrimSpace(th.Text()), scope)
				}
			})
			table.Find("tbody th").Each(func(_ int, th *goquery.Selection) {
				if scope, _ := th.Attr("scope"); scope != "row" && scope != "rowgroup" {
					t.Errorf("%s: table %d: row header %q has scope %q, want row or rowgroup", path, i+1, strings.TrimSpace(th.Text()), scope)
				}
			})
		})
		// A link whose text is a bare number says what it opens: "Payout
		// 34", not "34", in a screen reader's list of the page's links
		// (or is left out of it, beside a "Review" link to the same page).
		doc.Find(`table a:not([aria-hidden="true"])`).Each(func(_ int, a *goquery.Selection) {
			text := strings.TrimSpace(a.Text())
			if _, err := strconv.ParseInt(text, 10, 64); err != nil {
				return
			}
			if name, _ := a.Attr("aria-label"); !strings.HasSuffix(name, " "+text) {
				t.Errorf("%s: the link %q is named %q, want what it opens and then %s", path, text, name, text)
			}
		})
		// The chart's numbers are read by day: "Monime, 2026-05-02, 3".
		doc.Find(`[data-testid="overview-chart-table"] tbody tr`).Each(func(_ int, tr *goquery.Selection) {
			if !tr.Children().First().Is(`th[scope="row"]`) {
				t.Errorf("%s: the day %q does not head its row", path, strings.TrimSpace(tr.Children().First().Text()))
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
