package web

import (
	"context"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"payoutdesk/db"
	"payoutdesk/handlers"
	"payoutdesk/static"
)

// Access levels of routes besides the roles (db.RoleAgent, …).
const (
	// accessOpen routes skip sessions entirely: health, metrics, assets,
	// webhooks and the provider sandbox.
	accessOpen = "open"
	// accessVisitor routes load the session but need no sign-in.
	accessVisitor = "visitor"
)

// route is one entry of the routing table.
type route struct {
	pattern string
	// access is accessOpen, accessVisitor or the least role allowed.
	access  string
	handler http.Handler
}

// RouteInfo describes a route for tests that walk every route × role.
type RouteInfo struct {
	Pattern string
	Access  string
}

// Routes lists every route with its access level.
func (s *Server) Routes() []RouteInfo {
	out := make([]RouteInfo, len(s.routes))
	for i, r := range s.routes {
		out[i] = RouteInfo{Pattern: r.pattern, Access: r.access}
	}
	return out
}

// auditExportRoute streams a download rather than a page: it gets neither
// navigation counts nor flash messages.
const auditExportRoute = "GET /audit/export"

// routeTable is every route of the application, in one place.
func (s *Server) routeTable() []route {
	auth := &handlers.Auth{
		Log:       s.log,
		Users:     db.NewUsers(s.db),
		Passwords: db.NewUsers(s.db),
		Logins:    db.NewLogins(s.db),
		Sessions:  s.sessions,
		Account:   accountThrottle,
		IP:        ipThrottle,
		Now:       s.now,
	}
	dash := &handlers.Dashboard{Log: s.log, Activity: db.NewAudit(s.db), Users: db.NewUsers(s.db),
		Payouts: db.NewPayouts(s.db), Backlog: db.NewReports(s.db), Rails: s.provs.rails, Now: s.now}
	users := &handlers.Users{Log: s.log, Store: db.NewUsers(s.db), Sessions: s.sessions}
	health := &handlers.Health{Log: s.log, DB: s.db}
	overview := &handlers.Overview{Log: s.log, Reports: db.NewReports(s.db), Rails: s.provs.rails, Now: s.now}
	// Each check reads the whole log: managers pressing Verify together
	// share one, rather than each adding a full read to the others'.
	verify := newCoalesced(func(ctx context.Context) (verified, error) {
		v, note, err := VerifyAudit(ctx, s.db, s.cfg)
		return verified{v, note}, err
	})
	audit := &handlers.Audit{Log: s.log, Store: db.NewAudit(s.db), Users: db.NewUsers(s.db), Rails: s.provs.rails,
		Verify: func(ctx context.Context) (db.Verification, string, error) {
			r, err := verify.Do(ctx)
			return r.v, r.note, err
		}}
	webhooks := &handlers.Webhooks{Log: s.log, Rails: s.provs.rails, Store: db.NewWebhooks(s.db), Flow: s.flow, Now: s.now}
	payouts := &handlers.Payouts{Log: s.log, Rails: s.provs.rails, Store: db.NewPayouts(s.db), Audit: db.NewAudit(s.db),
		Users: db.NewUsers(s.db), Flow: s.flow, Sessions: s.sessions, Approvals: s.cfg.ApprovalRules, ApprovalTTL: s.cfg.ApprovalTTL, Now: s.now}
	provs := &handlers.Providers{Log: s.log, Rails: s.provs.rails, BaseURLs: s.provs.baseURLs, AppURL: s.cfg.BaseURL}

	return []route{
		// Infrastructure
		{"GET /healthz", accessOpen, http.HandlerFunc(health.Check)},
		{"GET /metrics", accessOpen, s.metrics.handler(s.cfg.MetricsToken)},
		{"GET /static/", accessOpen, staticHandler()},

		// Providers: webhooks (signed by the provider, so exempt from the
		// cross-origin check) and the built-in sandbox
		{"POST /webhooks/{provider}", accessOpen, http.HandlerFunc(webhooks.Receive)},
		{"/sandbox/", accessOpen, s.sandboxHandler()},
		{"GET /cashier/done", accessVisitor, handlers.CashierDone(s.log)},
		{"GET /providers", db.RoleAdmin, http.HandlerFunc(provs.List)},

		// Signing in and out
		{"GET /login", accessVisitor, http.HandlerFunc(auth.LoginForm)},
		{"POST /login", accessVisitor, http.HandlerFunc(auth.Login)},
		{"POST /logout", db.RoleAgent, http.HandlerFunc(auth.Logout)},
		{"GET /account/password", db.RoleAgent, http.HandlerFunc(auth.PasswordForm)},
		{"POST /account/password", db.RoleAgent, http.HandlerFunc(auth.ChangePassword)},

		// Dashboard
		{"GET /{$}", db.RoleAgent, http.HandlerFunc(dash.Show)},
		{"GET /overview", db.RoleManager, http.HandlerFunc(overview.Show)},

		// Payouts
		{"GET /payouts", db.RoleAgent, http.HandlerFunc(payouts.List)},
		{"GET /payouts/new", db.RoleAgent, http.HandlerFunc(payouts.New)},
		{"GET /payouts/new/{provider}", db.RoleAgent, http.HandlerFunc(payouts.NewForm)},
		{"POST /payouts", db.RoleAgent, http.HandlerFunc(payouts.Create)},
		{"GET /payouts/unknown", db.RoleManager, http.HandlerFunc(payouts.Unknown)},
		{"GET /payouts/{id}", db.RoleAgent, http.HandlerFunc(payouts.Show)},
		{"POST /payouts/{id}/refresh", db.RoleAgent, http.HandlerFunc(payouts.Refresh)},
		{"POST /payouts/{id}/cashier", db.RoleAgent, http.HandlerFunc(payouts.LaunchCashier)},
		{"POST /payouts/{id}/resolve", db.RoleManager, http.HandlerFunc(payouts.Resolve)},

		// Approvals (maker-checker)
		{"GET /approvals", db.RoleManager, http.HandlerFunc(payouts.Inbox)},
		{"POST /payouts/{id}/approve", db.RoleManager, http.HandlerFunc(payouts.Approve)},
		{"POST /payouts/{id}/reject", db.RoleManager, http.HandlerFunc(payouts.Reject)},
		{"POST /payouts/{id}/withdraw", db.RoleAgent, http.HandlerFunc(payouts.Withdraw)},

		// Audit log (managers and admins)
		{"GET /audit", db.RoleManager, http.HandlerFunc(audit.List)},
		{auditExportRoute, db.RoleManager, http.HandlerFunc(audit.Export)},
		{"GET /audit/{seq}", db.RoleManager, http.HandlerFunc(audit.Show)},
		{"POST /audit/verify", db.RoleManager, http.HandlerFunc(audit.VerifyIntegrity)},

		// Users (administrators)
		{"GET /users", db.RoleAdmin, http.HandlerFunc(users.List)},
		{"POST /users", db.RoleAdmin, http.HandlerFunc(users.Create)},
		{"POST /users/{id}/disable", db.RoleAdmin, http.HandlerFunc(users.Disable)},
		{"POST /users/{id}/password", db.RoleAdmin, http.HandlerFunc(users.ResetPassword)},
		{"POST /users/{id}/role", db.RoleAdmin, http.HandlerFunc(users.ChangeRole)},
	}
}

// buildHandler mounts the routes with their middleware. Outermost first:
// requestInfo (so even a panic's log line and page carry the request id) →
// logRequests → recoverPanic (inside, so that a panic's 500 is logged and
// counted) → secureHeaders → CrossOriginProtection → (per route) session →
// role check.
func (s *Server) buildHandler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		h := rt.handler
		switch rt.access {
		case accessOpen:
		case accessVisitor:
			h = s.withSession(h)
		default:
			h = chain(h, s.withSession, s.requireRole(rt.access))
		}
		mux.Handle(rt.pattern, h)
	}
	cop := http.NewCrossOriginProtection()
	cop.AddInsecureBypassPattern("POST /webhooks/{provider}")
	cop.SetDenyHandler(http.HandlerFunc(handlers.CrossOrigin))
	return chain(s.errorPages(mux), s.requestInfo, s.logRequests, s.recoverPanic, s.secureHeaders, cop.Handler)
}

// Login throttling: an account locks for 30 s after 5 failures within 15
// minutes, doubling with each further failure up to 15 minutes; an IP after
// 20 failures (shared offices), up to 30 minutes.
var (
	accountThrottle = db.ThrottlePolicy{Limit: 5, Window: 15 * time.Minute, Lock: 30 * time.Second, MaxLock: 15 * time.Minute}
	ipThrottle      = db.ThrottlePolicy{Limit: 20, Window: 15 * time.Minute, Lock: time.Minute, MaxLock: 30 * time.Minute}
)

// sandboxHandler serves the sandbox when some provider uses it.
func (s *Server) sandboxHandler() http.Handler {
	if s.provs.sandbox == nil {
		return http.HandlerFunc(handlers.NotFound)
	}
	return http.StripPrefix("/sandbox", s.provs.sandbox.Handler())
}

// staticHandler serves the embedded assets; a request carrying the asset's
// current content hash may be cached for a year.
func staticHandler() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(static.FS))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		// The file server's own 404 is plain text: a missing asset gets
		// the app's page, as any other address.
		if info, err := fs.Stat(static.FS, name); name == "" || err != nil || info.IsDir() {
			handlers.NotFound(w, r)
			return
		}
		if v := r.URL.Query().Get("v"); v != "" && v == static.Hash(name) {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
