package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Pinger checks that a dependency answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Health answers load balancers and monitors.
type Health struct {
	Log *slog.Logger
	DB  Pinger
}

// Check reports whether the database answers (GET /healthz): 200 "ok" or
// 503 "unavailable", as plain text.
func (h *Health) Check(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := h.DB.Ping(ctx); err != nil {
		h.Log.ErrorContext(ctx, "health check failed", slog.Any("error", err))
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("unavailable: database\n"))
		return
	}
	w.Write([]byte("ok\n"))
}
