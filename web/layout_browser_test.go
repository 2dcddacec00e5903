package web_test

import (
	"net/http"
	"testing"

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
