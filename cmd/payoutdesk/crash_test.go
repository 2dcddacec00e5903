package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
)

// heldSend is a server in the middle of sending a payout to a provider
// that holds its answer.
type heldSend struct {
	bin, addr, dbPath, payoutURL string
	env                          []string
	provider                     *sandboxtest.Env
	hc                           *http.Client
	server                       *process
}

// startHeldSend starts the server with Monime live on a sandbox inside
// this test process, so that it outlives the server, and has an agent
// submit a payout whose answer the provider holds (amount 408) for longer
// than the test runs. It returns once the server has recorded the
// attempt and the provider has created the payout.
func startHeldSend(t *testing.T) heldSend {
	t.Helper()
	h := heldSend{bin: buildBinary(t), addr: freeAddr(t), dbPath: filepath.Join(t.TempDir(), "crash.db")}
	base := "http://" + h.addr
	h.provider = sandboxtest.Start(t, sandbox.Config{
		WebhookURL: func(p providers.Name) string { return base + "/webhooks/" + string(p) },
		Step:       50 * time.Millisecond,
	})
	creds := h.provider.Credentials
	h.env = append(os.Environ(),
		"PAYOUTDESK_ADDR="+h.addr, "PAYOUTDESK_BASE_URL="+base, "PAYOUTDESK_DB="+h.dbPath,
		"PAYOUTDESK_MONIME_URL="+h.provider.BaseURL(providers.Monime), "PAYOUTDESK_MONIME_TOKEN="+creds.MonimeToken,
		"PAYOUTDESK_MONIME_SPACE_ID="+creds.MonimeSpaceID, "PAYOUTDESK_MONIME_WEBHOOK_SECRET="+creds.MonimeWebhookSecret,
		// Long enough that the test ends first: the provider never answers.
		"PAYOUTDESK_SEND_TIMEOUT=2m", "PAYOUTDESK_RECONCILE_EVERY=100ms", "PAYOUTDESK_RECONCILE_MAX=1s",
	)
	add := exec.Command(h.bin, "user", "add", "--email", "agent@example.com", "--role", "agent", "--password-stdin")
	add.Env, add.Stdin = h.env, strings.NewReader("correct horse battery staple\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}

	h.server = startServer(t, h.bin, h.env, h.addr)
	jar, _ := cookiejar.New(nil)
	h.hc = &http.Client{Jar: jar, Timeout: 10 * time.Second}
	post(t, h.hc, base+"/login", url.Values{"email": {"agent@example.com"}, "password": {"correct horse battery staple"}})
	form := get(t, h.hc, base+"/payouts/new/monime")
	key := regexp.MustCompile(`name="idempotency_key" value="([A-Z2-7]{26})"`).FindStringSubmatch(form)[1]
	page := post(t, h.hc, base+"/payouts", url.Values{
		"provider": {"monime"}, "idempotency_key": {key}, "amount": {"408"}, "currency": {"SLE"},
		"provider_code": {"m17"}, "account_id": {"+23278123456"},
	})
	h.payoutURL = base + regexp.MustCompile(`/payouts/\d+`).FindString(page)
	if !strings.Contains(page, `data-status="`) {
		t.Fatalf("no payout page after submitting:\n%.500s", page)
	}
	waitUntil(t, "the sandbox to create the payout", func() bool { return h.provider.Sandbox.Count(providers.Monime, "payout created") == 1 })
	waitUntil(t, "the payout to be submitting", func() bool { return strings.Contains(get(t, h.hc, h.payoutURL), `data-status="submitting"`) })
	return h
}

// TestCrashWhileSendingNeverPaysTwice kills the server (SIGKILL, no
// graceful stop) after it recorded a payout's attempt and while the
// provider holds the request, then restarts it. The payout must come back
// as unknown, reconciliation must settle it, and the provider must have
// seen exactly one payout.
//
// Monime runs on a sandbox inside this test process, configured as a live
// provider of the server, so that it outlives the server's crash.
func TestCrashWhileSendingNeverPaysTwice(t *testing.T) {
	h := startHeldSend(t)
	if err := h.server.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	h.server.Wait()

	second := startServer(t, h.bin, h.env, h.addr)
	waitUntil(t, "reconciliation to settle the payout", func() bool { return strings.Contains(get(t, h.hc, h.payoutURL), `data-status="paid"`) })
	second.stop(t)

	if n := h.provider.Sandbox.Count(providers.Monime, "payout created"); n != 1 {
		t.Errorf("the provider created %d payouts, want 1", n)
	}
	if n := h.provider.Sandbox.Count(providers.Monime, "replayed"); n < 1 {
		t.Error("reconciliation did not replay the request with its idempotency key")
	}
	d, err := db.Open(context.Background(), h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	events, err := db.NewAudit(d).ByTarget(context.Background(), "payout", regexp.MustCompile(`\d+$`).FindString(h.payoutURL))
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range events {
		if after, ok := e.Details["after"].(map[string]any); ok && e.Details["before"].(map[string]any)["status"] != after["status"] {
			trail = append(trail, after["status"].(string))
		}
		if e.Action == "payout.outcome_unknown" && !strings.Contains(e.Reason, "server stopped") {
			t.Errorf("unknown outcome recorded with reason %q", e.Reason)
		}
	}
	if got := strings.Join(trail, " "); !strings.HasPrefix(got, "submitting unknown") || !strings.HasSuffix(got, "paid") {
		t.Errorf("status trail %q, want submitting, unknown, …, paid", got)
	}
	if v, err := db.NewAudit(d).Verify(context.Background()); err != nil || !v.OK() {
		t.Errorf("audit chain after the crash: %v %v", v, err)
	}
}

// TestASecondSignalStopsAtOnce: a graceful stop waits for the payouts
// being sent, up to the send timeout (two minutes here); a second signal
// stops the server at once, and the next start settles the payout whose
// send it cut short, as after a crash.
func TestASecondSignalStopsAtOnce(t *testing.T) {
	h := startHeldSend(t)
	done := make(chan error, 1)
	go func() { done <- h.server.Wait() }()
	if err := h.server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &h.server.stderr, regexp.MustCompile(`msg="shutting down" requests_timeout=15s sends_timeout=2m0s`), 5*time.Second)
	select {
	case err := <-done:
		t.Fatalf("the server stopped (%v) while a payout was being sent, want it to wait for the answer", err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := h.server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the server still runs 10 s after a second SIGTERM:\n%s", h.server.stderr.String())
	}

	second := startServer(t, h.bin, h.env, h.addr)
	waitUntil(t, "reconciliation to settle the payout", func() bool { return strings.Contains(get(t, h.hc, h.payoutURL), `data-status="paid"`) })
	second.stop(t)
	if n := h.provider.Sandbox.Count(providers.Monime, "payout created"); n != 1 {
		t.Errorf("the provider created %d payouts, want 1", n)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, hc *http.Client, u string) string {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func post(t *testing.T, hc *http.Client, u string, form url.Values) string {
	t.Helper()
	resp, err := hc.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		t.Fatalf("POST %s: status %d\n%.500s", u, resp.StatusCode, b)
	}
	return string(b)
}
