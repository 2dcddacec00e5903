package main

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStartup measures, on an existing database, the time from exec to
// the first 200 from /healthz, and reports the binary's size and the idle
// resident memory of a started server. Run it with
// go test -run '^$' -bench Startup ./cmd/payoutdesk
func BenchmarkStartup(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "payoutdesk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	st, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := append(os.Environ(), "PAYOUTDESK_ADDR="+addr, "PAYOUTDESK_DB="+filepath.Join(dir, "bench.db"), "PAYOUTDESK_LOG_LEVEL=warn")
	// The first start creates the database and the first accounts.
	first := start(b, bin, env, addr)
	stop(b, first)

	var rss int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := start(b, bin, env, addr)
		if i == b.N-1 {
			b.StopTimer()
			time.Sleep(2 * time.Second)
			rss = residentKiB(b, cmd.Process.Pid)
			b.StartTimer()
		}
		b.StopTimer()
		stop(b, cmd)
		b.StartTimer()
	}
	b.ReportMetric(float64(st.Size())/(1<<20), "binary-MiB")
	b.ReportMetric(float64(rss)/1024, "idle-RSS-MiB")
}

func start(b *testing.B, bin string, env []string, addr string) *exec.Cmd {
	cmd := exec.Command(bin)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	cmd.Process.Kill()
	b.Fatal("server did not answer /healthz within 10 s")
	return nil
}

func stop(b *testing.B, cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		b.Fatalf("server exit: %v", err)
	}
}

func residentKiB(b *testing.B, pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Skip("no /proc to read the resident size from")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
