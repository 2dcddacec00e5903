package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRecoverPanicRendersErrorPage(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil)), metrics: newMetrics()}
	h := chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), s.requestInfo, s.recoverPanic)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
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
