package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles the command once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "payoutdesk")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls the buffer until re matches, failing after timeout.
func waitFor(t *testing.T, buf *lockedBuffer, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(buf.String()); m != nil {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no match for %s in:\n%s", re, buf.String())
	return nil
}

// TestServeFreshDatabase runs the real binary as a newcomer would: on an
// empty database it prints the admin credentials, someone signs in with
// them, and SIGTERM stops it cleanly.
func TestServeFreshDatabase(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	var stdout, stderr lockedBuffer
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PAYOUTDESK_ADDR=127.0.0.1:0", "PAYOUTDESK_DB="+filepath.Join(dir, "fresh.db"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	base := waitFor(t, &stderr, regexp.MustCompile(`msg=ready url=(http://\S+)`), 20*time.Second)[1]
	admin := waitFor(t, &stdout, regexp.MustCompile(`admin\s+(admin@\S+)\s+(\S+)`), time.Second)
	if strings.Contains(stderr.String(), admin[2]) {
		t.Error("the admin password was logged")
	}
	for _, role := range []string{"manager", "agent"} {
		if !strings.Contains(stdout.String(), role+"@payoutdesk.local") {
			t.Errorf("no demo %s in the first-start output:\n%s", role, stdout.String())
		}
	}

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	resp, err := hc.PostForm(base+"/login", url.Values{"email": {admin[1]}, "password": {admin[2]}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `data-testid="dashboard-email">`+admin[1]) {
		t.Fatalf("after signing in: status %d, want the admin's dashboard", resp.StatusCode)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not stop within 20 s of SIGTERM")
	}
	if !strings.Contains(stderr.String(), "msg=stopped") {
		t.Errorf("no clean-stop log line:\n%s", stderr.String())
	}

	// A second start on the same database creates no accounts.
	var out2, err2 lockedBuffer
	cmd2 := exec.Command(bin)
	cmd2.Dir, cmd2.Env = dir, cmd.Env
	cmd2.Stdout, cmd2.Stderr = &out2, &err2
	if err := cmd2.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd2.Process.Kill() })
	waitFor(t, &err2, regexp.MustCompile(`msg=ready`), 20*time.Second)
	if out2.String() != "" {
		t.Errorf("second start printed %q, want nothing (no new accounts)", out2.String())
	}
	cmd2.Process.Signal(syscall.SIGTERM)
	if err := cmd2.Wait(); err != nil {
		t.Errorf("second server: %v", err)
	}
}
