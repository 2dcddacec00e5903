package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/web"
)

// TestShutdownDoesNotWaitForHeldSandboxRequests: the sandbox shares the
// server's listener, and its timeout fault holds a provider call open on
// purpose. Stopping the server must not wait that out: the sandbox lets go
// when shutdown starts, the call ends as an unknown outcome, and the
// server stops cleanly within its shutdown timeout.
func TestShutdownDoesNotWaitForHeldSandboxRequests(t *testing.T) {
	ctx := context.Background()
	d, _ := newAppDB(t, db.RoleAgent)
	cfg := testConfig()
	cfg.Addr, cfg.SendTimeout, cfg.ShutdownTimeout = "127.0.0.1:0", time.Minute, 10*time.Second
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	ready, served := make(chan string, 1), make(chan error, 1)
	go func() {
		served <- web.Serve(serveCtx, cfg, web.Deps{DB: d, Log: slog.New(slog.DiscardHandler)}, func(base string) { ready <- base })
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-served:
		t.Fatalf("serve: %v", err)
	}
	ts := &testServer{t: t, DB: d, Server: &httptest.Server{URL: base}}
	agent := ts.client()
	agent.login("agent@example.com", testPassword)
	// 408: Monime takes the create and never answers.
	id := agent.submit(providers.Monime, agent.openForm(providers.Monime), withValues(validForms(ts)[providers.Monime], map[string]string{"amount": "408"}))
	deadline := time.Now().Add(5 * time.Second)
	for p, _ := db.NewPayouts(d).Get(ctx, id); p.Status != db.StatusSubmitting && time.Now().Before(deadline); p, _ = db.NewPayouts(d).Get(ctx, id) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the create is at the sandbox, held
	start := time.Now()
	stop()
	if err := <-served; err != nil {
		t.Errorf("stopping with a held provider call: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("stopping took %v: it waited for the held call", took)
	}
	if p, err := db.NewPayouts(d).Get(ctx, id); err != nil || p.Status != db.StatusUnknown {
		t.Errorf("the payout whose call was cut short is %s (%v), want unknown", p.Status, err)
	}
}

// TestServeWarnsOfAnExposedSetUp: on an address other machines can reach,
// or at a base URL they can (a reverse proxy's), an open /metrics and a
// plain-http base URL are logged as warnings; on loopback only, or once
// guarded, nothing is.
func TestServeWarnsOfAnExposedSetUp(t *testing.T) {
	d, _ := newAppDB(t)
	serve := func(addr, token, baseURL string) string {
		t.Helper()
		cfg := testConfig()
		cfg.Addr, cfg.MetricsToken, cfg.BaseURL = addr, token, baseURL
		var logs bytes.Buffer
		ctx, stop := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() {
			served <- web.Serve(ctx, cfg, web.Deps{DB: d, Log: slog.New(slog.NewTextHandler(&logs, nil))}, func(string) { stop() })
		}()
		if err := <-served; err != nil {
			t.Fatalf("serve on %s: %v", addr, err)
		}
		return logs.String()
	}
	logs := serve("0.0.0.0:0", "", "")
	for _, want := range []string{"PAYOUTDESK_METRICS_TOKEN", "not https://"} {
		if !strings.Contains(logs, `level=WARN msg="exposed: `) || !strings.Contains(logs, want) {
			t.Errorf("serving on all interfaces with no metrics token over http: no warning naming %q in\n%s", want, logs)
		}
	}
	// Behind a reverse proxy, the base URL says who can reach it.
	logs = serve("127.0.0.1:0", "", "http://payouts.example")
	for _, want := range []string{"PAYOUTDESK_METRICS_TOKEN", "not https://"} {
		if !strings.Contains(logs, `level=WARN msg="exposed: `) || !strings.Contains(logs, want) {
			t.Errorf("serving on loopback at a public http base URL: no warning naming %q in\n%s", want, logs)
		}
	}
	for _, s := range []struct{ addr, token, baseURL string }{
		{"127.0.0.1:0", "", ""},
		{"127.0.0.1:0", "", "http://localhost:8080"},
		{"127.0.0.1:0", "a-long-metrics-token", "https://payouts.example"},
		{"0.0.0.0:0", "a-long-metrics-token", "https://payouts.example"},
	} {
		if logs := serve(s.addr, s.token, s.baseURL); strings.Contains(logs, "level=WARN") {
			t.Errorf("serving on %s with token %q and base URL %q warned:\n%s", s.addr, s.token, s.baseURL, logs)
		}
	}
}

// TestAReplacedCheckpointKeySignsAtOnce: a server that starts without its
// checkpoint key (lost, or moved away to rotate it) makes a new one, says
// so in its log, and signs a checkpoint with it at once, though far fewer
// events than a checkpoint's worth have happened, so that the change is
// itself proven.
func TestAReplacedCheckpointKeySignsAtOnce(t *testing.T) {
	ctx := context.Background()
	d, _ := newAppDB(t, db.RoleAgent)
	cfg := testConfig()
	cfg.Addr, cfg.CheckpointEvery = "127.0.0.1:0", 1000
	first, _, err := web.CheckpointNow(ctx, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(d.Path + ".checkpoint-key"); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var last db.Checkpoint
	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- web.Serve(serveCtx, cfg, web.Deps{DB: d, Log: slog.New(slog.NewTextHandler(&logs, nil))}, func(string) {
			defer stop()
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if last, err = db.NewAudit(d).LastCheckpoint(ctx); err == nil && last.KeyID != first.KeyID {
					return
				}
			}
		})
	}()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if last.KeyID == first.KeyID || last.Seq != first.Seq+1 {
		t.Errorf("last checkpoint %+v; want the new key's, at the change event after seq %d", last, first.Seq)
	}
	if !strings.Contains(logs.String(), `level=WARN msg="checkpoint key changed: checkpoints up to seq 1 were signed by key `+first.KeyID) ||
		!strings.Contains(logs.String(), "the key file was missing") {
		t.Errorf("no warning of the key change in\n%s", logs.String())
	}
	if v, note, err := web.VerifyAudit(ctx, d, cfg); err != nil || note != "" || !v.OK() || v.Checkpoints != 2 {
		t.Errorf("verify across the change = %v, %q, %v; want both checkpoints proven", v, note, err)
	}
}

// TestADamagedKeyRingDoesNotStopTheServer: the key ring only proves the
// past; a damaged one is a warning at start (and a check that cannot run),
// never a server that will not start and send payouts.
func TestADamagedKeyRingDoesNotStopTheServer(t *testing.T) {
	ctx := context.Background()
	d, _ := newAppDB(t, db.RoleAgent)
	cfg := testConfig()
	cfg.BaseURL = "http://127.0.0.1:1"
	if _, _, err := web.CheckpointNow(ctx, d, cfg); err != nil {
		t.Fatal(err)
	}
	// The key moved away, and the ring damaged.
	if err := os.Remove(d.Path + ".checkpoint-key"); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(d.Path+".checkpoint-key.pub", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("not a key\n")
	f.Close()
	var logs bytes.Buffer
	app, err := web.NewServer(cfg, web.Deps{DB: d, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("the server does not start with a damaged key ring: %v", err)
	}
	app.Close()
	if !strings.Contains(logs.String(), "checkpoint key ring:") || !strings.Contains(logs.String(), "checkpoint key changed") {
		t.Errorf("no warning of the damaged ring and the key change in\n%s", logs.String())
	}
}

// TestReconciliationFinishesItsCheckWhenStopping: a check under way when
// the workers are told to stop runs to its end, since the provider may act
// on it (here a replayed create that Monime takes as the first), and its
// answer is recorded before the workers report they have stopped.
func TestReconciliationFinishesItsCheckWhenStopping(t *testing.T) {
	ts := newTestServerConfig(t, false, func(c *web.Config) { c.SendTimeout = 10 * time.Second })
	agent := ts.as(db.RoleAgent)
	// 777: Monime answers after its slow delay (3 s).
	id := agent.submit(providers.Monime, agent.openForm(providers.Monime), withValues(validForms(ts)[providers.Monime], map[string]string{"amount": "777"}))
	// Claimed for sending, then the server "stopped" before the call: on
	// start the payout is unknown and reconciliation replays its create.
	if _, err := db.NewPayouts(ts.DB).ClaimOutbox(t.Context(), time.Now(), 10, func(db.Payout) db.Event {
		return db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.submitting"}
	}); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	wait := ts.App.StartWorkers(ctx)
	sb := ts.App.Sandbox()
	for deadline := time.Now().Add(5 * time.Second); sb.Count(providers.Monime, "payout created") == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			stop()
			wait()
			t.Fatal("reconciliation did not replay the create within 5 s")
		}
	}
	// The replay is at Monime, its answer 3 s away.
	stop()
	wait()
	p, err := db.NewPayouts(ts.DB).Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status == db.StatusUnknown || p.ProviderID == "" {
		t.Errorf("after stopping, the payout is %s with Monime id %q", p.Status, p.ProviderID)
	}
	xs, err := db.NewPayouts(ts.DB).Exchanges(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(xs, func(x db.Exchange) bool { return x.Op == "create payout" && x.Status == http.StatusOK }) {
		t.Errorf("the replayed create's answer is not among the payout's exchanges: %+v", xs)
	}
	if n := sb.Count(providers.Monime, "payout created") + sb.Count(providers.Monime, "replayed"); n != 1 {
		t.Errorf("Monime saw %d creates, want 1", n)
	}
	// Stopped means stopped: the workers record nothing more (Monime's
	// webhooks, which the server still takes, are the provider's events).
	checks := func() (n int) {
		for _, e := range ts.events("") {
			if e.Actor.Type == db.ActorSystem {
				n++
			}
		}
		return n
	}
	before := checks()
	time.Sleep(300 * time.Millisecond)
	if n := checks(); n != before {
		t.Errorf("%d more events by the workers after they stopped", n-before)
	}
}

// A payout the server was sending when it stopped (its attempt recorded,
// its answer never) may have reached its provider: the next start makes
// it unknown, for reconciliation or a manager, and does not send it again.
func TestRestartMakesAnInterruptedSendUnknown(t *testing.T) {
	ts := newTestServerWith(t, false)
	agent := ts.as(db.RoleAgent)
	// Kibramoa: no idempotency key, no lookup by reference; sent again, a
	// second session would be opened.
	id := agent.submit(providers.Kibramoa, agent.openForm(providers.Kibramoa), validForms(ts)[providers.Kibramoa])
	claimed, err := db.NewPayouts(ts.DB).ClaimOutbox(t.Context(), time.Now(), 10, func(db.Payout) db.Event {
		return db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.submitting"}
	})
	if err != nil || len(claimed) != 1 || claimed[0].ID != id {
		t.Fatalf("claimed %d payouts (%v), want payout %d", len(claimed), err, id)
	}
	// The server stops here; the next one starts its workers.
	ts.startWorkers()
	p := ts.waitStatus(id, db.StatusUnknown)
	if ev := ts.events("payout.outcome_unknown"); len(ev) != 1 || !strings.Contains(ev[0].Reason, "stopped") {
		t.Errorf("outcome_unknown events %+v, want one saying the server stopped", ev)
	}
	if n := ts.App.Sandbox().Count(providers.Kibramoa, "payout created"); n != 0 {
		t.Errorf("Kibramoa saw %d payouts after the restart, want none (payout %d is %s)", n, id, p.Status)
	}
}
