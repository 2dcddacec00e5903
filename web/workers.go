package web

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"payoutdesk/db"
)

// StartWorkers runs the background jobs (sending, reconciliation, session
// pruning) until ctx is done; the returned func waits for them to stop.
// Payouts whose sending was interrupted by a crash are made unknown first.
func (s *Server) StartWorkers(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	if err := s.flow.Recover(ctx); err != nil {
		s.log.Error("recover interrupted payouts", slog.Any("error", err))
	}
	wg.Go(func() { s.loop(ctx, "send", s.flow.SendDue) })
	wg.Go(func() { s.loop(ctx, "reconcile", s.reconcile) })
	wg.Go(func() { s.pruneSessions(ctx) })
	return func() {
		wg.Wait()
		s.flow.Wait()
	}
}

// reconcile asks providers about open payouts and expires approvals that
// waited too long.
func (s *Server) reconcile(ctx context.Context) (int, error) {
	n, err := s.flow.ReconcileDue(ctx)
	if err != nil {
		return n, err
	}
	expired, err := s.flow.ExpireApprovals(ctx, s.cfg.ApprovalTTL)
	return n + expired, err
}

// idleWait is how long a worker sleeps when it found nothing to do and is
// not woken earlier by new work.
const idleWait = time.Second

// loop runs job until ctx is done: again at once while it finds work, else
// after idleWait or when the flow signals new work.
func (s *Server) loop(ctx context.Context, name string, job func(context.Context) (int, error)) {
	for ctx.Err() == nil {
		n, err := job(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("worker", "job", name, slog.Any("error", err))
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-s.flow.Wakeup():
		case <-time.After(idleWait):
		}
	}
}

// pruneSessions deletes long-dead sessions every ten minutes; expiry itself
// is enforced on every request, this only keeps the table small.
func (s *Server) pruneSessions(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		now := s.now()
		n, err := db.NewSessions(s.db).Prune(ctx, now.Add(-s.cfg.SessionIdle), now.Add(-s.cfg.SessionAbsolute))
		if err != nil && ctx.Err() == nil {
			s.log.Error("prune sessions", slog.Any("error", err))
		} else if n > 0 {
			s.log.Info("pruned sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
