package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"payoutdesk/db"
)

// TestBrowserTablesFitALaptopScreen: at 1280 pixels wide (newBrowser's
// window), a table fits its frame, a long address or email wrapping
// rather than pushing the last columns out of sight behind a scroll bar.
func TestBrowserTablesFitALaptopScreen(t *testing.T) {
	ts := newTestServer(t)
	long, err := db.NewUsers(ts.DB).Create(t.Context(), "firstname.middlename.lastname@payout-operations.example.com", db.RoleAgent,
		testPassword, db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.created"})
	if err != nil {
		t.Fatal(err)
	}
	ts.seedMany(4, long)
	wantStatus(t, ts.client().login(long.Email, testPassword), http.StatusSeeOther) // an actor in the log
	ctx := newBrowser(t)
	signInInBrowser(t, ctx, ts, "admin@example.com", db.RoleAdmin)
	for _, path := range []string{"/providers", "/payouts", "/approvals", "/audit", "/users"} {
		step(t, ctx, "open "+path, chromedp.Navigate(ts.URL+path), chromedp.WaitVisible(chromedp.CSS(`.table-wrap`)))
		wider := value(t, ctx, "measure the tables of "+path, chromedp.Evaluate[[]int](`[...document.querySelectorAll(".table-wrap")]
			.filter(w => w.scrollWidth > w.clientWidth).map(w => w.scrollWidth - w.clientWidth)`))
		if len(wider) > 0 {
			t.Errorf("%s: tables wider than their frame by %v px", path, wider)
		}
	}
}

// TestBrowserStackedLabelsKeepToTheirCell: on a phone a table row becomes
// a card of labelled cells. A label of two lines ("Waiting since (UTC)" on
// the approvals queue) makes its cell taller, rather than running into the
// next cell's label; a cell without a label keeps the whole width.
func TestBrowserStackedLabelsKeepToTheirCell(t *testing.T) {
	ts := newTestServer(t)
	ts.seedMany(1, ts.Users[db.RoleAgent])
	ctx := newBrowser(t)
	signInInBrowser(t, ctx, ts, "agent@example.com", db.RoleAgent)
	step(t, ctx, "open the list on a phone", chromedp.EmulateViewport(390, 800), chromedp.Navigate(ts.URL+"/payouts"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="payouts"]`)))
	got := value(t, ctx, "measure a cell", chromedp.Evaluate[map[string]float64](`(() => {
		const td = document.querySelector('[data-testid="payouts"] tbody td[data-label="Amount"]');
		const value = td.firstElementChild;
		const out = {one: td.getBoundingClientRect().height};
		td.setAttribute("data-label", "A label long enough to take two lines");
		out.two = td.getBoundingClientRect().height;
		td.setAttribute("data-label", "");
		out.valueLeft = value.getBoundingClientRect().left - td.getBoundingClientRect().left;
		return out;
	})()`))
	if got["two"] < 1.5*got["one"] {
		t.Errorf("a cell %.0f px high with a label of one line is %.0f px with a label of two, want it to grow to hold the label", got["one"], got["two"])
	}
	if got["valueLeft"] > 1 {
		t.Errorf("a cell without a label starts its value %.0f px in, want 0", got["valueLeft"])
	}
}

// TestBrowserHeaderFits: at 1280 pixels an admin, who has the most links,
// sees the whole navigation in one row even with both counters showing;
// on a phone, no link or button of the header breaks inside its words
// ("Sign" over "out").
func TestBrowserHeaderFits(t *testing.T) {
	ts := newTestServer(t)
	ts.seedMany(12, ts.Users[db.RoleAgent]) // waiting for approval: a counter of two digits
	ts.unknownMonime("HEADERFITSUNKNOWN0000001", 1234, time.Minute)
	ctx := newBrowser(t)
	signInInBrowser(t, ctx, ts, "admin@example.com", db.RoleAdmin)
	step(t, ctx, "open the payouts on a laptop", chromedp.Navigate(ts.URL+"/payouts"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="count/approvals"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="count/payouts/unknown"]`)))
	rows := value(t, ctx, "count the navigation's rows", chromedp.Evaluate[int](
		`new Set([...document.querySelectorAll(".nav > a")].map(a => Math.round(a.getBoundingClientRect().top))).size`))
	if rows != 1 {
		t.Errorf("at 1280 px the admin's navigation takes %d rows, want 1", rows)
	}
	step(t, ctx, "open the payouts on a phone", chromedp.EmulateViewport(390, 800), chromedp.Navigate(ts.URL+"/payouts"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="logout"]`)))
	broken := value(t, ctx, "find broken links", chromedp.Evaluate[[]string](`[...document.querySelectorAll(".topbar a, .topbar button")]
		.filter(e => e.offsetParent !== null && !e.classList.contains("skip"))
		.filter(e => {
			const r = document.createRange();
			r.selectNodeContents(e.firstChild);
			return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size > 1;
		}).map(e => e.textContent.trim())`))
	if len(broken) > 0 {
		t.Errorf("on a phone the header breaks %q over two lines", broken)
	}
}
