package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRecoverPanicRendersErrorPage panics in a route served through the
// real middleware: the client gets the friendly 500 page, and the request
// is logged and counted with status 500.
func TestRecoverPanicRendersErrorPage(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil)), metrics: newMetrics(),
		routes: []route{{"GET /boom", accessOpen, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })}}}
	rec := httptest.NewRecorder()
	s.buildHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), `data-testid="error-page"`) || strings.Contains(rec.Body.String(), "boom") {
		t.Error("want the friendly 500 page, without the panic's message")
	}
	id := rec.Header().Get("X-Request-Id")
	if !strings.Contains(rec.Body.String(), id) {
		t.Errorf("the 500 page does not show the request id %s", id)
	}
	if !strings.Contains(logs.String(), "boom") || !strings.Contains(logs.String(), "id="+id) {
		t.Errorf("log %q lacks the panic and request id", logs.String())
	}
	if !regexp.MustCompile(`msg=request method=GET path=/boom route="GET /boom" status=500 .* id=` + id).MatchString(logs.String()) {
		t.Errorf("log %q lacks the request line with status 500", logs.String())
	}
	if got, want := requestCounts(t, s.metrics), "GET /boom GET 500: 1"; got != want {
		t.Errorf("request counts %q, want %q", got, want)
	}
}

// requestCounts lists the request counter's series as "route method code: n".
func requestCounts(t *testing.T, m *metrics) string {
	t.Helper()
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range families {
		if f.GetName() != "payoutdesk_http_requests_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out = append(out, fmt.Sprintf("%s %s %s: %v", labels["route"], labels["method"], labels["code"], s.GetCounter().GetValue()))
		}
	}
	return strings.Join(out, "; ")
}

func TestClientIPBehindProxyOnlyWhenTrusted(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "10.0.0.5:4321"
	req.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7")
	if got := (&Server{}).clientIP(req); got != "10.0.0.5" {
		t.Errorf("untrusted: client IP %q, want the peer 10.0.0.5", got)
	}
	if got := (&Server{cfg: Config{TrustProxy: true}}).clientIP(req); got != "198.51.100.7" {
		t.Errorf("trusted: client IP %q, want the last hop 198.51.100.7", got)
	}
}

func TestShowsCounts(t *testing.T) {
	for _, tt := range []struct {
		method, role string
		htmx         bool
		want         bool
	}{
		{http.MethodGet, "manager", false, true},
		{http.MethodPost, "manager", false, true},
		{http.MethodGet, "admin", false, true},
		{http.MethodGet, "manager", true, false},
		{http.MethodPost, "admin", true, false},
		{http.MethodGet, "agent", false, false},
	} {
		r := httptest.NewRequest(tt.method, "/payouts/1", nil)
		if tt.htmx {
			r.Header.Set("HX-Request", "true")
		}
		if got := showsCounts(r, tt.role); got != tt.want {
			t.Errorf("showsCounts(%s, %s, htmx %v) = %v, want %v", tt.method, tt.role, tt.htmx, got, tt.want)
		}
	}
}

// A request's log line holds at most 1 KiB of its path, whatever the client
// sends, cut between characters.
func TestRequestLogBoundsThePath(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewJSONHandler(&logs, nil)), metrics: newMetrics()}
	long := "/" + strings.Repeat("é", 3000)
	s.buildHandler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, long, nil))
	var line struct{ Path string }
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if !strings.HasSuffix(line.Path, "…") || len(line.Path) > maxLoggedPath+len("…") || !utf8.ValidString(line.Path) ||
		!strings.HasPrefix(long, strings.TrimSuffix(line.Path, "…")) {
		t.Errorf("logged path of %d bytes (%q…), want the first %d bytes of the %d sent, cut between characters", len(line.Path), line.Path[:min(20, len(line.Path))], maxLoggedPath, len(long))
	}
}
