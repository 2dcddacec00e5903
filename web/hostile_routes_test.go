package web_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/providers/fedapay"
	"payoutdesk/providers/kibramoa"
	"payoutdesk/providers/monime"
	"payoutdesk/providers/sandbox/sandboxtest"
	"payoutdesk/providers/smartglocal"
)

// lockedBuffer is a log the server writes from its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// hostileRoute is how the sweep reaches one route: a valid request, the
// address with its wildcard replaced, the query parameters and form fields
// it reads.
type hostileRoute struct {
	method string
	// path is a valid address; at, when set, is the address with id in
	// place of its wildcard.
	path string
	// others are further valid addresses sent the same queries and forms
	// (the same decision on a payout in another state).
	others []string
	at     func(id string) string
	params []string
	form   url.Values
	// page is set when refusals are the app's pages (not a provider's
	// API, a webhook's plain answer or an asset).
	page bool
	// namesFiles is set for a page that names a file of the server's by
	// design (where the audit checkpoints are kept).
	namesFiles bool
}

// sweep holds the test server, a client per role and what every answer is
// checked against.
type sweep struct {
	ts *testServer
	as map[string]*client
	// requests counts the requests sent.
	requests int
}

// hostileRoutes lists how to reach every route; TestHostileInputOnEveryRoute
// fails for a route missing here.
func hostileRoutes(ts *testServer, payout, pending, unknown, victim int64) map[string]hostileRoute {
	po := func(suffix string) func(string) string {
		return func(id string) string { return "/payouts/" + id + suffix }
	}
	user := func(suffix string) func(string) string {
		return func(id string) string { return "/users/" + id + suffix }
	}
	p, pend, unk, v := strconv.FormatInt(payout, 10), strconv.FormatInt(pending, 10), strconv.FormatInt(unknown, 10), strconv.FormatInt(victim, 10)
	auditParams := []string{"from", "to", "actor", "action", "provider", "payout", "outcome", "q", "views", "size", "before"}
	return map[string]hostileRoute{
		"GET /healthz":      {method: "GET", path: "/healthz"},
		"GET /metrics":      {method: "GET", path: "/metrics"},
		"GET /static/":      {method: "GET", path: "/static/css/app.css", params: []string{"v"}},
		"/sandbox/":         {path: "/sandbox/"},
		"GET /cashier/done": {method: "GET", path: "/cashier/done", params: []string{"status", "reference", "session"}, page: true},
		"GET /providers":    {method: "GET", path: "/providers", page: true},
		"POST /webhooks/{provider}": {method: "POST", path: "/webhooks/kibramoa",
			at: func(id string) string { return "/webhooks/" + id }},
		"GET /login":            {method: "GET", path: "/login", params: []string{"next", "unsent", "expired", "signed_out"}, page: true},
		"POST /login":           {method: "POST", path: "/login", form: url.Values{"email": {"nobody@example.com"}, "password": {"not the password"}, "next": {"/payouts"}}, page: true},
		"POST /logout":          {method: "POST", path: "/logout", page: true},
		"GET /account/password": {method: "GET", path: "/account/password", page: true},
		// A new password refused whatever else is sent: hostile values
		// never reach the comparison, which would lock the account.
		"POST /account/password": {method: "POST", path: "/account/password", form: url.Values{"current": {"not the password"}, "password": {"short"}, "confirm": {"other"}}, page: true},
		"GET /{$}":               {method: "GET", path: "/", page: true},
		"GET /overview":          {method: "GET", path: "/overview", params: []string{"period", "from", "to"}, page: true},
		"GET /payouts":           {method: "GET", path: "/payouts", params: []string{"provider", "status", "from", "to", "created_by", "q", "before"}, page: true},
		"GET /payouts/new":       {method: "GET", path: "/payouts/new", page: true},
		"GET /payouts/new/{provider}": {method: "GET", path: "/payouts/new/monime", params: []string{"copy"}, page: true,
			at: func(id string) string { return "/payouts/new/" + id }},
		// A valid form, so that what passes is created: once, whatever
		// else is sent with its key.
		"POST /payouts": {method: "POST", path: "/payouts", page: true, form: withValues(validForms(ts)[providers.Monime],
			map[string]string{"provider": "monime", "idempotency_key": hostileKey})},
		"GET /payouts/unknown":        {method: "GET", path: "/payouts/unknown", params: []string{"before"}, page: true},
		"GET /payouts/{id}":           {method: "GET", path: po("")(p), at: po(""), params: []string{"notice", "shown", "v", "cashier"}, page: true},
		"POST /payouts/{id}/refresh":  {method: "POST", path: po("/refresh")(p), at: po("/refresh"), page: true},
		"POST /payouts/{id}/cashier":  {method: "POST", path: po("/cashier")(p), at: po("/cashier"), page: true},
		"POST /payouts/{id}/resolve":  {method: "POST", path: po("/resolve")(unk), others: []string{po("/resolve")(p)}, at: po("/resolve"), form: url.Values{"outcome": {"paid"}, "reason": {"checked with the provider by phone"}}, page: true},
		"GET /approvals":              {method: "GET", path: "/approvals", params: []string{"after"}, page: true},
		"POST /payouts/{id}/approve":  {method: "POST", path: po("/approve")(pend), others: []string{po("/approve")(p)}, at: po("/approve"), form: url.Values{"seen": {"0000"}}, page: true},
		"POST /payouts/{id}/reject":   {method: "POST", path: po("/reject")(pend), others: []string{po("/reject")(p)}, at: po("/reject"), form: url.Values{"reason": {"x"}}, page: true},
		"POST /payouts/{id}/withdraw": {method: "POST", path: po("/withdraw")(pend), others: []string{po("/withdraw")(p)}, at: po("/withdraw"), form: url.Values{"reason": {"x"}}, page: true},
		"GET /audit":                  {method: "GET", path: "/audit", params: auditParams, page: true},
		// Up to a day long past, so that what it exports stays short: the
		// filters are those of the log's page, swept there.
		"GET /audit/export":         {method: "GET", path: "/audit/export?format=csv&to=2000-01-01", params: append([]string{"format"}, auditParams...), page: true},
		"GET /audit/{seq}":          {method: "GET", path: "/audit/1", at: func(id string) string { return "/audit/" + id }, page: true},
		"POST /audit/verify":        {method: "POST", path: "/audit/verify", page: true, namesFiles: true},
		"GET /users":                {method: "GET", path: "/users", page: true},
		"POST /users":               {method: "POST", path: "/users", form: url.Values{"email": {"bad"}, "role": {"agent"}}, page: true},
		"POST /users/{id}/disable":  {method: "POST", path: user("/disable")("999999"), at: user("/disable"), page: true},
		"POST /users/{id}/password": {method: "POST", path: user("/password")(v), at: user("/password"), form: url.Values{"version": {"-5"}}, page: true},
		"POST /users/{id}/role":     {method: "POST", path: user("/role")(v), at: user("/role"), form: url.Values{"role": {"root"}, "version": {"0"}}, page: true},
	}
}

// hostileKey is the idempotency key of the sweep's payout form.
const hostileKey = "HOSTILEKEYAAAAAAAAAAAAAAAA"

// Hostile values, each sent escaped as written into a query or form.
var (
	hugeValue     = strings.Repeat("x", 100<<10)
	hostileValues = map[string]string{
		"empty":        "",
		"word":         "abc",
		"zero":         "0",
		"negative":     "-1",
		"over int64":   "99999999999999999999",
		"invalid utf8": "%ff%fe%80",
		"nul":          "a%00b",
		"controls":     "%01%1b%7f",
		"bidi":         "%E2%80%AE1",
		"fts syntax":   "%22a%22+OR+*+NEAR(",
		"like syntax":  "%25_%5C",
		"huge":         hugeValue,
	}
	// dateValues are further values sent in date parameters.
	dateValues = map[string]string{
		"bad date":    "2026-13-45",
		"year zero":   "0000-01-01",
		"last day":    "9999-12-31",
		"five digits": "10000-01-01",
		"bad time":    "2026-01-01T25:61",
		"zone":        "2026-01-01T10:00:00Z",
	}
	// formValues are the hostile values sent in each form field.
	formValues = []string{"empty", "word", "over int64", "invalid utf8", "nul", "controls", "bidi", "huge"}
	// hostileQueries are whole queries that break the parser or the
	// parameters' shape rather than a value.
	hostileQueries = map[string]string{
		"bad escape":  "a=%zz",
		"semicolon":   "a=1;b=2",
		"bare key":    "from",
		"nul key":     "%00=1",
		"many params": strings.Repeat("p=1&", 5000),
	}
	// hostileIDs replace a path's wildcard.
	hostileIDs = map[string]string{
		"zero":         "0",
		"negative":     "-1",
		"over int64":   "99999999999999999999",
		"word":         "abc",
		"nul":          "%00",
		"invalid utf8": "%ff",
		"leading zero": "01",
		"plus":         "+1",
		"float":        "1.5",
		"space":        "1%20",
		"long":         strings.Repeat("9", 5000),
	}
)

// leaks are what an answer must never show: the internals of a failure.
var leaks = regexp.MustCompile(`(?i)sqlite|sql logic|database/sql|no such (table|column)|constraint failed|goroutine \d|runtime error|panic:|\.go:\d+|/tmp/|payoutdesk/(db|web|handlers)`)

// check fails t unless the answer to a hostile request is no server error,
// shows nothing of the server's internals, is the app's page with a message
// when it refuses on a page route, and wrote nothing it refused.
func (s *sweep) check(t *testing.T, rt hostileRoute, req *http.Request, c *client) response {
	t.Helper()
	before := s.counts(t)
	s.requests++
	r, err := c.send(req)
	if err != nil {
		t.Fatalf("%s %.120s: %v", req.Method, req.URL, err)
	}
	what := fmt.Sprintf("%s %.120s", req.Method, req.URL.RequestURI())
	if r.StatusCode >= 500 {
		t.Errorf("%s: status %d, want no 5xx; body: %.200s", what, r.StatusCode, r.Body)
	}
	if m := leaks.FindString(r.Body); m != "" && !strings.HasPrefix(req.URL.Path, "/static/") && req.URL.Path != "/metrics" && !(rt.namesFiles && m == "/tmp/") {
		t.Errorf("%s: the answer shows %q", what, m)
	}
	html := strings.HasPrefix(r.Header.Get("Content-Type"), "text/html")
	if rt.page && req.Method != http.MethodHead && r.StatusCode >= 400 && r.Body != "" {
		d := r.doc(t)
		switch {
		case !html:
			t.Errorf("%s: status %d as %q, want a page", what, r.StatusCode, r.Header.Get("Content-Type"))
		case d.Find(`[data-testid="error-page"]`).Length() == 1:
		case strings.TrimSpace(d.Find(`[data-testid^="error-"], [role="alert"]`).Text()) == "":
			t.Errorf("%s: status %d, a page without a message", what, r.StatusCode)
		}
	}
	if r.StatusCode == http.StatusMethodNotAllowed && r.Header.Get("Allow") == "" {
		t.Errorf("%s: 405 without Allow", what)
	}
	after := s.counts(t)
	if r.StatusCode >= 400 {
		for _, table := range []string{"payouts", "users", "outbox", "webhook_deliveries"} {
			if after[table] != before[table] {
				t.Errorf("%s: refused with %d, yet %s went from %d to %d rows", what, r.StatusCode, table, before[table], after[table])
			}
		}
	}
	// A request refused before anything was read of it is not an event
	// (webhooks excepted: every delivery is audited).
	switch r.StatusCode {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge:
		if !strings.HasPrefix(req.URL.Path, "/webhooks/") && after["audit_events"] != before["audit_events"] {
			t.Errorf("%s: refused with %d, yet %d audit events were written", what, r.StatusCode, after["audit_events"]-before["audit_events"])
		}
	}
	return r
}

func (s *sweep) counts(t *testing.T) map[string]int {
	t.Helper()
	var p, u, o, w, a int
	err := s.ts.DB.R.QueryRow(`SELECT (SELECT count(*) FROM payouts), (SELECT count(*) FROM users), (SELECT count(*) FROM outbox),
		(SELECT count(*) FROM webhook_deliveries), (SELECT count(*) FROM audit_events)`).Scan(&p, &u, &o, &w, &a)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]int{"payouts": p, "users": u, "outbox": o, "webhook_deliveries": w, "audit_events": a}
}

// request builds a request to raw, a path and query sent as written.
func (s *sweep) request(t *testing.T, method, raw string, body string, header map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, s.ts.URL+raw, strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s %.80s: %v", method, raw, err)
	}
	req.Header.Set("Origin", s.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req
}

// rolesFor lists who may reach a route of the given access.
func rolesFor(access string) []string {
	switch access {
	case "open", "visitor":
		return []string{"visitor", db.RoleAgent}
	}
	var out []string
	for _, r := range db.Roles {
		if db.RoleRank(r) >= db.RoleRank(access) {
			out = append(out, r)
		}
	}
	return out
}

func withQuery(path, query string) string {
	if strings.Contains(path, "?") {
		return path + "&" + query
	}
	return path + "?" + query
}

// TestHostileInputOnEveryRoute sends every route, as each role that may
// reach it, malformed addresses, query parameters, forms, methods, HEAD and
// htmx requests: none gets a server error or a panic, none shows the
// server's internals, refusals on pages are pages that say why, and nothing
// refused is written.
func TestHostileInputOnEveryRoute(t *testing.T) {
	logs := &lockedBuffer{}
	ts := newTestServerLog(t, false, nil, logs)
	ctx := context.Background()
	payout := ts.seedPayout()
	pending, _, err := db.NewPayouts(ts.DB).Create(ctx, db.NewPayout{
		Provider: "monime", Status: db.StatusPendingApproval, AmountMinor: 900000, Currency: "SLE",
		IdempotencyKey: "PENDINGHOSTILEKEY000000000", Reference: "PD-PENDINGHOSTILEKEY000000000",
		Fields:          map[string]string{"amount": "9000.00", "currency": "SLE", "provider_code": "m17", "account_id": "+23278123456"},
		BeneficiaryName: "+232 •••• 3456", BeneficiaryAccount: "•••• 3456", CreatedBy: ts.Users[db.RoleAgent].ID,
	}, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.created"})
	if err != nil {
		t.Fatal(err)
	}
	unknown, _ := ts.unknownMonime("UNKNOWNHOSTILEKEY000000000", 1000, time.Hour)
	victim, err := db.NewUsers(ts.DB).Create(ctx, "victim@example.com", db.RoleAgent, testPassword,
		db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "user.created"})
	if err != nil {
		t.Fatal(err)
	}
	s := &sweep{ts: ts, as: map[string]*client{"visitor": ts.client()}}
	for _, role := range db.Roles {
		s.as[role] = ts.as(role)
	}
	routes := hostileRoutes(ts, payout.ID, pending.ID, unknown.ID, victim.ID)
	start := time.Now()

	for _, info := range ts.App.Routes() {
		rt, ok := routes[info.Pattern]
		if !ok {
			t.Errorf("route %q has no entry in hostileRoutes", info.Pattern)
			continue
		}
		if info.Pattern == "POST /logout" || info.Pattern == "/sandbox/" || info.Pattern == "POST /webhooks/{provider}" {
			continue // below: they end sessions, or are other sites' APIs
		}
		for i, role := range rolesFor(info.Access) {
			t.Run(info.Pattern+"/"+role, func(t *testing.T) {
				s.route(t, info.Pattern, rt, s.as[role], i == 0)
			})
		}
	}
	t.Run("webhooks", s.webhooks)
	t.Run("sandbox", s.sandbox)
	t.Run("logout", func(t *testing.T) {
		for _, role := range db.Roles {
			for name, body := range map[string]string{"nul": "a=%00", "bad escape": "a=%zz", "huge": "a=" + hugeValue} {
				c := ts.as(role)
				r := s.check(t, routes["POST /logout"], s.request(t, "POST", "/logout", body,
					map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), c)
				if r.StatusCode != http.StatusSeeOther {
					t.Errorf("logout as %s with a %s body: status %d, want 303", role, name, r.StatusCode)
				}
			}
		}
	})

	var created int
	if err := ts.DB.R.QueryRow(`SELECT count(*) FROM payouts WHERE idempotency_key = ?`, hostileKey).Scan(&created); err != nil || created != 1 {
		t.Errorf("%d payouts with the form's key (%v), want the one", created, err)
	}
	// Nothing the sweep sent broke the audit chain.
	r := s.as[db.RoleManager].forT(t).postForm("/audit/verify", nil)
	if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther {
		t.Errorf("verify after the sweep: status %d", r.StatusCode)
	}
	if v, err := db.NewAudit(ts.DB).Verify(ctx); err != nil || !v.OK() {
		t.Errorf("the audit chain after the sweep: %+v, %v", v, err)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "msg=panic") || strings.Contains(line, "http: panic") {
			t.Errorf("server log: %.600s", line)
		}
	}
	t.Logf("%d requests in %v", s.requests, time.Since(start).Round(time.Millisecond))
}

// route sends one route its hostile requests as client c; each query
// parameter gets every hostile value when full is set (for the first role
// that reaches the route: the values are read alike for every role).
func (s *sweep) route(t *testing.T, pattern string, rt hostileRoute, c *client, full bool) {
	form := "application/x-www-form-urlencoded"
	send := func(method, path, body string, header map[string]string) response {
		t.Helper()
		if method == "POST" && header["Content-Type"] == "" {
			header = withDefault(header, "Content-Type", form)
		}
		return s.check(t, rt, s.request(t, method, path, body, header), c)
	}
	// Malformed wildcards: never found, never a failure.
	if rt.at != nil {
		for name, id := range hostileIDs {
			r := send(rt.method, rt.at(id), rt.form.Encode(), nil)
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("%s with a %s id: status %d, want 404", pattern, name, r.StatusCode)
			}
		}
	}
	// Query parameters, each on its own, then repeated; forms read none.
	for _, q := range hostileQueries {
		send(rt.method, withQuery(rt.path, q), rt.form.Encode(), nil)
	}
	if rt.method == "POST" {
		for _, path := range append([]string{rt.path}, rt.others...) {
			at := rt
			at.path = path
			s.forms(t, at, send)
		}
	} else {
		for _, p := range append([]string{"junk"}, rt.params...) {
			for name, v := range hostileValues {
				if !full && name != "huge" && name != "invalid utf8" && name != "nul" {
					continue
				}
				send(rt.method, withQuery(rt.path, p+"="+v), "", nil)
			}
			if full && (p == "from" || p == "to") {
				for _, v := range dateValues {
					send(rt.method, withQuery(rt.path, p+"="+v), "", nil)
				}
			}
			send(rt.method, withQuery(rt.path, p+"=1&"+p+"=abc&"+p+"="), "", nil)
		}
		// Ranges the wrong way round, and page sizes out of range.
		for _, q := range []string{"from=2026-02-01&to=2026-01-01", "from=2026-01-01T10:00&to=2026-01-01T09:59", "from=2026-01-01&to=2026-01-01",
			"size=-1", "size=0", "size=1000000", "before=-5&size=25", "period=7d&from=2026-01-01", "format=xml", "format=csv&format=jsonl"} {
			send(rt.method, withQuery(rt.path, q), "", nil)
		}
	}
	// Methods the route's address does not take: 405, with Allow.
	for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		if m == rt.method || takes(s.ts, rt.path, m) {
			continue
		}
		r := send(m, rt.path, "", nil)
		if r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: status %d, want 405", m, rt.path, r.StatusCode)
		}
	}
	// HEAD answers as GET does, without a body; htmx gets no failure.
	if rt.method == "GET" {
		get := send("GET", rt.path, "", nil)
		head := send("HEAD", rt.path, "", nil)
		if head.StatusCode != get.StatusCode || head.Body != "" {
			t.Errorf("HEAD %s: status %d with %d bytes, want GET's %d and none", rt.path, head.StatusCode, len(head.Body), get.StatusCode)
		}
	}
	for _, hx := range []map[string]string{{"HX-Request": "true"}, {"HX-Request": "true", "HX-Current-URL": "http://evil.example/%00", "HX-Target": "#%00\t"}} {
		send(rt.method, rt.path, rt.form.Encode(), hx)
	}
}

// forms sends a POST route's form broken in every way.
func (s *sweep) forms(t *testing.T, rt hostileRoute, send func(method, path, body string, header map[string]string) response) {
	form := "application/x-www-form-urlencoded"
	post := func(body string, header map[string]string) response { return send("POST", rt.path, body, header) }
	post("", nil)
	post("%00=%00", nil)
	post(strings.Repeat("a=1&", 20000), nil)
	// A form that cannot be read, or is over any form's limit: refused
	// before anything else is looked at.
	if r := post("a=%zz", nil); rt.form != nil && r.StatusCode != http.StatusBadRequest {
		t.Errorf("POST %s with a bad escape: status %d, want 400", rt.path, r.StatusCode)
	}
	if r := post("a="+strings.Repeat("x", 2<<20), nil); rt.form != nil && r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("POST %s with 2 MiB: status %d, want 413", rt.path, r.StatusCode)
	}
	for _, ct := range []string{"application/json", "text/plain", "multipart/form-data", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded; charset=utf-16", "", "a/b; c=\"d"} {
		post(rt.form.Encode(), map[string]string{"Content-Type": ct})
	}
	post(`{"email":"x"}`, map[string]string{"Content-Type": "application/json"})
	for field := range rt.form {
		without := withValues(rt.form, nil)
		without.Del(field)
		post(without.Encode(), nil)
		for _, name := range formValues {
			v := hostileValues[name]
			post(rt.form.Encode()+"&"+field+"="+v, nil) // duplicated, the hostile one last
			changed := withValues(rt.form, nil)
			changed.Del(field)
			post(field+"="+v+"&"+changed.Encode(), nil) // replaced
		}
		post(field+"="+strings.Repeat("x", 2<<20), map[string]string{"Content-Type": form})
	}
}

// takes reports whether some route answers method at path.
func takes(ts *testServer, path, method string) bool {
	req, _ := http.NewRequest(method, ts.URL+path, nil)
	for _, r := range ts.App.Routes() {
		m, p, ok := strings.Cut(r.Pattern, " ")
		if !ok {
			return true
		}
		if m != method && !(m == "GET" && method == "HEAD") {
			continue
		}
		mux := http.NewServeMux()
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
		if _, pattern := mux.Handler(req); pattern != "" {
			return true
		}
	}
	return false
}

// withDefault is a copy of h with k set to v unless h sets k, even to "".
func withDefault(h map[string]string, k, v string) map[string]string {
	out := maps.Clone(h)
	if out == nil {
		out = map[string]string{}
	}
	if _, ok := out[k]; !ok {
		out[k] = v
	}
	return out
}

// webhooks posts broken deliveries to every provider and to names that are
// none, unsigned and signed with the sandbox's secrets.
func (s *sweep) webhooks(t *testing.T) {
	creds := sandboxtest.Credentials(t)
	rt := hostileRoute{method: "POST"}
	c := s.ts.client()
	sign := map[providers.Name]func(body []byte) map[string]string{
		providers.Kibramoa: func(b []byte) map[string]string {
			return map[string]string{kibramoa.SignatureHeader: kibramoa.Sign(creds.KibramoaWebhookSecret, b)}
		},
		providers.FedaPay: func(b []byte) map[string]string {
			return map[string]string{fedapay.SignatureHeader: fedapay.Sign(creds.FedaPayWebhookSecret, b, time.Now())}
		},
		providers.Monime: func([]byte) map[string]string {
			out := map[string]string{}
			for k, v := range monime.WebhookHeaders("", creds.MonimeWebhookSecret) {
				out[k] = v[0]
			}
			return out
		},
		providers.SmartGlocal: func(b []byte) map[string]string {
			sig, err := smartglocal.Sign(creds.SmartGlocalProviderKey, b)
			if err != nil {
				t.Fatal(err)
			}
			return map[string]string{smartglocal.HeaderSignature: sig}
		},
	}
	bodies := map[string]string{
		"empty": "", "null": "null", "array": "[]", "number": "1e400", "not json": "not json", "cut": `{"a":`,
		"invalid utf8": "{\"id\":\"\xff\xfe\"}", "nul": "{\"id\":\"a\x00b\"}", "nested": strings.Repeat("[", 100000),
		"huge": `{"x":"` + strings.Repeat("x", 2<<20) + `"}`, "object": `{}`, "wrong types": `{"id":[],"status":{},"data":1,"session":"x","entity":true}`,
		"kibramoa unknown":    `{"merchantReference":"PD-NOBODY","status":"COMPLETED","paymentAmount":"-1e309","id":"` + hugeValue[:300] + `"}`,
		"monime unknown":      `{"event":{"id":"evt-x","name":"payout.completed"},"object":{"id":"pyt-nobody","type":"payout"},"data":{"id":"pyt-nobody","status":"completed","amount":{"value":-5,"currency":"XXX"}}}`,
		"fedapay unknown":     `{"id":99999999999999999999,"name":"payout.sent","object":"payout","entity":{"id":-1,"status":"sent","amount":-1,"merchant_reference":"PD-NOBODY"}}`,
		"smartglocal unknown": `{"type":"ready_to_confirm","session":{"id":"ps_nobody","status":"in_progress","payment":{"id":"pa_x","status":"weird","amount_details":{"amount":-1,"currency":"zz"}}}}`,
	}
	names := []string{"kibramoa", "fedapay", "monime", "smartglocal", "paypal", "KIBRAMOA", "%00", "%ff", "%E2%80%AEyapadef", strings.Repeat("k", 5000)}
	for _, name := range names {
		signer, known := sign[providers.Name(name)]
		for what, body := range bodies {
			// Unsigned: refused, the body over the limit before it is read
			// whole; from no provider of ours, not found.
			want := http.StatusUnauthorized
			switch {
			case !known:
				want = http.StatusNotFound
			case what == "huge":
				want = http.StatusRequestEntityTooLarge
			}
			r := s.check(t, rt, s.request(t, "POST", "/webhooks/"+name, body, map[string]string{"Content-Type": "application/json", "Origin": "https://provider.example"}), c)
			if r.StatusCode != want {
				t.Errorf("unsigned %s webhook to %.40s: status %d, want %d", what, name, r.StatusCode, want)
			}
			if !known || what == "huge" {
				continue
			}
			// Signed, the body is read: refused as unreadable, or taken
			// and acknowledged, never blamed on its signature.
			r = s.check(t, rt, s.request(t, "POST", "/webhooks/"+name, body, signer([]byte(body))), c)
			if r.StatusCode != http.StatusBadRequest && r.StatusCode != http.StatusOK {
				t.Errorf("signed %s webhook to %s: status %d, want 400 or 200", what, name, r.StatusCode)
			}
		}
	}
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		if r := s.check(t, rt, s.request(t, m, "/webhooks/kibramoa", "", nil), c); r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s /webhooks/kibramoa: status %d, want 405", m, r.StatusCode)
		}
	}
}

// sandbox sends the built-in sandbox's routes broken requests: without
// credentials, with wrong ones, with bodies that are no request of theirs.
func (s *sweep) sandbox(t *testing.T) {
	rt := hostileRoute{}
	c := s.ts.client()
	creds := sandboxtest.Credentials(t)
	auth := []map[string]string{nil,
		{"Authorization": "Bearer wrong", "X-API-KEY": "wrong"},
		{"Authorization": "Bearer " + creds.MonimeToken, "Monime-Space-Id": creds.MonimeSpaceID},
		{"Authorization": "Bearer " + creds.FedaPaySecretKey},
		{"X-API-KEY": creds.KibramoaAPIKey, "Authorization": creds.KibramoaAPIKey},
	}
	paths := []struct{ method, path string }{
		{"GET", "/sandbox/"}, {"GET", "/sandbox/sandbox.css"}, {"GET", "/sandbox/nowhere"},
		{"POST", "/sandbox/kibramoa/payout-session"}, {"GET", "/sandbox/kibramoa/payments/%00"}, {"GET", "/sandbox/kibramoa/payments/" + strings.Repeat("9", 5000)},
		{"GET", "/sandbox/kibramoa/cashier/payout/"}, {"GET", "/sandbox/kibramoa/cashier/payout/?session=%ff&id=-1"}, {"POST", "/sandbox/kibramoa/cashier/payout/?session=nobody"},
		{"POST", "/sandbox/smartglocal/api/v1/session/create"}, {"POST", "/sandbox/smartglocal/api/v1/session/start/payout"},
		{"POST", "/sandbox/smartglocal/api/v1/session/confirm"}, {"POST", "/sandbox/smartglocal/api/v1/session/cancel"}, {"POST", "/sandbox/smartglocal/api/v1/session/status"},
		{"POST", "/sandbox/monime/payouts"}, {"GET", "/sandbox/monime/payouts/abc"}, {"DELETE", "/sandbox/monime/payouts/%00"},
		{"POST", "/sandbox/fedapay/v1/payouts"}, {"PUT", "/sandbox/fedapay/v1/payouts/start"}, {"GET", "/sandbox/fedapay/v1/payouts/-1"},
		{"DELETE", "/sandbox/fedapay/v1/payouts/99999999999999999999"}, {"GET", "/sandbox/fedapay/v1/payouts/merchant/%ff"},
		{"PATCH", "/sandbox/monime/payouts"}, {"GET", "/sandbox/fedapay/v1/nowhere"}, {"GET", "/sandbox/kibramoa/nowhere"},
	}
	bodies := []string{"", "null", "[]", "not json", `{"amount":-1,"currency":"XXX"}`, "{\"a\":\"\xff\x00\"}", strings.Repeat("[", 100000),
		`{"payouts":[{"id":"x"}],"amount":{"value":"1e400"},"session_id":"ps_nobody","payment_id":[]}`, "a=%zz&session=%00&option=x&action=complete"}
	for _, p := range paths {
		for _, h := range auth {
			for _, body := range bodies {
				header := withDefault(h, "Content-Type", "application/json")
				if strings.Contains(p.path, "/cashier/") {
					header["Content-Type"] = "application/x-www-form-urlencoded"
				}
				s.check(t, rt, s.request(t, p.method, p.path, body, header), c)
			}
		}
	}
}
