package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"payoutdesk/db"
	"payoutdesk/handlers"
	"payoutdesk/providers"
	"payoutdesk/providers/sandbox"
	"payoutdesk/views"
)

// Deps are the server's collaborators, built by the caller.
type Deps struct {
	DB  *db.DB
	Log *slog.Logger
	// Now is the clock; tests move it to expire sessions (default time.Now).
	Now func() time.Time
	// Setup, if set, is run by Serve once it has bound its address and
	// built the server: the first start's set-up, such as the first
	// accounts, whose passwords are shown once and must not be spent on a
	// start that cannot serve.
	Setup func(ctx context.Context) error
}

// Server is the Payout Desk web application.
type Server struct {
	cfg      Config
	log      *slog.Logger
	db       *db.DB
	now      func() time.Time
	sessions *handlers.SessionStore
	metrics  *metrics
	provs    providerSet
	flow     *handlers.Flow
	checks   *checkpointer
	routes   []route
	// nav is the top bar's links by role.
	nav     map[string][]views.NavLink
	handler http.Handler
}

// NewServer builds the application. cfg.BaseURL must be set. Close
// releases what it started (the sandbox's timers and deliveries).
func NewServer(cfg Config, deps Deps) (*Server, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("web: base URL not set")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:     cfg,
		log:     deps.Log,
		db:      deps.DB,
		now:     deps.Now,
		metrics: newMetrics(),
	}
	s.metrics.watchDB(deps.DB)
	s.metrics.watchChecks(db.NewPayouts(deps.DB), deps.Now)
	s.sessions = &handlers.SessionStore{
		DB:       db.NewSessions(deps.DB),
		Idle:     cfg.SessionIdle,
		Absolute: cfg.SessionAbsolute,
		Secure:   cfg.Secure(),
		Now:      deps.Now,
	}
	var warnings []string
	var err error
	s.checks, warnings, err = newCheckpointer(context.Background(), cfg, deps.DB, deps.Log, deps.Now)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.metrics.watchCheckpoints(s.checks)
	for _, w := range warnings {
		deps.Log.Warn(w)
	}
	if s.provs, err = buildProviders(context.Background(), cfg, deps.DB); err != nil {
		return nil, err
	}
	key, err := approvalKey(context.Background(), deps.DB)
	if err != nil {
		return nil, err
	}
	s.flow = &handlers.Flow{
		Log: deps.Log, Rails: s.provs.rails, Payouts: db.NewPayouts(deps.DB), Webhooks: db.NewWebhooks(deps.DB), Now: deps.Now,
		SendTimeout: cfg.SendTimeout, CheckEvery: cfg.ReconcileEvery, CheckMax: cfg.ReconcileMax, Parallel: cfg.SendParallel,
		CheckRate:   float64(cfg.ReconcileRate),
		ApprovalKey: key,
	}
	s.routes = s.routeTable()
	if s.nav, err = navByRole(s.routes); err != nil {
		return nil, err
	}
	s.handler = s.buildHandler()
	return s, nil
}

// Close stops the sandbox's pending status changes and webhook deliveries.
func (s *Server) Close() {
	if s.provs.sandbox != nil {
		s.provs.sandbox.Close()
	}
}

// Sandbox returns the built-in sandbox, nil when every provider is live.
func (s *Server) Sandbox() *sandbox.Sandbox { return s.provs.sandbox }

// Rails returns the configured providers.
func (s *Server) Rails() *providers.Registry { return s.provs.rails }

// Handler returns the application's root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve listens on cfg.Addr and serves until ctx is done, then shuts down
// gracefully: it stops accepting connections, lets in-flight requests
// finish (up to cfg.ShutdownTimeout) and stops the background workers. ready,
// if set, is called with the base URL once the server accepts connections.
func Serve(ctx context.Context, cfg Config, deps Deps, ready func(baseURL string)) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("web: listen: %w", err)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = baseURLFor(ln.Addr())
	}
	s, err := NewServer(cfg, deps)
	if err != nil {
		ln.Close()
		return err
	}
	defer s.Close()
	if deps.Setup != nil {
		if err := deps.Setup(ctx); err != nil {
			ln.Close()
			return err
		}
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(deps.Log.Handler(), slog.LevelWarn),
	}
	// The sandbox shares this listener: requests it holds on purpose (its
	// timeout fault) would keep Shutdown waiting, so it stops first.
	srv.RegisterOnShutdown(s.Close)
	workCtx, stopWork := context.WithCancel(context.Background())
	waitWork := s.StartWorkers(workCtx)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	deps.Log.Info("serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL)
	for _, w := range exposureWarnings(cfg, ln.Addr()) {
		deps.Log.Warn("exposed: " + w)
	}
	if ready != nil {
		ready(cfg.BaseURL)
	}

	select {
	case err := <-served:
		stopWork()
		waitWork()
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	// Two waits, each with its own bound; a second signal ends both (see
	// cmd/payoutdesk).
	deps.Log.Info("shutting down", "requests_timeout", cfg.ShutdownTimeout, "sends_timeout", cfg.SendTimeout)
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	stopWork()
	waitWork()
	if err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	deps.Log.Info("stopped")
	return nil
}
