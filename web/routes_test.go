package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"payoutdesk/db"
	"payoutdesk/static"
	"payoutdesk/web"
)

// access lists the expected status for a visitor, an agent, a manager and an
// admin. Every route of the app must appear in accessMatrix: a new route
// fails TestEveryRouteHasAnAccessRow until it joins the table.
type access struct {
	visitor, agent, manager, admin int
}

const (
	ok        = http.StatusOK
	see       = http.StatusSeeOther
	forbidden = http.StatusForbidden
	invalid   = http.StatusUnprocessableEntity
	notFound  = http.StatusNotFound
	// unauthorized is a webhook whose signature does not verify.
	unauthorized = http.StatusUnauthorized
)

var (
	everyone   = access{ok, ok, ok, ok}
	signedIn   = access{see, ok, ok, ok}
	adminsOnly = access{see, forbidden, forbidden, ok}
	managersUp = access{see, forbidden, ok, ok}
)

type matrixRow struct {
	pattern string
	method  string
	// path is a concrete request for the pattern; form is posted if set.
	path string
	form url.Values
	want access
}

func accessMatrix(ts *testServer) []matrixRow {
	agentID := strconv.FormatInt(ts.Users[db.RoleAgent].ID, 10)
	payout := "/payouts/" + strconv.FormatInt(ts.seedPayout().ID, 10)
	return []matrixRow{
		{"GET /healthz", "GET", "/healthz", nil, everyone},
		{"GET /metrics", "GET", "/metrics", nil, everyone},
		{"GET /static/", "GET", "/static/css/app.css", nil, everyone},
		{"POST /webhooks/{provider}", "POST", "/webhooks/kibramoa", url.Values{"status": {"COMPLETED"}}, access{unauthorized, unauthorized, unauthorized, unauthorized}},
		{"/sandbox/", "GET", "/sandbox/", nil, everyone},
		{"GET /cashier/done", "GET", "/cashier/done", nil, everyone},
		{"GET /providers", "GET", "/providers", nil, adminsOnly},
		{"GET /login", "GET", "/login", nil, access{ok, see, see, see}},
		{"POST /login", "POST", "/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong password!!"}}, access{invalid, invalid, invalid, invalid}},
		{"GET /account/password", "GET", "/account/password", nil, signedIn},
		// An empty form: 422 with messages, nothing changed.
		{"POST /account/password", "POST", "/account/password", nil, access{see, invalid, invalid, invalid}},
		{"GET /{$}", "GET", "/", nil, signedIn},
		{"GET /overview", "GET", "/overview", nil, managersUp},
		{"GET /payouts", "GET", "/payouts", nil, signedIn},
		{"GET /payouts/new", "GET", "/payouts/new", nil, signedIn},
		{"GET /payouts/new/{provider}", "GET", "/payouts/new/monime", nil, signedIn},
		// An incomplete form: 422 with messages, nothing created.
		{"POST /payouts", "POST", "/payouts", url.Values{"provider": {"monime"}}, access{see, invalid, invalid, invalid}},
		{"GET /payouts/unknown", "GET", "/payouts/unknown", nil, managersUp},
		{"GET /payouts/{id}", "GET", payout, nil, signedIn},
		{"POST /payouts/{id}/refresh", "POST", payout + "/refresh", nil, access{see, see, see, see}},
		{"POST /payouts/{id}/cashier", "POST", payout + "/cashier", nil, access{see, see, see, see}},
		// The payout's outcome is not unknown: nothing is settled, back to
		// it; agents may not resolve at all.
		{"POST /payouts/{id}/resolve", "POST", payout + "/resolve", url.Values{"outcome": {"paid"}}, access{see, forbidden, see, see}},
		{"GET /approvals", "GET", "/approvals", nil, managersUp},
		// The payout is not waiting for approval: nothing changes, back to it.
		{"POST /payouts/{id}/approve", "POST", payout + "/approve", nil, access{see, forbidden, see, see}},
		{"POST /payouts/{id}/reject", "POST", payout + "/reject", nil, access{see, forbidden, see, see}},
		// Only its creator, the agent, may withdraw it; it is not waiting
		// for approval, so nothing is withdrawn: back to it.
		{"POST /payouts/{id}/withdraw", "POST", payout + "/withdraw", nil, access{see, see, forbidden, forbidden}},
		{"GET /audit", "GET", "/audit", nil, managersUp},
		{"GET /audit/export", "GET", "/audit/export?format=csv", nil, managersUp},
		{"GET /audit/{seq}", "GET", "/audit/1", nil, managersUp},
		{"POST /audit/verify", "POST", "/audit/verify", nil, managersUp},
		{"GET /users", "GET", "/users", nil, adminsOnly},
		// An invalid form: the admin gets 422 rather than creating a user.
		{"POST /users", "POST", "/users", url.Values{"email": {"bad"}, "role": {"agent"}}, access{see, forbidden, forbidden, invalid}},
		// The role it has already: nothing changes, back to the list.
		{"POST /users/{id}/role", "POST", "/users/" + agentID + "/role", url.Values{"role": {"agent"}}, adminsOnly.withAdmin(see)},
		// The admin disables the agent last, after the others were refused.
		// Reset the admin's own password: refused, back to the list.
		{"POST /users/{id}/password", "POST", "/users/" + strconv.FormatInt(ts.Users[db.RoleAdmin].ID, 10) + "/password", nil, adminsOnly.withAdmin(see)},
		{"POST /users/{id}/disable", "POST", "/users/" + agentID + "/disable", nil, adminsOnly.withAdmin(see)},
		// Signing out ends the session: checked last for each role.
		{"POST /logout", "POST", "/logout", nil, access{see, see, see, see}},
	}
}

func (a access) withAdmin(s int) access { a.admin = s; return a }

func TestEveryRouteHasAnAccessRow(t *testing.T) {
	ts := newTestServer(t)
	rows := map[string]bool{}
	for _, r := range accessMatrix(ts) {
		rows[r.pattern] = true
	}
	for _, r := range ts.App.Routes() {
		if !rows[r.Pattern] {
			t.Errorf("route %q (access %s) has no row in accessMatrix", r.Pattern, r.Access)
		}
		delete(rows, r.Pattern)
	}
	for p := range rows {
		t.Errorf("accessMatrix row %q matches no route", p)
	}
}

func TestRouteRoleMatrix(t *testing.T) {
	ts := newTestServer(t)
	clients := map[string]*client{
		"visitor":      ts.client(),
		db.RoleAgent:   ts.as(db.RoleAgent),
		db.RoleManager: ts.as(db.RoleManager),
		db.RoleAdmin:   ts.as(db.RoleAdmin),
	}
	for _, row := range accessMatrix(ts) {
		for _, who := range []string{"visitor", db.RoleAgent, db.RoleManager, db.RoleAdmin} {
			want := map[string]int{"visitor": row.want.visitor, db.RoleAgent: row.want.agent, db.RoleManager: row.want.manager, db.RoleAdmin: row.want.admin}[who]
			t.Run(row.pattern+"/"+who, func(t *testing.T) {
				c := clients[who].forT(t)
				var r response
				if row.method == "GET" {
					r = c.get(row.path)
				} else {
					r = c.postForm(row.path, row.form)
				}
				if r.StatusCode != want {
					t.Errorf("%s %s as %s: status %d, want %d", row.method, row.path, who, r.StatusCode, want)
				}
				if r.StatusCode == forbidden && !strings.Contains(r.Body, `data-testid="error-page"`) {
					t.Errorf("403 is not the friendly error page")
				}
			})
		}
	}
}

func TestHeadersAndErrorPages(t *testing.T) {
	ts := newTestServer(t)
	c := ts.as(db.RoleAgent)

	r := c.get("/")
	wantStatus(t, r, ok)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if got := r.Header.Get("X-Request-Id"); len(got) != 16 {
		t.Errorf("X-Request-Id = %q, want a 16-character id", got)
	}
	if strings.Contains(r.Body, "<script>") || strings.Contains(r.Body, " style=") || strings.Contains(r.Body, " onclick=") {
		t.Error("the page has inline script or style, which the CSP blocks")
	}

	// Assets referenced with their content hash are cached for a year.
	css := static.URL("css/app.css")
	if !strings.Contains(r.Body, css) {
		t.Fatalf("page does not reference %s", css)
	}
	r = c.get(css)
	wantStatus(t, r, ok)
	if got := r.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("hashed asset Cache-Control = %q, want a year, immutable", got)
	}
	if got := c.get("/static/css/app.css").Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("unhashed asset Cache-Control = %q, want no-cache", got)
	}
	wantStatus(t, c.get(static.URL("js/htmx.min.js")), ok)
	wantStatus(t, c.get("/static/"), notFound)
	for _, missing := range []string{"/static/css/nope.css", "/static/%ff", "/static/css"} {
		r := c.get(missing)
		wantStatus(t, r, notFound)
		if r.doc(t).Find(`[data-testid="error-page"]`).Length() != 1 {
			t.Errorf("%s: not the app's 404 page", missing)
		}
	}

	tests := []struct {
		method, path string
		want         int
		allow        string
	}{
		{"GET", "/no/such/page", notFound, ""},
		{"DELETE", "/login", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"PUT", "/users", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, ts.URL+tt.path, nil)
		r := c.do(req)
		wantStatus(t, r, tt.want)
		if r.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, r.Header.Get("Allow"), tt.allow)
		}
		if r.doc(t).Find(`[data-testid="error-page"]`).Length() != 1 {
			t.Errorf("%s %s: not the friendly error page", tt.method, tt.path)
		}
	}

	// A page's address typed with a slash after it leads to the page; an
	// address that is no page stays a 404, and nothing leads off the site.
	for path, want := range map[string]string{
		"/payouts/":              "/payouts",
		"/payouts/?status=paid":  "/payouts?status=paid",
		"/payouts/new/fedapay/":  "/payouts/new/fedapay",
		"/payouts/123/":          "/payouts/123",
		"/no/such/page/":         "",
		"//example.com/":         "",
		"/%2F%2Fexample.com/":    "",
		"/payouts%2F/":           "",
		"/payouts/%2e%2e/login/": "",
	} {
		r := c.get(path)
		if want == "" {
			// The mux itself turns "//x/" into "/x/" (307), which is fine.
			if loc := r.Header.Get("Location"); r.StatusCode != notFound && (r.StatusCode != http.StatusTemporaryRedirect || !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//")) {
				t.Errorf("GET %s: status %d to %q, want 404", path, r.StatusCode, loc)
			}
			continue
		}
		wantStatus(t, r, http.StatusMovedPermanently)
		if got := r.Header.Get("Location"); got != want {
			t.Errorf("GET %s: Location %q, want %q", path, got, want)
		}
	}
}

// With a token configured, /metrics answers only the exact bearer token.
func TestMetricsToken(t *testing.T) {
	const token = "a-long-metrics-token"
	ts := newTestServerConfig(t, false, func(cfg *web.Config) { cfg.MetricsToken = token })
	c := ts.client()
	for _, auth := range []string{"", "Bearer", "Bearer " + token[:len(token)-1], "Bearer " + token + "x", "bearer " + token, token, "Basic " + token} {
		req, err := http.NewRequest(http.MethodGet, ts.URL+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		r := c.do(req)
		if r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" || strings.Contains(r.Body, "go_goroutines") {
			t.Errorf("Authorization %q: status %d, WWW-Authenticate %q", auth, r.StatusCode, r.Header.Get("WWW-Authenticate"))
		}
	}
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if r := c.do(req); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "go_goroutines") {
		t.Errorf("the right token: status %d", r.StatusCode)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	r := c.get("/healthz")
	wantStatus(t, r, ok)
	if r.Body != "ok\n" {
		t.Errorf("healthz body = %q, want ok", r.Body)
	}
	c.get("/login")
	// Methods the server takes but nobody uses share one label: each
	// invented method would otherwise be a series kept for good.
	for i := range 3 {
		req, err := http.NewRequest("X-INVENTED-"+strconv.Itoa(i), ts.URL+"/nowhere", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.do(req)
	}
	r = c.get("/metrics")
	wantStatus(t, r, ok)
	if strings.Contains(r.Body, "X-INVENTED") {
		t.Error("metrics label series with invented methods")
	}
	if !strings.Contains(r.Body, `method="other",route="unmatched"} 3`) {
		t.Error(`metrics lack the 3 invented methods' requests under method="other"`)
	}
	for _, s := range []string{
		`payoutdesk_http_requests_total{code="200",method="GET",route="GET /login"} 1`,
		`payoutdesk_http_request_duration_seconds_bucket{route="GET /healthz"`,
		"go_goroutines",
		"\npayoutdesk_audit_checkpoint_refused 0\n",
		"\npayoutdesk_reconcile_overdue_payouts 0\n",
		"\npayoutdesk_reconcile_overdue_seconds 0\n",
	} {
		if !strings.Contains(r.Body, s) {
			t.Errorf("metrics lack %s", s)
		}
	}
	// Signing in wrote: the writer's batches were timed.
	if _, count, _ := strings.Cut(r.Body, "\npayoutdesk_db_write_batch_seconds_count "); count == "" || strings.HasPrefix(count, "0\n") {
		t.Error("metrics count no write batches")
	}
	// ... and the fsyncs that made them durable.
	if _, count, _ := strings.Cut(r.Body, "\npayoutdesk_db_wal_syncs_total "); count == "" || strings.HasPrefix(count, "0\n") {
		t.Error("metrics count no fsyncs of the WAL")
	}
	ts.DB.R.Close()
	wantStatus(t, c.get("/healthz"), http.StatusServiceUnavailable)
}

func TestAdminAddsUser(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.as(db.RoleAdmin)
	r := admin.postForm("/users", url.Values{"email": {"New.Person@example.com"}, "role": {"manager"}})
	wantStatus(t, r, ok)
	password := r.doc(t).Find(`[data-testid="new-password"]`).Text()
	if len(password) < db.MinPasswordLength {
		t.Fatalf("shown password %q is too short", password)
	}
	// Copy does nothing without JavaScript: it is drawn hidden, and the
	// script shows it.
	if r.doc(t).Find(`[data-copy]:not([hidden])`).Length() != 0 || r.doc(t).Find(`[data-copy][hidden]`).Length() != 1 {
		t.Error("the Copy button is missing, or shows without JavaScript")
	}
	c := ts.client()
	wantStatus(t, c.login("new.person@example.com", password), see)
	if got := c.get("/").doc(t).Find(`[data-testid="dashboard-role"]`).Text(); got != "manager" {
		t.Errorf("new user's role = %q, want manager", got)
	}
	created := ts.events("user.created")
	last := created[len(created)-1]
	if last.Actor.Email != "admin@example.com" || last.Details["email"] != "new.person@example.com" || last.Details["role"] != "manager" {
		t.Errorf("user.created event = %+v, want the admin creating the manager", last)
	}
	if strings.Contains(last.DetailsJSON, password) {
		t.Error("the password reached the audit log")
	}

	tests := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"duplicate email", url.Values{"email": {"NEW.PERSON@example.com"}, "role": {"agent"}}, "email"},
		{"bad email", url.Values{"email": {"<script>"}, "role": {"agent"}}, "email"},
		{"unknown role", url.Values{"email": {"x@example.com"}, "role": {"root"}}, "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := admin.forT(t).postForm("/users", tt.form)
			wantStatus(t, r, invalid)
			doc := r.doc(t)
			if doc.Find(`[data-testid="error-`+tt.field+`"]`).Text() == "" {
				t.Errorf("no error next to %s", tt.field)
			}
			// The form is below the users table: the title says it was
			// refused, and the cursor waits in the field to mend.
			if title := doc.Find("title").Text(); !strings.HasPrefix(title, "Error: ") {
				t.Errorf("title %q does not say the form was refused", title)
			}
			if doc.Find(`[autofocus]`).Length() != 1 || doc.Find(`[name="`+tt.field+`"][autofocus]`).Length() != 1 {
				t.Errorf("the focus is not on %s alone", tt.field)
			}
			if !strings.Contains(r.Body, `value="`+tt.form.Get("email")+`"`) && !strings.Contains(tt.form.Get("email"), "<") {
				t.Error("the form did not keep the typed email")
			}
		})
	}
}

// TestNavigationOffersWhatEachRoleMayOpen: the top bar shows each role
// every page its role opens, and no page that would answer 403.
func TestNavigationOffersWhatEachRoleMayOpen(t *testing.T) {
	ts := newTestServer(t)
	want := map[string][]string{
		db.RoleAgent:   {"/", "/payouts", "/payouts/new"},
		db.RoleManager: {"/", "/overview", "/payouts", "/payouts/new", "/approvals", "/payouts/unknown", "/audit"},
		db.RoleAdmin:   {"/", "/overview", "/payouts", "/payouts/new", "/approvals", "/payouts/unknown", "/audit", "/users", "/providers"},
	}
	for _, role := range db.Roles {
		c := ts.as(role)
		var links []string
		c.get("/").doc(t).Find(`nav.nav a:not([target])`).Each(func(_ int, a *goquery.Selection) {
			links = append(links, a.AttrOr("href", ""))
		})
		if diff := cmp.Diff(want[role], links); diff != "" {
			t.Errorf("%s's navigation (-want +got):\n%s", role, diff)
		}
		for _, href := range links {
			wantStatus(t, c.get(href), http.StatusOK)
		}
	}
}

// /metrics shows reconciliation's backlog: the payouts whose check is due,
// and how long the longest has waited, by the server's clock.
func TestMetricsShowOverdueChecks(t *testing.T) {
	ts := newTestServerWith(t, false) // no worker to check them meanwhile
	store := db.NewPayouts(ts.DB)
	ctx := context.Background()
	ev := db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.status_changed"}
	now := ts.Clock.Now()
	for _, due := range []time.Duration{-90 * time.Second, -time.Second, time.Hour} {
		p := ts.seedPayout()
		if err := store.Change(ctx, p.ID, db.Change{To: db.StatusSubmitting}, ev); err != nil {
			t.Fatal(err)
		}
		if err := store.Change(ctx, p.ID, db.Change{To: db.StatusProcessing, CheckAt: now.Add(due)}, ev); err != nil {
			t.Fatal(err)
		}
	}
	ts.Clock.Advance(10 * time.Second)
	body := ts.client().get("/metrics").Body
	if !strings.Contains(body, "\npayoutdesk_reconcile_overdue_payouts 2\n") {
		t.Errorf("metrics do not count the 2 payouts due: %q", grepLines(body, "overdue"))
	}
	_, rest, _ := strings.Cut(body, "\npayoutdesk_reconcile_overdue_seconds ")
	age, err := strconv.ParseFloat(strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0]), 64)
	if err != nil || age < 100 || age > 160 {
		t.Errorf("the oldest overdue check waited %v s (%v) by the metrics; want about 100", age, err)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) []string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}
