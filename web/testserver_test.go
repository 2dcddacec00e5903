package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"payoutdesk/db"
	"payoutdesk/providers/sandbox/sandboxtest"
	"payoutdesk/web"
)

// clock runs with real time, and can be moved ahead for expiry tests.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// testServer is the real router over a real SQLite file, served on loopback.
type testServer struct {
	*httptest.Server
	t     *testing.T
	DB    *db.DB
	App   *web.Server
	Clock *clock
	Users map[string]db.User // by role
	// tweak changed the configuration, kept for restart.
	tweak func(*web.Config)
}

const testPassword = "correct horse battery staple"

// testConfig is the default configuration, with sandbox steps, provider
// calls, reconciliation and checkpoints quick enough for tests.
func testConfig() web.Config {
	cfg := web.DefaultConfig()
	cfg.SandboxStep = 20 * time.Millisecond
	cfg.SendTimeout = 2 * time.Second
	cfg.ReconcileEvery, cfg.ReconcileMax = 50*time.Millisecond, time.Second
	cfg.SendParallel = 8
	cfg.CheckpointEvery = 10
	return cfg
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServerWith(t, true)
}

// newTestServerWith builds the test server, with or without its background
// workers (sending, reconciliation), for tests that step them by hand.
func newTestServerWith(t *testing.T, workers bool) *testServer {
	t.Helper()
	return newTestServerConfig(t, workers, nil)
}

// newTestServerConfig builds the test server with testConfig changed by
// tweak, when set; the base URL, the server's own, is set before tweak.
func newTestServerConfig(t *testing.T, workers bool, tweak func(*web.Config)) *testServer {
	t.Helper()
	return newTestServerLog(t, workers, tweak, nil)
}

// newTestServerLog is newTestServerConfig with the app's log, and the HTTP
// server's own, written to log when it is set.
func newTestServerLog(t *testing.T, workers bool, tweak func(*web.Config), log io.Writer) *testServer {
	t.Helper()
	d, users := newAppDB(t, db.Roles...)
	ts := &testServer{t: t, DB: d, Clock: &clock{}, Users: users, tweak: tweak}
	ts.serve(workers, log)
	return ts
}

// serve builds the app over ts's database and serves it.
func (ts *testServer) serve(workers bool, log io.Writer) {
	ts.t.Helper()
	// The handler needs its base URL before the listener exists, so start
	// an unstarted server, learn its address, then build the app.
	ts.Server = httptest.NewUnstartedServer(nil)
	cfg := testConfig()
	cfg.BaseURL = "http://" + ts.Listener.Addr().String()
	if ts.tweak != nil {
		ts.tweak(&cfg)
	}
	deps := web.Deps{DB: ts.DB, Now: ts.Clock.Now}
	if log != nil {
		deps.Log = slog.New(slog.NewTextHandler(log, nil))
		ts.Config.ErrorLog = slog.NewLogLogger(deps.Log.Handler(), slog.LevelError)
	}
	app, err := web.NewServer(cfg, deps)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.App = app
	ts.t.Cleanup(app.Close)
	if workers {
		ts.startWorkers()
	}
	ts.Config.Handler = app.Handler()
	ts.Start()
	ts.t.Cleanup(ts.Close)
}

// newAppDB opens a new database in a test directory, closed when the test
// ends, holding the sandbox's credentials and a user of each given role
// (ROLE@example.com, with testPassword).
func newAppDB(t *testing.T, roles ...string) (*db.DB, map[string]db.User) {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	users := map[string]db.User{}
	for _, role := range roles {
		u, err := db.NewUsers(d).Create(ctx, role+"@example.com", role, testPassword,
			db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "user.created"})
		if err != nil {
			t.Fatal(err)
		}
		users[role] = u
	}
	// Reuse one sandbox credential set per test binary: RSA key generation
	// would otherwise dominate every test's set-up.
	text, err := sandboxtest.Credentials(t).MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewSettings(d).Init(ctx, web.SandboxCredentialsKey, text); err != nil {
		t.Fatal(err)
	}
	return d, users
}

// client is a browser-like client: a cookie jar, no automatic redirects.
type client struct {
	ts *testServer
	hc *http.Client
}

func (ts *testServer) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{ts: ts, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}}
}

// response is a read response.
type response struct {
	*http.Response
	Body string
}

func (r response) doc(t *testing.T) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (c *client) do(req *http.Request) response {
	c.ts.t.Helper()
	r, err := c.send(req)
	if err != nil {
		c.ts.t.Fatal(err)
	}
	return r
}

// send is do for goroutines other than the test's, which must not call
// t.Fatal: it returns the error instead.
func (c *client) send(req *http.Request) (response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{Response: resp, Body: string(b)}, nil
}

func (c *client) get(path string) response {
	c.ts.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.ts.URL+path, nil)
	if err != nil {
		c.ts.t.Fatal(err)
	}
	return c.do(req)
}

// poll GETs target as a payout page's htmx polling does, with headers.
func (c *client) poll(target string, headers map[string]string) response {
	c.ts.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.ts.URL+target, nil)
	if err != nil {
		c.ts.t.Fatal(err)
	}
	req.Header.Set("HX-Request", "true")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return c.do(req)
}

// postForm posts like a same-origin browser form.
func (c *client) postForm(path string, form url.Values) response {
	c.ts.t.Helper()
	return c.postWith(path, form, c.sameOrigin())
}

func (c *client) postWith(path string, form url.Values, headers map[string]string) response {
	c.ts.t.Helper()
	req, err := c.formRequest(path, form, headers)
	if err != nil {
		c.ts.t.Fatal(err)
	}
	return c.do(req)
}

// formRequest is the POST of form to path, with headers.
func (c *client) formRequest(path string, form url.Values, headers map[string]string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, c.ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "payoutdesk-test")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// sameOrigin is what a browser sends with a form of this site's.
func (c *client) sameOrigin() map[string]string {
	return map[string]string{"Origin": c.ts.URL, "Sec-Fetch-Site": "same-origin"}
}

func (c *client) login(email, password string) response {
	c.ts.t.Helper()
	return c.postForm("/login", url.Values{"email": {email}, "password": {password}})
}

// as returns a client signed in as the test user of role.
func (ts *testServer) as(role string) *client {
	ts.t.Helper()
	c := ts.client()
	if r := c.login(role+"@example.com", testPassword); r.StatusCode != http.StatusSeeOther {
		ts.t.Fatalf("login as %s: status %d, want 303", role, r.StatusCode)
	}
	return c
}

// colleague adds a second agent, colleague@example.com, and returns a
// client signed in as them.
func (ts *testServer) colleague() *client {
	ts.t.Helper()
	if _, err := db.NewUsers(ts.DB).Create(context.Background(), "colleague@example.com", db.RoleAgent, testPassword,
		db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "user.created"}); err != nil {
		ts.t.Fatal(err)
	}
	c := ts.client()
	if r := c.login("colleague@example.com", testPassword); r.StatusCode != http.StatusSeeOther {
		ts.t.Fatalf("login as the colleague: status %d, want 303", r.StatusCode)
	}
	return c
}

func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.ts.URL)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func (c *client) setCookie(name, value string) {
	u, _ := url.Parse(c.ts.URL)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// events returns the audit events with the given action, oldest first.
func (ts *testServer) events(action string) []db.Event {
	ts.t.Helper()
	const limit = 1000
	out, err := db.NewAudit(ts.DB).Search(context.Background(), db.AuditFilter{Action: action, Limit: limit})
	if err != nil {
		ts.t.Fatal(err)
	}
	if len(out) == limit {
		ts.t.Fatalf("%d or more %s events: more than events reads", limit, action)
	}
	slices.Reverse(out)
	return out
}

func wantStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body: %.300s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.Body)
	}
}

func wantLocation(t *testing.T, r response, want string) {
	t.Helper()
	if got := r.Header.Get("Location"); got != want {
		t.Fatalf("%s %s: Location %q, want %q", r.Request.Method, r.Request.URL.Path, got, want)
	}
}

// seedPayout stores a queued Monime payout created by the test agent,
// straight through the store.
func (ts *testServer) seedPayout() db.Payout {
	ts.t.Helper()
	key := "SEED" + strings.ToUpper(strconv.FormatInt(time.Now().UnixNano(), 32))
	p, _, err := db.NewPayouts(ts.DB).Create(context.Background(), db.NewPayout{
		Provider: "monime", Status: db.StatusQueued, AmountMinor: 1000, Currency: "SLE",
		IdempotencyKey: key, Reference: "PD-" + key,
		Fields:          map[string]string{"amount": "10.00", "currency": "SLE", "provider_code": "m17", "account_id": "+23278123456"},
		BeneficiaryName: "+232 •••• 3456", BeneficiaryAccount: "•••• 3456", CreatedBy: ts.Users[db.RoleAgent].ID,
	}, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.created"})
	if err != nil {
		ts.t.Fatal(err)
	}
	return p
}

// forT returns the server bound to a subtest's t, so that helpers fail the
// subtest that called them.
func (ts *testServer) forT(t *testing.T) *testServer {
	cp := *ts
	cp.t = t
	return &cp
}

// forT returns the client bound to a subtest's t.
func (c *client) forT(t *testing.T) *client {
	return &client{ts: c.ts.forT(t), hc: c.hc}
}

// approve approves payout id as this client, from its page, as a manager
// would: the form posts the hash of what the page showed.
func (c *client) approve(id int64) response {
	c.ts.t.Helper()
	path := "/payouts/" + strconv.FormatInt(id, 10)
	seen, ok := c.get(path).doc(c.ts.t).Find(`form[action="` + path + `/approve"] input[name="seen"]`).Attr("value")
	if !ok {
		c.ts.t.Fatalf("no approve form on payout %d", id)
	}
	r := c.postForm(path+"/approve", url.Values{"seen": {seen}})
	wantStatus(c.ts.t, r, http.StatusSeeOther)
	return r
}

// startWorkers runs the server's workers until the test ends.
func (ts *testServer) startWorkers() {
	workCtx, stopWork := context.WithCancel(context.Background())
	waitWork := ts.App.StartWorkers(workCtx)
	ts.t.Cleanup(func() {
		stopWork()
		waitWork()
	})
}

// restart returns a second server over ts's database, configured alike
// and without its workers, as after the process was started again: its
// sandbox is a new one, which knows nothing of what the first one was
// asked. The caller stops ts's workers first.
func (ts *testServer) restart() *testServer {
	ts.t.Helper()
	next := &testServer{t: ts.t, DB: ts.DB, Clock: ts.Clock, Users: ts.Users, tweak: ts.tweak}
	next.serve(false, nil)
	return next
}
