package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binDir holds the command built for the tests, removed by TestMain.
var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "payoutdesk-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildBinary compiles the command, once per test run, for the tests and
// benchmarks that run it as a process.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	binOnce.Do(func() {
		bin := filepath.Join(binDir, "payoutdesk")
		// go test puts its own go command first in PATH.
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			binError = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		binPath = bin
	})
	if binError != nil {
		tb.Fatal(binError)
	}
	return binPath
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

// process is a payoutdesk server started by a test, with its output.
type process struct {
	*exec.Cmd
	stdout, stderr lockedBuffer
}

// startServer starts bin with env and waits until it answers GET /healthz
// at addr, the address env gives it.
func startServer(tb testing.TB, bin string, env []string, addr string) *process {
	tb.Helper()
	p := &process{Cmd: exec.Command(bin)}
	p.Env, p.Stdout, p.Stderr = env, &p.stdout, &p.stderr
	if err := p.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Process.Kill() })
	hc := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Microsecond) {
		if resp, err := hc.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
	}
	tb.Fatalf("the server did not answer /healthz within 20 s:\n%s", p.stderr.String())
	return nil
}

// stop sends SIGTERM and waits for a clean exit.
func (p *process) stop(tb testing.TB) {
	tb.Helper()
	if err := p.Process.Signal(syscall.SIGTERM); err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			tb.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(20 * time.Second):
		tb.Fatalf("the server did not stop within 20 s of SIGTERM:\n%s", p.stderr.String())
	}
}

// freeAddr returns a loopback address with a port free at the moment, for
// a server the test starts as another process (and may start again on the
// same address). The port is below the kernel's ephemeral range, from which
// every listener on port 0 and every outgoing connection takes its port:
// so other tests running beside this one cannot take it in the meantime.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	if low > 20000 {
		for range 50 {
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(10000+rand.IntN(low-10000))))
			if err == nil {
				defer ln.Close()
				return ln.Addr().String()
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeFreshDatabase runs the real binary as a newcomer would: on an
// empty database it prints the admin credentials, someone signs in with
// them, and SIGTERM stops it cleanly.
func TestServeFreshDatabase(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	env := append(os.Environ(), "PAYOUTDESK_ADDR="+addr, "PAYOUTDESK_DB="+filepath.Join(dir, "fresh.db"))
	first := startServer(t, bin, env, addr)

	base := waitFor(t, &first.stderr, regexp.MustCompile(`msg=ready url=(http://\S+)`), 5*time.Second)[1]
	admin := waitFor(t, &first.stdout, regexp.MustCompile(`admin\s+(admin@\S+)\s+(\S+)`), time.Second)
	if strings.Contains(first.stderr.String(), admin[2]) {
		t.Error("the admin password was logged")
	}
	for _, role := range []string{"manager", "agent"} {
		if !strings.Contains(first.stdout.String(), role+"@payoutdesk.local") {
			t.Errorf("no demo %s in the first-start output:\n%s", role, first.stdout.String())
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

	first.stop(t)
	if !strings.Contains(first.stderr.String(), "msg=stopped") {
		t.Errorf("no clean-stop log line:\n%s", first.stderr.String())
	}

	// A second start on the same database creates no accounts.
	second := startServer(t, bin, env, addr)
	if out := second.stdout.String(); out != "" {
		t.Errorf("second start printed %q, want nothing (no new accounts)", out)
	}
	second.stop(t)
}

// TestASecondServerOnTheSameDatabaseIsRefused starts a server, then a
// second one on the same database: two would each send the outbox, and the
// second would mark the payouts the first is sending as interrupted. It
// must refuse at once, and the database must be servable again once the
// first has stopped.
func TestASecondServerOnTheSameDatabaseIsRefused(t *testing.T) {
	bin := buildBinary(t)
	dbPath := filepath.Join(t.TempDir(), "one.db")
	addr := freeAddr(t)
	env := append(os.Environ(), "PAYOUTDESK_ADDR="+addr, "PAYOUTDESK_DB="+dbPath)
	first := startServer(t, bin, env, addr)

	second := exec.Command(bin)
	var stdout, stderr lockedBuffer
	second.Env, second.Stdout, second.Stderr = append(os.Environ(), "PAYOUTDESK_ADDR="+freeAddr(t), "PAYOUTDESK_DB="+dbPath), &stdout, &stderr
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- second.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("second server: %v, want exit status 1", err)
		}
	case <-time.After(20 * time.Second):
		second.Process.Kill()
		t.Fatalf("a second server on the same database is still running after 20 s:\n%s", stderr.String())
	}
	if got := stderr.String(); !strings.Contains(got, "another server is serving "+dbPath) || strings.Count(got, "\n") != 1 {
		t.Errorf("second server said %q, want one line naming the database", got)
	}
	first.stop(t)

	third := startServer(t, bin, env, addr)
	third.stop(t)
}

// TestFirstStartThatCannotServeCreatesNoAccounts: a first start that cannot
// listen, or cannot build its server, creates no accounts, so the start
// that works is the one that shows their passwords.
func TestFirstStartThatCannotServeCreatesNoAccounts(t *testing.T) {
	bin := buildBinary(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dbPath := filepath.Join(t.TempDir(), "busy.db")
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PAYOUTDESK_ADDR="+busy.Addr().String(), "PAYOUTDESK_DB="+dbPath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "address already in use") {
		t.Fatalf("serve on a busy address: %v, %q; want it to fail naming the address", err, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("serve on a busy address printed %q, want nothing", stdout.String())
	}

	// Nor on a start whose server cannot be built once it listens: here,
	// its checkpoint key is to be made in a directory that does not exist.
	addr := freeAddr(t)
	cmd = exec.Command(bin)
	cmd.Env = append(os.Environ(), "PAYOUTDESK_ADDR="+addr, "PAYOUTDESK_DB="+dbPath,
		"PAYOUTDESK_CHECKPOINT_KEY="+filepath.Join(t.TempDir(), "missing", "checkpoint.key"))
	stdout.Reset()
	stderr.Reset()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err == nil {
		t.Fatalf("serve with an unusable checkpoint key path started: %q", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("serve that could not build its server printed %q, want nothing", stdout.String())
	}

	next := startServer(t, bin, append(os.Environ(), "PAYOUTDESK_ADDR="+addr, "PAYOUTDESK_DB="+dbPath), addr)
	waitFor(t, &next.stdout, regexp.MustCompile(`admin\s+admin@\S+\s+\S+`), 5*time.Second)
	next.stop(t)
}
