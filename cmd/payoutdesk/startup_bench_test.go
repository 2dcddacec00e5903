package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkStartup measures, on an existing database, the time from exec to
// the first 200 from /healthz, and reports the binary's size and the idle
// resident memory of a started server. Run it with
// go test -run '^$' -bench Startup ./cmd/payoutdesk
func BenchmarkStartup(b *testing.B) {
	bin := buildBinary(b)
	st, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	addr := freeAddr(b)
	env := append(os.Environ(), "PAYOUTDESK_ADDR="+addr, "PAYOUTDESK_DB="+filepath.Join(b.TempDir(), "bench.db"), "PAYOUTDESK_LOG_LEVEL=warn")
	// The first start creates the database and the first accounts.
	startServer(b, bin, env, addr).stop(b)

	var rss int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := startServer(b, bin, env, addr)
		b.StopTimer()
		if i == b.N-1 {
			time.Sleep(2 * time.Second)
			rss = residentKiB(b, p.Process.Pid)
		}
		p.stop(b)
		b.StartTimer()
	}
	b.ReportMetric(float64(st.Size())/(1<<20), "binary-MiB")
	b.ReportMetric(float64(rss)/1024, "idle-RSS-MiB")
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
