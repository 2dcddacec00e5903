package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"payoutdesk/db"
	"payoutdesk/handlers"
	"payoutdesk/views"
)

// chain wraps h in middleware, the first being the outermost.
func chain(h http.Handler, mws ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recoverPanic turns a panic into a logged 500 page instead of a dropped
// connection. http.ErrAbortHandler keeps its meaning. It runs inside
// logRequests and writes through its statusWriter, so that the request's
// log line and metrics count the 500.
func (s *Server) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic", slog.Any("error", fmt.Errorf("%v", v)), "stack", string(debug.Stack()),
				slog.Group("request", "method", r.Method, "path", r.URL.Path, "id", handlers.RequestInfoFrom(r.Context()).ID))
			if sw.status == 0 {
				sw.Header().Set("Connection", "close")
				handlers.ErrorPage(sw, r, http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// requestInfo gives each request an id (echoed in X-Request-Id, logs and
// audit events) and works out the client's IP.
func (s *Server) requestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := rand.Text()[:16]
		w.Header().Set("X-Request-Id", id)
		ri := handlers.RequestInfo{ID: id, IP: s.clientIP(r)}
		next.ServeHTTP(w, r.WithContext(handlers.WithRequestInfo(r.Context(), ri)))
	})
}

func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			hops := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// logRequests logs one line per request, and counts it in the metrics by
// route pattern (never by raw path, which would explode the label set).
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.metrics.observe(route, methodLabel(r.Method), sw.status, d)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", logBound(r.Method, 32)), slog.String("path", logBound(r.URL.Path, maxLoggedPath)), slog.String("route", route),
			slog.Int("status", sw.status), slog.Int("bytes", sw.bytes), slog.Duration("duration", d),
			slog.String("id", handlers.RequestInfoFrom(r.Context()).ID))
	})
}

// maxLoggedPath bounds the path in a request's log line: any client can
// send one of nearly 64 KiB (the header limit) with every request.
const maxLoggedPath = 1024

// logBound cuts s to at most n bytes, without splitting a character, and
// says so with a trailing "…".
func logBound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// methodLabel is r.Method as a metrics label. The server accepts any token
// as a method, and each label value is a series kept for good: anyone could
// grow the metrics without bound by inventing methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

func (s *Server) secureHeaders(next http.Handler) http.Handler {
	secure := s.cfg.Secure() // parses the base URL: once, not per request
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", handlers.CSP())
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if secure {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// withSession loads the session, puts the signed-in user (if any) and the
// page chrome in the context, and hands over pending flash messages.
func (s *Server) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.sessions.Session(r)
		if err != nil {
			s.log.ErrorContext(r.Context(), "load session", slog.Any("error", err))
			handlers.ErrorPage(w, r, http.StatusInternalServerError)
			return
		}
		chrome := &views.Chrome{Path: r.URL.Path, Sandbox: s.provs.sandbox != nil}
		ctx := r.Context()
		page := rendersPage(r)
		if u, ok := handlers.SessionUser(sess); ok {
			ctx = handlers.WithUser(ctx, u)
			chrome.User = &views.CurrentUser{ID: u.ID, Email: u.Email, Role: u.Role}
			chrome.Nav = s.nav[u.Role]
			if showsCounts(r, u.Role) {
				chrome.LoadCounts = func() map[string]int { return s.managerCounts(ctx, u.ID) }
			}
		}
		if page {
			kinds, msgs := handlers.PopFlashes(sess)
			for i := range kinds {
				chrome.Flashes = append(chrome.Flashes, views.Flash{Kind: kinds[i], Message: msgs[i]})
			}
			if len(kinds) > 0 {
				if err := sess.Save(r, w); err != nil {
					s.log.ErrorContext(r.Context(), "save session", slog.Any("error", err))
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(views.WithChrome(ctx, chrome)))
	})
}

// showsCounts reports whether the answer to r may show the navigation's
// counts: to managers, unless htmx asks (rendering fragments runs the whole
// page, navigation included, and throws away all but the fragments).
func showsCounts(r *http.Request, role string) bool {
	return r.Header.Get("HX-Request") == "" && db.RoleRank(role) >= db.RoleRank(db.RoleManager)
}

// rendersPage reports whether r asks for a whole page, with navigation and
// flash messages: a GET that is neither an htmx fragment nor the export.
func rendersPage(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("HX-Request") == "" && r.Pattern != auditExportRoute
}

// managerCounts are the numbers shown next to a manager's links: what
// waits for their decision, so not their own payouts, which another
// manager approves. A failure only loses the numbers.
func (s *Server) managerCounts(ctx context.Context, user int64) map[string]int {
	b, err := db.NewReports(s.db).BacklogFor(ctx, user)
	if err != nil {
		s.log.WarnContext(ctx, "navigation counts", slog.Any("error", err))
		return nil
	}
	return map[string]int{"/approvals": int(b.Others()), "/payouts/unknown": int(b.UnknownOthers())}
}

// requireRole lets through signed-in users whose role ranks at least min;
// visitors go to the login page, others get 403. Authenticated pages are
// never cached.
func (s *Server) requireRole(min string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			u, ok := handlers.UserFrom(r.Context())
			if !ok {
				s.toLogin(w, r)
				return
			}
			if db.RoleRank(u.Role) < db.RoleRank(min) {
				handlers.Forbidden(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	q := url.Values{}
	switch {
	case r.Method == http.MethodGet:
		next := r.URL.RequestURI()
		// A page's own poll goes back to the page, not to what it polls.
		if page, ok := pageOf(r, r.Header.Get("HX-Current-URL")); ok && r.Header.Get("HX-Request") == "true" {
			next = page
		}
		q.Set("next", next)
	case r.URL.Path == "/logout":
		// Signing out of a session that has ended already is done.
		http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
		return
	default:
		// A form sent after the session ended: nothing of it was done.
		// Back to the page it was sent from, so it can be sent again.
		q.Set("unsent", "1")
		if page, ok := pageOf(r, r.Referer()); ok {
			q.Set("next", page)
		}
	}
	if sess, err := s.sessions.Session(r); err == nil && handlers.SessionExpired(sess) {
		q.Set("expired", "1")
	}
	to := "/login"
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// pageOf returns the path and query of raw, an address the browser sent
// about r (its Referer, htmx's HX-Current-URL), if it is a page of this
// site: never a way off it.
func pageOf(r *http.Request, raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host != r.Host || u.Path == "" {
		return "", false
	}
	return u.RequestURI(), true
}

// errorPages renders the friendly page for requests the mux cannot route
// (404, or 405 with its Allow header), in place of the mux's plain text.
func (s *Server) errorPages(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		if to, ok := withoutTrailingSlash(mux, r); ok {
			http.Redirect(w, r, to, http.StatusMovedPermanently)
			return
		}
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status != http.StatusNotFound && probe.status != http.StatusMethodNotAllowed {
			mux.ServeHTTP(w, r)
			return
		}
		if allow := probe.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		handlers.ErrorPage(w, r.WithContext(views.WithChrome(r.Context(), &views.Chrome{})), probe.status)
	})
}

// withoutTrailingSlash returns where a GET for a page's address with a
// slash added (/payouts/, typed or pasted) should go: the page itself, if
// there is one, with the same query.
func withoutTrailingSlash(mux *http.ServeMux, r *http.Request) (string, bool) {
	p := r.URL.Path
	if r.Method != http.MethodGet && r.Method != http.MethodHead || len(p) < 2 || !strings.HasSuffix(p, "/") {
		return "", false
	}
	// Only a clean path: "//host" would leave the site, and the mux has
	// its own answer for dots.
	p = strings.TrimSuffix(p, "/")
	if p != path.Clean(p) {
		return "", false
	}
	u := *r.URL
	u.Path, u.RawPath = p, ""
	if _, pattern := mux.Handler(&http.Request{Method: r.Method, Host: r.Host, URL: &u}); pattern == "" {
		return "", false
	}
	return u.RequestURI(), true
}

// headerProbe records what a handler would answer, discarding the body.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
