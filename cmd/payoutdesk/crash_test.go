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

// TestCrashWhileSendingNeverPaysTwice kills the server (SIGKILL, no
// graceful stop) after it recorded a payout's attempt and while the
// provider holds the request, then restarts it. The payout must come back
// as unknown, reconciliation must settle it, and the provider must have
// seen exactly one payout.
//
// Monime runs on a sandbox inside this test process, configured as a live
// provider of the server, so that it outlives the server's crash.
func TestCrashWhileSendingNeverPaysTwice(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "crash.db")
	addr := freeAddr(t)
	base := "http://" + addr
	env := sandboxtest.Start(t, sandbox.Config{
		WebhookURL: func(p providers.Name) string { return base + "/webhooks/" + string(p) },
		Step:       50 * time.Millisecond,
	})
	creds := env.Credentials
	serverEnv := append(os.Environ(),
		"PAYOUTDESK_ADDR="+addr, "PAYOUTDESK_BASE_URL="+base, "PAYOUTDESK_DB="+dbPath,
		"PAYOUTDESK_MONIME_URL="+env.BaseURL(providers.Monime), "PAYOUTDESK_MONIME_TOKEN="+creds.MonimeToken,
		"PAYOUTDESK_MONIME_SPACE_ID="+creds.MonimeSpaceID, "PAYOUTDESK_MONIME_WEBHOOK_SECRET="+creds.MonimeWebhookSecret,
		// Long enough that the crash comes first: the provider never answers.
		"PAYOUTDESK_SEND_TIMEOUT=2m", "PAYOUTDESK_RECONCILE_EVERY=100ms", "PAYOUTDESK_RECONCILE_MAX=1s",
	)
	add := exec.Command(bin, "user", "add", "--email", "agent@example.com", "--role", "agent", "--password-stdin")
	add.Env, add.Stdin = serverEnv, strings.NewReader("correct horse battery staple\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}

	first := startServer(t, bin, serverEnv, addr)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	post(t, hc, base+"/login", url.Values{"email": {"agent@example.com"}, "password": {"correct horse battery staple"}})
	form := get(t, hc, base+"/payouts/new/monime")
	key := regexp.MustCompile(`name="idempotency_key" value="([A-Z2-7]{26})"`).FindStringSubmatch(form)[1]
	page := post(t, hc, base+"/payouts", url.Values{
		"provider": {"monime"}, "idempotency_key": {key}, "amount": {"408"}, "currency": {"SLE"},
		"provider_code": {"m17"}, "account_id": {"+23278123456"},
	})
	payoutURL := base + regexp.MustCompile(`/payouts/\d+`).FindString(page)
	if !strings.Contains(page, `data-status="`) {
		t.Fatalf("no payout page after submitting:\n%.500s", page)
	}
	// The provider has created the payout and holds the answer; the server
	// has recorded the attempt.
	waitUntil(t, "the sandbox to create the payout", func() bool { return env.Sandbox.Count(providers.Monime, "payout created") == 1 })
	waitUntil(t, "the payout to be submitting", func() bool { return strings.Contains(get(t, hc, payoutURL), `data-status="submitting"`) })
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()

	second := startServer(t, bin, serverEnv, addr)
	waitUntil(t, "reconciliation to settle the payout", func() bool { return strings.Contains(get(t, hc, payoutURL), `data-status="paid"`) })
	second.stop(t)

	if n := env.Sandbox.Count(providers.Monime, "payout created"); n != 1 {
		t.Errorf("the provider created %d payouts, want 1", n)
	}
	if n := env.Sandbox.Count(providers.Monime, "replayed"); n < 1 {
		t.Error("reconciliation did not replay the request with its idempotency key")
	}
	d, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	events, err := db.NewAudit(d).ByTarget(context.Background(), "payout", regexp.MustCompile(`\d+$`).FindString(payoutURL))
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
