package web_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/web"
)

const cookieName = "payoutdesk_session"

func TestLoginLogout(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()

	r := c.get("/")
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/login?next=%2F")

	r = c.get("/login?next=%2F")
	wantStatus(t, r, http.StatusOK)
	if n := r.doc(t).Find(`[data-testid="login-form"] input[name="next"][value="/"]`).Length(); n != 1 {
		t.Errorf("login form keeps next=/ in %d hidden inputs, want 1", n)
	}

	r = c.postForm("/login", url.Values{"email": {"Agent@Example.com"}, "password": {testPassword}, "next": {"/users"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/users")

	r = c.get("/")
	wantStatus(t, r, http.StatusOK)
	doc := r.doc(t)
	if got := doc.Find(`[data-testid="dashboard-email"]`).Text(); got != "agent@example.com" {
		t.Errorf("dashboard email = %q, want agent@example.com", got)
	}
	if got := doc.Find(`[data-testid="dashboard-role"]`).Text(); got != "agent" {
		t.Errorf("dashboard role = %q, want agent", got)
	}
	if cell := doc.Find(`[data-testid="activity"] td[data-label="What"]`).First(); cell.Text() != "Signed in" || cell.AttrOr("data-action", "") != "auth.login.succeeded" {
		t.Errorf("latest activity = %q (%s), want Signed in (auth.login.succeeded)", cell.Text(), cell.AttrOr("data-action", ""))
	}

	r = c.postForm("/logout", nil)
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/login?signed_out=1")
	if got := c.cookie(cookieName); got != "" {
		t.Errorf("session cookie after logout = %q, want none", got)
	}
	wantStatus(t, c.get("/"), http.StatusSeeOther)

	logins, logouts := ts.events("auth.login.succeeded"), ts.events("auth.logout")
	agent := ts.Users[db.RoleAgent]
	if len(logins) != 1 || len(logouts) != 1 {
		t.Fatalf("got %d login and %d logout events, want 1 each", len(logins), len(logouts))
	}
	for _, e := range []db.Event{logins[0], logouts[0]} {
		if e.Actor.Type != db.ActorUser || e.Actor.ID != strconv.FormatInt(agent.ID, 10) || e.Actor.Email != agent.Email ||
			e.Actor.Role != db.RoleAgent || e.TargetType != "user" || e.Outcome != db.OutcomeSuccess ||
			e.Origin.IP != "127.0.0.1" || e.Origin.UserAgent != "payoutdesk-test" || len(e.Origin.RequestID) != 16 {
			t.Errorf("%s event = %+v, want the agent as actor and target, with IP, user agent and request id", e.Action, e)
		}
	}
}

func TestLoginFailureSaysNothingAboutTheEmail(t *testing.T) {
	ts := newTestServer(t)
	var texts []string
	for _, email := range []string{"agent@example.com", "nobody@example.com"} {
		r := ts.client().login(email, "wrong password!!")
		wantStatus(t, r, http.StatusUnprocessableEntity)
		doc := r.doc(t)
		texts = append(texts, strings.TrimSpace(doc.Find(`[data-testid="login-error"]`).Text()))
		// The email is kept: the cursor waits in the password.
		if doc.Find(`input[name="password"][autofocus]`).Length() != 1 || doc.Find(`input[name="email"][autofocus]`).Length() != 0 {
			t.Error("after a failed sign-in the focus is not on the password")
		}
		// The title says so first, as every refused form's does: it is what
		// a screen reader reads of the page that came back.
		if title := doc.Find("title").Text(); !strings.HasPrefix(title, "Error: Sign in") {
			t.Errorf("after a failed sign-in the title is %q, want it to start with %q", title, "Error: Sign in")
		}
	}
	if texts[0] != "Email or password is incorrect." || texts[1] != texts[0] {
		t.Errorf("errors for a known and an unknown email: %q, %q; want the same generic message", texts[0], texts[1])
	}
	failed := ts.events("auth.login.failed")
	if len(failed) != 2 {
		t.Fatalf("got %d failed-login events, want 2", len(failed))
	}
	if f := failed[1]; f.Outcome != db.OutcomeFailure || f.Actor.Type != db.ActorAnonymous || f.Details["email"] != "nobody@example.com" {
		t.Errorf("failed-login event = %+v, want an anonymous failure naming the email tried", f)
	}
	if strings.Contains(failed[0].DetailsJSON, "wrong password") {
		t.Error("the password tried was written to the audit log")
	}

	// An empty form and a malformed email are refused before any lookup.
	for _, form := range []url.Values{{}, {"email": {"not-an-email"}, "password": {"x"}}} {
		r := ts.client().postForm("/login", form)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if title := r.doc(t).Find("title").Text(); !strings.HasPrefix(title, "Error: Sign in") {
			t.Errorf("after a refused sign-in form the title is %q, want it to start with %q", title, "Error: Sign in")
		}
	}
}

func TestLoginThrottledPerAccountAndIP(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	for i := 1; i <= 4; i++ {
		wantStatus(t, c.login("manager@example.com", "wrong password!!"), http.StatusUnprocessableEntity)
	}
	r := c.login("manager@example.com", "wrong password!!")
	wantStatus(t, r, http.StatusTooManyRequests)
	if msg := r.doc(t).Find(`[data-testid="login-error"]`).Text(); !strings.Contains(msg, "try again in 30 s") {
		t.Errorf("fifth failure says %q, want it to say try again in 30 s", msg)
	}
	// Even the right password waits, and says for how long.
	r = c.login("manager@example.com", testPassword)
	wantStatus(t, r, http.StatusTooManyRequests)
	if msg := r.doc(t).Find(`[data-testid="login-error"]`).Text(); !strings.Contains(msg, "Try again in 30 s") || r.Header.Get("Retry-After") != "30" {
		t.Errorf("locked login says %q (Retry-After %q), want Try again in 30 s", msg, r.Header.Get("Retry-After"))
	}
	// Other accounts from the same IP are not locked yet.
	wantStatus(t, ts.client().login("agent@example.com", testPassword), http.StatusSeeOther)

	ts.Clock.Advance(31 * time.Second)
	wantStatus(t, c.login("manager@example.com", testPassword), http.StatusSeeOther)

	// Twenty failures from one IP across many accounts lock the IP.
	for i := range 20 {
		ts.client().login("someone"+strconv.Itoa(i)+"@example.com", "wrong password!!")
	}
	r = ts.client().login("admin@example.com", testPassword)
	wantStatus(t, r, http.StatusTooManyRequests)
}

// An IPv6 host commonly holds a whole /64: its failures count together,
// whichever of its addresses each came from.
func TestLoginThrottlePerIPv6Network(t *testing.T) {
	ts := newTestServerConfig(t, false, func(c *web.Config) { c.TrustProxy = true })
	from := func(ip, email, password string) response {
		t.Helper()
		headers := ts.client().sameOrigin()
		headers["X-Forwarded-For"] = ip
		return ts.client().postWith("/login", url.Values{"email": {email}, "password": {password}}, headers)
	}
	for i := range 20 {
		r := from(fmt.Sprintf("2001:db8:7:9::%x", i+1), "someone"+strconv.Itoa(i)+"@example.com", "wrong password!!")
		want := http.StatusUnprocessableEntity
		if i == 19 {
			want = http.StatusTooManyRequests // the failure that reaches the limit says so
		}
		wantStatus(t, r, want)
	}
	wantStatus(t, from("2001:db8:7:9:ffff::1", "admin@example.com", testPassword), http.StatusTooManyRequests)
	// The next /64 is someone else.
	wantStatus(t, from("2001:db8:7:a::1", "admin@example.com", testPassword), http.StatusSeeOther)
}

func TestSessionIdleAndAbsoluteExpiry(t *testing.T) {
	ts := newTestServer(t)

	// Activity every 20 minutes keeps a session alive past the idle limit.
	c := ts.as(db.RoleAgent)
	for range 3 {
		ts.Clock.Advance(20 * time.Minute)
		wantStatus(t, c.get("/"), http.StatusOK)
	}
	// 31 idle minutes end it.
	ts.Clock.Advance(31 * time.Minute)
	r := c.get("/")
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/login?expired=1&next=%2F")
	if got := ts.events("auth.session.expired"); len(got) != 1 || got[0].TargetID != strconv.FormatInt(ts.Users[db.RoleAgent].ID, 10) ||
		got[0].Details["email"] != "agent@example.com" {
		t.Errorf("expiry events = %+v, want one for the agent", got)
	}
	r = c.get("/login?expired=1&next=%2F")
	if msg := r.doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "session expired") {
		t.Errorf("login page after expiry says %q, want a session-expired notice", msg)
	}

	// However active, a session ends 12 hours after sign-in.
	c = ts.as(db.RoleManager)
	for range 12*3 - 1 {
		ts.Clock.Advance(20 * time.Minute)
		wantStatus(t, c.get("/"), http.StatusOK)
	}
	ts.Clock.Advance(21 * time.Minute)
	wantStatus(t, c.get("/"), http.StatusSeeOther)
	if got := len(ts.events("auth.session.expired")); got != 2 {
		t.Errorf("got %d expiry events, want 2", got)
	}
}

// With a short idle limit, a request every quarter of it keeps the
// session alive however long; the limit without one ends it.
func TestShortIdleLimitKeepsActiveSessions(t *testing.T) {
	ts := newTestServerConfig(t, false, func(c *web.Config) { c.SessionIdle = 20 * time.Second })
	c := ts.as(db.RoleAgent)
	for i := range 12 {
		ts.Clock.Advance(5 * time.Second)
		if r := c.get("/"); r.StatusCode != http.StatusOK {
			t.Fatalf("after %d s of a request every 5 s: status %d, want 200", 5*(i+1), r.StatusCode)
		}
	}
	ts.Clock.Advance(21 * time.Second)
	wantStatus(t, c.get("/"), http.StatusSeeOther)
}

// TestPollingDoesNotKeepASessionAlive: a payout page left open polls every
// two seconds by itself; that is nobody's activity, so the session still
// idles out, and the next poll sends the page to the login form.
func TestPollingDoesNotKeepASessionAlive(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	id := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	path := "/payouts/" + strconv.FormatInt(id, 10)
	page := agent.get(path).doc(t)
	pollURL, _ := page.Find(`#live`).Attr("hx-get")
	headers, _ := page.Find(`#live`).Attr("hx-headers")
	var extra map[string]string
	if err := json.Unmarshal([]byte(headers), &extra); err != nil || len(extra) == 0 {
		t.Fatalf("the polling element's hx-headers %q: %v", headers, err)
	}
	extra["HX-Current-URL"] = ts.URL + path // as htmx sends it
	poll := func() response { t.Helper(); return agent.poll(pollURL, extra) }
	for range 3 {
		ts.Clock.Advance(9 * time.Minute)
		wantStatus(t, poll(), http.StatusNoContent) // nothing new
	}
	ts.Clock.Advance(5 * time.Minute) // 32 minutes since the agent last did anything
	r := poll()
	// After signing in again, the agent is back on the payout's page.
	if want := "/login?expired=1&next=" + url.QueryEscape(path); r.StatusCode != http.StatusUnauthorized || r.Header.Get("HX-Redirect") != want {
		t.Errorf("poll after 32 idle minutes: status %d, HX-Redirect %q; want 401 to %q", r.StatusCode, r.Header.Get("HX-Redirect"), want)
	}
}

func TestSessionIDChangesAtLogin(t *testing.T) {
	ts := newTestServer(t)
	victim := ts.client()
	// An attacker plants a session id of their choosing before the login.
	planted := strings.Repeat("A", 43)
	victim.setCookie(cookieName, planted)
	wantStatus(t, victim.login("admin@example.com", testPassword), http.StatusSeeOther)
	got := victim.cookie(cookieName)
	if got == "" || got == planted {
		t.Fatalf("session cookie after login = %q, want a fresh id", got)
	}
	attacker := ts.client()
	attacker.setCookie(cookieName, planted)
	wantStatus(t, attacker.get("/users"), http.StatusSeeOther)

	// A second login from the same browser rotates the id again and ends the
	// earlier session.
	first := got
	wantStatus(t, victim.login("admin@example.com", testPassword), http.StatusSeeOther)
	if victim.cookie(cookieName) == first {
		t.Error("a second login kept the session id")
	}
	old := ts.client()
	old.setCookie(cookieName, first)
	wantStatus(t, old.get("/"), http.StatusSeeOther)
}

// TestSignInOverAnotherSessionEndsItOnRecord: signing in as the agent in a
// browser where the manager is signed in ends the manager's session, and
// the log says so (it is an access change), before the agent's sign-in.
// A planted id that was never signed in ends no session worth an event.
func TestSignInOverAnotherSessionEndsItOnRecord(t *testing.T) {
	ts := newTestServer(t)
	browser := ts.as(db.RoleManager)
	managerCookie := browser.cookie(cookieName)
	wantStatus(t, browser.login("agent@example.com", testPassword), http.StatusSeeOther)
	manager := ts.Users[db.RoleManager]
	ended := ts.events("auth.logout")
	if len(ended) != 1 || ended[0].TargetID != strconv.FormatInt(manager.ID, 10) || ended[0].Actor.Email != manager.Email ||
		!strings.Contains(ended[0].Reason, "agent@example.com") {
		t.Fatalf("the manager's session ended with events %+v, want one auth.logout of the manager naming the agent", ended)
	}
	if in := ts.events("auth.login.succeeded"); in[len(in)-1].Seq < ended[0].Seq || in[len(in)-1].Actor.Email != "agent@example.com" {
		t.Errorf("the agent's sign-in is recorded at seq %d, the manager's sign-out at %d: want the sign-out first", in[len(in)-1].Seq, ended[0].Seq)
	}
	old := ts.client()
	old.setCookie(cookieName, managerCookie)
	wantStatus(t, old.get("/"), http.StatusSeeOther)

	planted := ts.client()
	planted.setCookie(cookieName, strings.Repeat("B", 43))
	wantStatus(t, planted.login("admin@example.com", testPassword), http.StatusSeeOther)
	if n := len(ts.events("auth.logout")); n != 1 {
		t.Errorf("%d auth.logout events after a sign-in over a planted id, want still 1", n)
	}
}

// The session cookie is never readable by scripts nor sent with another
// site's forms; served over HTTPS (however the base URL spells its
// scheme), it is Secure and __Host- prefixed, and the answers ask for
// HTTPS from then on.
func TestSessionCookieFlags(t *testing.T) {
	for _, tt := range []struct {
		scheme string
		secure bool
	}{{"http://", false}, {"https://", true}, {"HTTPS://", true}} {
		t.Run(tt.scheme, func(t *testing.T) {
			ts := newTestServerConfig(t, false, func(c *web.Config) {
				c.BaseURL = tt.scheme + strings.TrimPrefix(c.BaseURL, "http://")
			})
			r := ts.client().login("agent@example.com", testPassword)
			wantStatus(t, r, http.StatusSeeOther)
			cookies := r.Cookies()
			if len(cookies) != 1 {
				t.Fatalf("login set %d cookies, want 1: %v", len(cookies), r.Header["Set-Cookie"])
			}
			ck, name := cookies[0], cookieName
			if tt.secure {
				name = "__Host-payoutdesk"
			}
			if ck.Name != name || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || ck.Secure != tt.secure {
				t.Errorf("session cookie %q, want %s, HttpOnly, SameSite=Lax, Path=/, no Domain, Secure %v", r.Header.Get("Set-Cookie"), name, tt.secure)
			}
			if hsts := r.Header.Get("Strict-Transport-Security"); (hsts != "") != tt.secure {
				t.Errorf("Strict-Transport-Security = %q, want it only over HTTPS", hsts)
			}
		})
	}
}

func TestDisabledUserSessionEndsAtOnce(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	wantStatus(t, agent.get("/"), http.StatusOK)

	admin := ts.as(db.RoleAdmin)
	id := strconv.FormatInt(ts.Users[db.RoleAgent].ID, 10)
	// Disabling takes a second step that names whom it disables.
	button := admin.get("/users").doc(t).Find(`[data-testid="user-` + id + `"] details[data-testid="disable-action"] [data-testid="disable"]`)
	if got := strings.TrimSpace(button.Text()); got != "Disable agent@example.com" {
		t.Errorf("the disable button, inside its confirmation, says %q", got)
	}
	r := admin.postForm("/users/"+id+"/disable", nil)
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/users")
	r = admin.get("/users")
	if msg := r.doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "agent@example.com is disabled") {
		t.Errorf("flash after disabling = %q, want it to name the user", msg)
	}

	wantStatus(t, agent.get("/"), http.StatusSeeOther)
	wantStatus(t, ts.client().login("agent@example.com", testPassword), http.StatusUnprocessableEntity)

	ev := ts.events("user.disabled")
	if len(ev) != 1 || ev[0].TargetID != id || ev[0].Actor.Email != "admin@example.com" || ev[0].Details["sessions_revoked"] != float64(1) {
		t.Errorf("disable events = %+v, want one by the admin revoking one session", ev)
	}
	// A second click says so and changes nothing; no such user is 404.
	wantLocation(t, admin.postForm("/users/"+id+"/disable", nil), "/users")
	if msg := admin.get("/users").doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "agent@example.com is already disabled") {
		t.Errorf("flash after disabling again = %q", msg)
	}
	wantStatus(t, admin.postForm("/users/999999/disable", nil), http.StatusNotFound)
	if n := len(ts.events("user.disabled")); n != 1 {
		t.Errorf("%d disable events, want still 1", n)
	}
	// An admin cannot lock themselves out.
	self := strconv.FormatInt(ts.Users[db.RoleAdmin].ID, 10)
	wantStatus(t, admin.postForm("/users/"+self+"/disable", nil), http.StatusSeeOther)
	wantStatus(t, admin.get("/"), http.StatusOK)
}

func TestCrossSitePostsRefused(t *testing.T) {
	ts := newTestServer(t)
	c := ts.as(db.RoleAdmin)
	tests := []struct {
		name    string
		path    string
		headers map[string]string
	}{
		{"cross-site login", "/login", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"cross-site logout", "/logout", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"foreign origin, no fetch metadata", "/users", map[string]string{"Origin": "https://evil.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.forT(t).postWith(tt.path, url.Values{"email": {"x@example.com"}, "role": {"admin"}, "password": {testPassword}}, tt.headers)
			wantStatus(t, r, http.StatusForbidden)
			if r.doc(t).Find(`[data-testid="error-page"]`).Length() != 1 || !strings.Contains(r.Body, "not sent from a Payout Desk page") || strings.Contains(r.Body, "role") {
				t.Error("the refusal is not the friendly 403 page saying where the form came from")
			}
		})
	}
	// Nothing happened: still signed in, no user created.
	wantStatus(t, c.get("/"), http.StatusOK)
	if _, err := db.NewUsers(ts.DB).ByEmail(t.Context(), "x@example.com"); err == nil {
		t.Error("a cross-site POST created a user")
	}
}

// Every form the app takes refuses a post from another site, before its
// handler runs; only the providers' webhooks, which no browser sends, are
// let through.
func TestEveryFormRefusesCrossSitePosts(t *testing.T) {
	ts := newTestServer(t)
	c := ts.as(db.RoleAdmin)
	fill := strings.NewReplacer("{id}", "1", "{provider}", "kibramoa")
	posts := 0
	for _, r := range ts.App.Routes() {
		method, path, _ := strings.Cut(r.Pattern, " ")
		if method != http.MethodPost || strings.HasPrefix(path, "/webhooks/") {
			continue
		}
		posts++
		path = fill.Replace(path)
		for _, from := range []struct {
			name    string
			headers map[string]string
		}{
			{"cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}},
			{"foreign origin", map[string]string{"Origin": "https://evil.example"}},
		} {
			t.Run(path+" "+from.name, func(t *testing.T) {
				wantStatus(t, c.forT(t).postWith(path, url.Values{"reason": {"a reason long enough"}}, from.headers), http.StatusForbidden)
			})
		}
	}
	if posts < 10 {
		t.Fatalf("only %d form posts among the routes: the walk proves little", posts)
	}
	wantStatus(t, c.get("/"), http.StatusOK)
}

// TestLoginThrottleHoldsAgainstParallelAttempts: attempts sent all at once
// are counted one after another, so no more than the account's limit of
// failures ever reaches the password check.
func TestLoginThrottleHoldsAgainstParallelAttempts(t *testing.T) {
	ts := newTestServer(t)
	var wg sync.WaitGroup
	codes := make([]int, 30)
	for i := range codes {
		wg.Go(func() {
			form := url.Values{"email": {"manager@example.com"}, "password": {"wrong password " + strconv.Itoa(i)}}
			req, err := http.NewRequest(http.MethodPost, ts.URL+"/login", strings.NewReader(form.Encode()))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	if n := len(ts.events("auth.login.failed")); n != 5 {
		t.Errorf("%d failed logins reached the password check, want the account's limit of 5", n)
	}
	throttled := 0
	for _, c := range codes {
		if c == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled != 26 {
		t.Errorf("%d of 30 attempts throttled (codes %v), want 26: four failures, then the fifth locks", throttled, codes)
	}
}

// TestNewUserErrorsReadLikeTheForm: the add-user form's messages name its
// fields as the page labels them, in sentences.
func TestNewUserErrorsReadLikeTheForm(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.as(db.RoleAdmin)
	for _, tt := range []struct {
		form        url.Values
		field, want string
	}{
		{url.Values{"email": {""}, "role": {"agent"}}, "email", "Email is a required field."},
		{url.Values{"email": {"someone"}, "role": {"agent"}}, "email", "Email must be an email address, such as name@example.com."},
		{url.Values{"email": {"new@example.com"}, "role": {"superadmin"}}, "role", "Role must be one of: agent, manager, admin."},
		// A look-alike of agent@example.com, which exists.
		{url.Values{"email": {"\uff41gent@example.com"}, "role": {"agent"}}, "email",
			"The email contains full-width or other look-alike characters (such as ａ): type it again in plain characters."},
	} {
		r := admin.postForm("/users", tt.form)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if got := strings.TrimSpace(r.doc(t).Find(`[data-testid="error-` + tt.field + `"]`).Text()); got != tt.want {
			t.Errorf("%v: %s says %q, want %q", tt.form, tt.field, got, tt.want)
		}
	}
}

// TestFormSentAfterTheSessionEnded: a form sent once the session has idled
// out does nothing, and signing in again leads back to the page it was
// sent from, saying that it was not done.
func TestFormSentAfterTheSessionEnded(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	key := agent.openForm(providers.FedaPay)
	ts.Clock.Advance(31 * time.Minute)
	form := withValues(validForms(ts)[providers.FedaPay], map[string]string{"provider": "fedapay", "idempotency_key": key})
	r := agent.postWith("/payouts", form, map[string]string{"Origin": ts.URL, "Sec-Fetch-Site": "same-origin", "Referer": ts.URL + "/payouts/new/fedapay"})
	wantStatus(t, r, http.StatusSeeOther)
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || loc.Path != "/login" || loc.Query().Get("next") != "/payouts/new/fedapay" || loc.Query().Get("unsent") != "1" {
		t.Fatalf("a form sent after the session ended goes to %q; want the login page, back to the form", r.Header.Get("Location"))
	}
	if msg := agent.get(loc.RequestURI()).doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "was not done") {
		t.Errorf("the login page says %q", msg)
	}
	if ps, err := db.NewPayouts(ts.DB).List(t.Context(), db.PayoutFilter{Limit: 10}); err != nil || len(ps) != 0 {
		t.Errorf("payouts after the refused form: %d, %v", len(ps), err)
	}
	// Signing out of an ended session is simply done.
	r = agent.postForm("/logout", nil)
	wantLocation(t, r, "/login?signed_out=1")
	// A referrer from elsewhere is not followed.
	r = ts.client().postWith("/payouts", form, map[string]string{"Origin": ts.URL, "Sec-Fetch-Site": "same-origin", "Referer": "https://evil.example/payouts/new/fedapay"})
	if loc := r.Header.Get("Location"); strings.Contains(loc, "next=") {
		t.Errorf("a foreign referrer led to %q", loc)
	}
}

// TestResetPasswordAndEnable: an admin gives a user a new password, shown
// once; the old one and the user's sessions end, and a disabled account
// comes back only with the new one.
func TestResetPasswordAndEnable(t *testing.T) {
	ts := newTestServer(t)
	agent, admin := ts.as(db.RoleAgent), ts.as(db.RoleAdmin)
	id := strconv.FormatInt(ts.Users[db.RoleAgent].ID, 10)
	if admin.get("/users").doc(t).Find(`form[action="/users/`+id+`/password"] [data-testid="reset-password"]`).Length() != 1 {
		t.Error("an active user has no New password button")
	}

	// The version the list shows the agent's account at, as its form sends it.
	version := func() string {
		t.Helper()
		v, ok := admin.get("/users").doc(t).Find(`form[action="/users/` + id + `/password"] input[name="version"]`).Attr("value")
		if !ok {
			t.Fatal("the new-password form carries no version")
		}
		return v
	}
	newPassword := func(want string) string {
		t.Helper()
		r := admin.postForm("/users/"+id+"/password", url.Values{"version": {version()}})
		wantStatus(t, r, http.StatusOK)
		doc := r.doc(t)
		if h1 := doc.Find("h1").Text(); h1 != want {
			t.Errorf("the page is titled %q, want %q", h1, want)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Error("the page with the password may be cached")
		}
		return doc.Find(`[data-testid="new-password"]`).Text()
	}
	clicked := version()
	first := newPassword("New password")
	if len(first) < 12 {
		t.Fatalf("new password %q", first)
	}
	// The same form sent again (a double click, a reload) changes nothing:
	// the password shown is the one that works.
	wantLocation(t, admin.postForm("/users/"+id+"/password", url.Values{"version": {clicked}}), "/users")
	wantStatus(t, agent.get("/"), http.StatusSeeOther)
	wantStatus(t, ts.client().login("agent@example.com", testPassword), http.StatusUnprocessableEntity)
	wantStatus(t, ts.client().login("agent@example.com", first), http.StatusSeeOther)

	// A page drawn before the account was disabled gives no new password
	// (which would enable it again), nor does a second click.
	before := version()
	wantStatus(t, admin.postForm("/users/"+id+"/disable", nil), http.StatusSeeOther)
	for _, v := range []string{before, "", "x"} {
		wantLocation(t, admin.postForm("/users/"+id+"/password", url.Values{"version": {v}}), "/users")
		if msg := admin.get("/users").doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "nothing was done") {
			t.Errorf("a new password from a stale form (version %q): %q", v, msg)
		}
	}
	if u, _ := db.NewUsers(ts.DB).Get(t.Context(), ts.Users[db.RoleAgent].ID); !u.Disabled() {
		t.Fatal("a stale new-password form enabled the account")
	}
	if admin.get("/users").doc(t).Find(`[data-testid="user-`+id+`"] [data-testid="enable"]`).Length() != 1 {
		t.Error("a disabled user has no Enable button")
	}
	second := newPassword("User enabled with a new password")
	wantStatus(t, ts.client().login("agent@example.com", first), http.StatusUnprocessableEntity)
	wantStatus(t, ts.client().login("agent@example.com", second), http.StatusSeeOther)

	ev := ts.events("user.password_reset")
	if len(ev) != 2 || ev[0].TargetID != id || ev[0].Actor.Email != "admin@example.com" || ev[0].Details["sessions_revoked"] != float64(1) {
		t.Errorf("reset events = %+v", ev)
	}
	if before, _ := ev[1].Details["before"].(map[string]any); before["disabled"] != true {
		t.Errorf("the enabling reset's event says before %v", ev[1].Details["before"])
	}
	for _, e := range ev {
		if text := fmt.Sprint(e); strings.Contains(text, first) || strings.Contains(text, second) {
			t.Error("the audit event holds the password")
		}
	}

	// Not one's own, and not a user that does not exist.
	self := strconv.FormatInt(ts.Users[db.RoleAdmin].ID, 10)
	wantLocation(t, admin.postForm("/users/"+self+"/password", nil), "/users")
	if msg := admin.get("/users").doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "your own password") {
		t.Errorf("resetting one's own password: %q", msg)
	}
	wantStatus(t, admin.get("/"), http.StatusOK)
	wantStatus(t, admin.postForm("/users/999/password", url.Values{"version": {"0"}}), http.StatusNotFound)
	if n := len(ts.events("user.password_reset")); n != 2 {
		t.Errorf("%d resets audited, want still 2", n)
	}
}

// TestAdminChangesRole: an admin gives another user a new role, which
// applies from their next request without signing them out, and is
// audited with the role before and after. Nobody changes their own role,
// the last active admin keeps theirs, and a form drawn before another
// change is refused.
func TestAdminChangesRole(t *testing.T) {
	ts := newTestServer(t)
	agent, admin := ts.as(db.RoleAgent), ts.as(db.RoleAdmin)
	id := strconv.FormatInt(ts.Users[db.RoleAgent].ID, 10)
	form := func(user string) *goquery.Selection {
		t.Helper()
		f := admin.get("/users").doc(t).Find(`form[action="/users/` + user + `/role"]`)
		if f.Length() != 1 {
			t.Fatalf("user %s has %d change-role forms, want 1", user, f.Length())
		}
		return f
	}
	flash := func() string { return admin.get("/users").doc(t).Find(`[data-testid="flash"]`).Text() }
	version, _ := form(id).Find(`input[name="version"]`).Attr("value")

	wantStatus(t, agent.get("/approvals"), http.StatusForbidden)
	wantLocation(t, admin.postForm("/users/"+id+"/role", url.Values{"version": {version}, "role": {db.RoleManager}}), "/users")
	if msg := flash(); !strings.Contains(msg, "is now manager") {
		t.Errorf("after the change the page says %q", msg)
	}
	// The agent's session goes on, with the new role.
	wantStatus(t, agent.get("/approvals"), http.StatusOK)
	if u, _ := db.NewUsers(ts.DB).Get(t.Context(), ts.Users[db.RoleAgent].ID); u.Role != db.RoleManager {
		t.Errorf("stored role %q, want manager", u.Role)
	}
	ev := ts.events("user.role_changed")
	if len(ev) != 1 || ev[0].TargetID != id || ev[0].Actor.Email != "admin@example.com" {
		t.Fatalf("role events = %+v", ev)
	}
	before, _ := ev[0].Details["before"].(map[string]any)
	after, _ := ev[0].Details["after"].(map[string]any)
	if before["role"] != db.RoleAgent || after["role"] != db.RoleManager {
		t.Errorf("the event says %v → %v, want agent → manager", ev[0].Details["before"], ev[0].Details["after"])
	}

	// Refused, each changing nothing: a form drawn before that change, an
	// unknown role, and one's own role (so an admin cannot demote the last
	// admin, themselves, over HTTP; the store refuses it from anyone below).
	self := strconv.FormatInt(ts.Users[db.RoleAdmin].ID, 10)
	refused := []struct {
		name, user string
		form       url.Values
		want       string
	}{
		{"stale form", id, url.Values{"version": {version}, "role": {db.RoleAgent}}, "nothing was done"},
		{"unknown role", id, url.Values{"role": {"root"}}, "Choose agent, manager or admin"},
		{"own role", self, url.Values{"role": {db.RoleAgent}}, "your own role"},
	}
	for _, tt := range refused {
		wantLocation(t, admin.postForm("/users/"+tt.user+"/role", tt.form), "/users")
		if msg := flash(); !strings.Contains(msg, tt.want) {
			t.Errorf("%s: the page says %q, want %q", tt.name, msg, tt.want)
		}
	}
	if n := len(ts.events("user.role_changed")); n != 1 {
		t.Errorf("%d role changes audited, want still 1", n)
	}
	// The last active admin keeps the role, whoever asks.
	users := db.NewUsers(ts.DB)
	if _, err := users.ChangeRole(t.Context(), ts.Users[db.RoleAdmin].ID, db.AnyVersion, db.RoleManager,
		db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.role_changed"}); !errors.Is(err, db.ErrLastAdmin) {
		t.Errorf("demoting the last active admin: %v, want ErrLastAdmin", err)
	}
	if u, err := users.Get(t.Context(), ts.Users[db.RoleAdmin].ID); err != nil || u.Role != db.RoleAdmin {
		t.Errorf("the last active admin is now %q (%v), want still admin", u.Role, err)
	}

	// A disabled account's new role waits for a new password to enable it,
	// and the page says so rather than "from their next page".
	wantStatus(t, admin.postForm("/users/"+id+"/disable", nil), http.StatusSeeOther)
	disabledForm := form(id)
	if hint := disabledForm.Find(".hint").Text(); !strings.Contains(hint, "once a new password enables it") {
		t.Errorf("a disabled user's role form says %q", hint)
	}
	version, _ = disabledForm.Find(`input[name="version"]`).Attr("value")
	wantLocation(t, admin.postForm("/users/"+id+"/role", url.Values{"version": {version}, "role": {db.RoleAgent}}), "/users")
	if msg := flash(); !strings.Contains(msg, "is now agent") || !strings.Contains(msg, "once a new password enables it") || strings.Contains(msg, "next page") {
		t.Errorf("after changing a disabled user's role the page says %q", msg)
	}
}

// An account change names the account in the audit log, on its list, its
// event page and the admin's dashboard, by the email the event recorded:
// no page shows an account's id, so "user 3" alone says nobody.
func TestAccountChangesNameTheAccountInTheLog(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.as(db.RoleAdmin)
	agent := ts.Users[db.RoleAgent]
	id := strconv.FormatInt(agent.ID, 10)
	version := func() string {
		t.Helper()
		v, _ := admin.get("/users").doc(t).Find(`form[action="/users/` + id + `/role"] input[name="version"]`).Attr("value")
		return v
	}
	wantLocation(t, admin.postForm("/users/"+id+"/role", url.Values{"version": {version()}, "role": {db.RoleManager}}), "/users")
	wantStatus(t, admin.postForm("/users/"+id+"/password", url.Values{"version": {version()}}), http.StatusOK)
	wantLocation(t, admin.postForm("/users/"+id+"/disable", url.Values{}), "/users")

	want := "user " + id + " (" + agent.Email + ")"
	for _, action := range []string{"user.role_changed", "user.password_reset", "user.disabled"} {
		ev := ts.events(action)
		if len(ev) != 1 {
			t.Fatalf("%d %s events, want 1", len(ev), action)
		}
		if ev[0].Details["email"] != agent.Email {
			t.Errorf("%s details %v name no account email", action, ev[0].Details)
		}
		seq := strconv.FormatInt(ev[0].Seq, 10)
		row := admin.get("/audit?action=" + action).doc(t).Find(`[data-testid="event-` + seq + `"] [data-testid="row-target"]`)
		if got := strings.TrimSpace(row.Text()); got != want {
			t.Errorf("%s: the log's target reads %q, want %q", action, got, want)
		}
		if page := admin.get("/audit/" + seq).doc(t).Text(); !strings.Contains(page, want) {
			t.Errorf("%s: the event page does not say %q", action, want)
		}
	}
	if dash := admin.get("/").doc(t).Text(); !strings.Contains(dash, want) {
		t.Errorf("the admin's recent activity does not say %q", want)
	}
}
