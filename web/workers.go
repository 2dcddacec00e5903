package web

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers/fedapay"
)

// StartWorkers runs the background jobs (sending, reconciliation, session
// pruning) until ctx is done; the returned func waits for them to stop.
// Payouts whose sending was interrupted by a crash are made unknown first.
func (s *Server) StartWorkers(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	// Nobody waits on the workers' writes as on a page: the writer runs
	// the requests people make first.
	ctx = db.LowPriority(ctx)
	if err := s.flow.Recover(ctx); err != nil {
		s.log.Error("recover interrupted payouts", slog.Any("error", err))
	}
	s.flow.Start()
	sendWake, checkWake := s.flow.Wakeups()
	wg.Go(func() { s.loop(ctx, "send", sendWake, s.flow.SendDue) })
	wg.Go(func() { s.loop(ctx, "reconcile", checkWake, s.reconcile) })
	wg.Go(func() { s.tidy(ctx) })
	wg.Go(func() { s.loop(ctx, "checkpoint", nil, s.checks.run) })
	wg.Go(func() { s.loop(ctx, "index text", nil, s.indexText) })
	return func() {
		wg.Wait()
		s.flow.Wait()
	}
}

// reconcile records again the send outcomes that could not be recorded,
// asks providers about open payouts and expires approvals that
// waited too long.
func (s *Server) reconcile(ctx context.Context) (int, error) {
	lost := s.flow.RetryLost(ctx)
	n, err := s.flow.ReconcileDue(ctx)
	n += lost
	if err != nil {
		return n, err
	}
	expired, err := s.flow.ExpireApprovals(ctx, s.cfg.ApprovalTTL)
	return n + expired, err
}

// indexText keeps the full-text indexes of the audit log and of the
// payouts list close to their tables, so that text searches seldom have
// much to index first. It reports no work, so that the loop waits before
// the next batch rather than indexing row by row.
func (s *Server) indexText(ctx context.Context) (int, error) {
	// Each on its own: one failing must not leave the other behind.
	_, errA := db.NewAudit(s.db).IndexText(ctx)
	_, errP := db.NewPayouts(s.db).IndexText(ctx)
	return 0, errors.Join(errA, errP)
}

// idleWait is how long a worker sleeps when it found nothing to do and is
// not woken earlier by new work.
const idleWait = time.Second

// loop runs job until ctx is done: again at once while it finds work, else
// after idleWait or when wake (which may be nil) signals new work.
func (s *Server) loop(ctx context.Context, name string, wake <-chan struct{}, job func(context.Context) (int, error)) {
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
		case <-wake:
		case <-time.After(idleWait):
		}
	}
}

// tidy removes, every ten minutes, what is no longer needed: expired
// sessions, and the recipient hashes of payouts too old to count against
// FedaPay's cap (the longest any provider has).
func (s *Server) tidy(ctx context.Context) {
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
		if _, err := db.NewPayouts(s.db).ForgetRecipients(ctx, now.Add(-fedapay.NumberWindow-db.CapMargin)); err != nil && ctx.Err() == nil {
			s.log.Error("forget recipients", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
