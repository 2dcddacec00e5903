package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"payoutdesk/db"
	"payoutdesk/providers"
)

// chromiumPath finds a Chromium or Chrome binary.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless Chromium for the test. Without one, the test
// is skipped locally and fails when CI=true, so CI can never pass by skipping.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true and no Chromium found: browser tests are required (apt-get install -y chromium)")
		}
		t.Skip("browser test skipped: no Chromium found (apt-get install -y chromium); with CI=true this is a failure")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs actions with a time limit, failing the test with what.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// attach runs the first action on a new tab's context, which binds the
// tab's event loop to that context: it must not be a step's context with a
// time limit (see newBrowser), so it is bounded from outside.
func attach(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	attached := make(chan error, 1)
	go func() { attached <- chromedp.Do(ctx) }()
	select {
	case err := <-attached:
		if err != nil {
			t.Fatalf("attach to %s: %v", what, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("attaching to %s took over 10 s", what)
	}
}

func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// watchPolls counts, from now on, the requests htmx makes from the page:
// a test that waits for polling proves with polls that it ran.
func watchPolls(t *testing.T, ctx context.Context) {
	t.Helper()
	step(t, ctx, "count the page's htmx requests",
		chromedp.Evaluate[chromedp.Void](`window.polls = 0; document.body.addEventListener("htmx:afterRequest", () => window.polls++)`))
}

// waitPolls waits until the page has made n htmx requests since
// watchPolls, failing the test after 15 s or if the page was loaded again.
func waitPolls(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := value(t, ctx, "htmx requests", chromedp.Evaluate[int](`typeof window.polls === "number" ? window.polls : -1`))
		switch {
		case got < 0:
			t.Fatal("the page was loaded again while the test watched its polling")
		case got >= n:
			return
		case time.Now().After(deadline):
			t.Fatalf("the page made %d htmx requests in 15 s, want %d: it does not poll", got, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestBrowserLoginDashboardLogout(t *testing.T) {
	ts := newTestServer(t)
	ctx := newBrowser(t)

	step(t, ctx, "open the app",
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
	)
	if loc := value(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "/login?next=%2F") {
		t.Errorf("visitor landed on %s, want the login page", loc)
	}
	signInOnLoginPage(t, ctx, "agent@example.com", db.RoleAgent)
	if loc := value(t, ctx, "location", chromedp.Location()); loc != ts.URL+"/" {
		t.Errorf("after signing in the visitor is on %s, want the page they asked for, %s/", loc, ts.URL)
	}
	if got := value(t, ctx, "email", chromedp.Text(chromedp.CSS(`[data-testid="dashboard-email"]`))); got != "agent@example.com" {
		t.Errorf("dashboard shows %q, want agent@example.com", got)
	}
	if got := value(t, ctx, "activity", chromedp.Text(chromedp.CSS(`[data-testid="activity"] td[data-label="What"]`))); got != "Signed in" {
		t.Errorf("latest activity %q, want Signed in", got)
	}
	// The agent's navigation has no admin links.
	nav := value(t, ctx, "nav", chromedp.Text(chromedp.CSS(`nav.nav`)))
	if strings.Contains(nav, "Users") {
		t.Errorf("agent navigation %q offers Users", nav)
	}
	step(t, ctx, "sign out",
		chromedp.Click(chromedp.CSS(`[data-testid="logout"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
	)
	if got := value(t, ctx, "flash", chromedp.Text(chromedp.CSS(`[data-testid="flash"]`))); got != "You have signed out." {
		t.Errorf("after signing out the page says %q", got)
	}
	if n := len(ts.events("auth.logout")); n != 1 {
		t.Errorf("got %d logout events, want 1", n)
	}
	// The signed-out browser cannot go back in.
	step(t, ctx, "reopen the dashboard",
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
	)
}

// TestBrowserFormUsableAfterBack: a form sent once and left is usable
// again when Back restores the page from the browser's cache, as a
// submitted form would otherwise refuse every further click.
func TestBrowserFormUsableAfterBack(t *testing.T) {
	ts := newTestServer(t)
	ctx := newBrowser(t)
	signInInBrowser(t, ctx, ts, "agent@example.com", db.RoleAgent)
	step(t, ctx, "open a payout form",
		chromedp.Navigate(ts.URL+"/payouts/new/fedapay"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="payout-form"]`)),
	)
	// As the page is when restored: marked sent, its button disabled.
	restored := value(t, ctx, "restore the page", chromedp.Evaluate[bool](`(function () {
		var form = document.querySelector('[data-testid="payout-form"]');
		form.dataset.submitted = "1";
		form.querySelector("button[type=submit]").setAttribute("aria-disabled", "true");
		window.dispatchEvent(new PageTransitionEvent("pageshow", {persisted: true}));
		return !form.dataset.submitted && !form.querySelector("button[type=submit]").hasAttribute("aria-disabled");
	})()`))
	if !restored {
		t.Error("a form restored by Back stays marked as sent")
	}
}

// TestBrowserPhoneTablesStack: on a phone each table shows its rows as
// cards, the cells that matter in sight; a wide window keeps the table.
func TestBrowserPhoneTablesStack(t *testing.T) {
	ts := newTestServerWith(t, false)
	// One failed, for the overview's failure reasons.
	failed := ts.seedPayout()
	store, ev := db.NewPayouts(ts.DB), db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.status_changed"}
	for _, ch := range []db.Change{{To: db.StatusSubmitting, FromProvider: true},
		{To: db.StatusFailed, FromProvider: true, ErrorCode: "payout_declined", ErrorMessage: "The mobile money operator declined the payout."}} {
		if err := store.Change(t.Context(), failed.ID, ch, ev); err != nil {
			t.Fatal(err)
		}
	}
	// One made through the form, with a reference as long as they come.
	agent := ts.as(db.RoleAgent)
	agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), validForms(ts)[providers.FedaPay])
	ctx := newBrowser(t)
	step(t, ctx, "open the app", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)))
	// Where the two labelled cells of the first row end, where the box
	// showing the table ends (beyond it a cell is cut off), and the header
	// row's height (none when stacked).
	const layout = `((table, a, b) => {
		const t = document.querySelector('[data-testid="' + table + '"]');
		const cell = l => t.querySelector('tbody tr td[data-label="' + l + '"]').getBoundingClientRect().right;
		const box = Math.min(window.innerWidth, (t.closest('.table-wrap') || t).getBoundingClientRect().right);
		return [cell(a), cell(b), box, t.querySelector('thead').getBoundingClientRect().height];
	})`
	signed := ""
	for _, page := range []struct {
		role, path, table string
		cells             [2]string
	}{
		// The last column too: a long reference once pushed it out of a
		// desktop window.
		{db.RoleAgent, "/payouts", "payouts", [2]string{"Status", "By"}},
		{db.RoleAgent, "/", "activity", [2]string{"What", "From"}},
		{db.RoleAdmin, "/users", "users", [2]string{"Email", "Status"}},
		{db.RoleAdmin, "/overview", "overview-totals-table", [2]string{"Status", "Amount"}},
		{db.RoleAdmin, "/overview", "overview-failures-table", [2]string{"Message", "Payouts"}},
	} {
		if page.role != signed {
			if signed != "" {
				// Reopened, the sign-in page has no "signed out" flash that
				// signInOnLoginPage would take for its answer.
				step(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`[data-testid="logout"]`)),
					chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
					chromedp.Navigate(ts.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)))
			}
			signInOnLoginPage(t, ctx, page.role+"@example.com", page.role)
			signed = page.role
		}
		for _, tt := range []struct {
			width   int64
			stacked bool
		}{{390, true}, {1280, false}} {
			step(t, ctx, "open "+page.path, chromedp.EmulateViewport(tt.width, 800), chromedp.Navigate(ts.URL+page.path),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid="`+page.table+`"]`)))
			js := fmt.Sprintf("%s(%q, %q, %q)", layout, page.table, page.cells[0], page.cells[1])
			got := value(t, ctx, "layout", chromedp.Evaluate[[]float64](js))
			a, b, width, header := got[0], got[1], got[2], got[3]
			if a > width || b > width {
				t.Errorf("%s, %d px wide: %s ends at %.0f px and %s at %.0f px, beyond %.0f px", page.path, tt.width, page.cells[0], a, page.cells[1], b, width)
			}
			if stacked := header < 2; stacked != tt.stacked {
				t.Errorf("%s, %d px wide: header row %.0f px high, want stacked %v", page.path, tt.width, header, tt.stacked)
			}
		}
	}
}
