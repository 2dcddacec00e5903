// Command auditbench measures the audit log at scale: it builds (once) a
// database with a million chained audit events, then times the audit log's
// pages through the real HTTP handlers, the CSV export, and the chain's
// verification against the raw SHA-256 rate over the same bytes.
//
//	go run ./cmd/auditbench -dir /tmp/auditbench            # everything
//	go run ./cmd/auditbench -dir /tmp/auditbench -only export  # export alone, for its peak memory
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"payoutdesk/db"
	"payoutdesk/web"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "auditbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("auditbench", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory for the database, kept between runs (default: a new temporary one)")
	events := fs.Int("events", 1_000_000, "audit events to generate")
	requests := fs.Int("requests", 200, "requests per audit page measured")
	only := fs.String("only", "", "run one part: pages, export or verify")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the measured parts to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "auditbench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	d, err := db.Open(ctx, filepath.Join(*dir, "audit.db"))
	if err != nil {
		return err
	}
	defer d.Close()
	if err := generate(ctx, d, *events, out); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *only == "" || *only == "verify" {
		if err := verify(ctx, d, out); err != nil {
			return err
		}
	}
	if *only == "verify" {
		return nil
	}
	base, client, stop, err := serve(ctx, d)
	if err != nil {
		return err
	}
	defer stop()
	if *only == "" || *only == "pages" {
		if err := pages(ctx, d, base, client, *requests, out); err != nil {
			return err
		}
	}
	if *only == "" || *only == "export" {
		return export(base, client, out)
	}
	return nil
}

var (
	actions   = []string{"payout.created", "payout.submitting", "payout.submitted", "payout.status_changed", "webhook.received", "auth.login.succeeded", "auth.login.failed", "audit.viewed"}
	providers = []string{"kibramoa", "smartglocal", "monime", "fedapay"}
)

// generate appends events until the log holds n: their times spread over
// the last 90 days in sequence order, about 2% failures, details with a
// few words from a 5,000-word vocabulary.
func generate(ctx context.Context, d *db.DB, n int, out io.Writer) error {
	var have int
	if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_events`).Scan(&have); err != nil {
		return err
	}
	if have >= n {
		fmt.Fprintf(out, "log: %d events already there\n", have)
		return nil
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(7, uint64(have)))
	first := time.Now().Add(-90 * 24 * time.Hour)
	for i := have; i < n; {
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			for end := min(i+5000, n); i < end; i++ {
				e := db.Event{
					At:       first.Add(time.Duration(float64(i) / float64(n) * float64(90*24*time.Hour))),
					Actor:    db.Actor{Type: db.ActorUser, ID: strconv.Itoa(rng.IntN(50) + 1), Email: fmt.Sprintf("agent%d@example.com", rng.IntN(50)+1), Role: db.RoleAgent},
					Action:   actions[rng.IntN(len(actions))],
					Outcome:  db.OutcomeSuccess,
					Provider: providers[rng.IntN(len(providers))],
					Origin:   db.Origin{IP: "192.0.2." + strconv.Itoa(rng.IntN(250)), UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", RequestID: strconv.FormatUint(rng.Uint64(), 36)},
					Details: map[string]any{
						"note":      fmt.Sprintf("w%d w%d w%d", rng.IntN(5000), rng.IntN(5000), rng.IntN(5000)),
						"reference": fmt.Sprintf("PD-%016X", rng.Uint64()),
						"before":    map[string]any{"status": "processing"}, "after": map[string]any{"status": "paid"},
					},
				}
				if rng.IntN(50) == 0 {
					e.Outcome = db.OutcomeFailure
				}
				if rng.IntN(2) == 0 {
					e.TargetType, e.TargetID = "payout", strconv.Itoa(rng.IntN(200_000)+1)
				}
				if err := db.Append(ctx, tx, &e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if _, err := db.NewAudit(d).IndexText(ctx); err != nil {
		return err
	}
	if _, err := d.W.ExecContext(ctx, `ANALYZE`); err != nil {
		return err
	}
	fmt.Fprintf(out, "log: generated %d events in %v\n", n-have, time.Since(start).Round(time.Second))
	return nil
}

// serve starts the application on loopback and signs a manager in.
func serve(ctx context.Context, d *db.DB) (base string, client *http.Client, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	base = "http://" + ln.Addr().String()
	cfg := web.DefaultConfig()
	cfg.BaseURL = base
	// No workers: the generated log is not signed as it grows, and
	// checkpoints are not what this measures.
	app, err := web.NewServer(cfg, web.Deps{DB: d, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		ln.Close()
		return "", nil, nil, err
	}
	srv := &http.Server{Handler: app.Handler()}
	go srv.Serve(ln)
	stop = func() { srv.Close(); app.Close() }
	const email, password = "bench-manager@example.com", "bench manager password"
	if _, err := db.NewUsers(d).ByEmail(ctx, email); err != nil {
		if _, err := db.NewUsers(d).Create(ctx, email, db.RoleManager, password, db.Event{Actor: db.Actor{Type: db.ActorCLI, ID: "auditbench"}, Action: "user.created"}); err != nil {
			stop()
			return "", nil, nil, err
		}
	}
	jar, _ := cookiejar.New(nil)
	client = &http.Client{Jar: jar, Timeout: 5 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		stop()
		return "", nil, nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		stop()
		return "", nil, nil, fmt.Errorf("sign in %s: status %d, want 303", email, resp.StatusCode)
	}
	return base, client, stop, nil
}

// pages times the audit log's pages through HTTP, the handler's own
// "audit.viewed" write included.
func pages(ctx context.Context, d *db.DB, base string, client *http.Client, n int, out io.Writer) error {
	var mid int64
	d.R.QueryRowContext(ctx, `SELECT max(seq) / 2 FROM audit_events`).Scan(&mid)
	week := time.Now().Add(-7 * 24 * time.Hour).UTC().Format("2006-01-02T15:04")
	queries := []struct{ name, query string }{
		{"(a) newest first", ""},
		{"(b) action + provider", "action=webhook.received&provider=monime"},
		{"(b) same, deep page", "action=webhook.received&provider=monime&before=" + strconv.FormatInt(mid, 10)},
		{"(c) free text in details", "q=w1234"},
		{"(c) free text, common word", "q=paid"},
		{"(d) failures, last 7 days", "outcome=failure&from=" + week},
		{"one payout's events", "payout=4242"},
	}
	fmt.Fprintf(out, "pages: %d requests each, 50 events a page, through HTTP\n", n)
	for _, q := range queries {
		var took []time.Duration
		for i := 0; i < n+5; i++ {
			start := time.Now()
			resp, err := client.Get(base + "/audit?" + q.query)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: status %d", q.name, resp.StatusCode)
			}
			if i >= 5 {
				took = append(took, time.Since(start))
			}
		}
		slices.Sort(took)
		fmt.Fprintf(out, "  %-28s p50 %6.2f ms  p95 %6.2f ms  p99 %6.2f ms\n", q.name,
			ms(took[len(took)/2]), ms(took[len(took)*95/100]), ms(took[len(took)*99/100]))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// export times the CSV export of the whole log and reports the process's
// peak resident memory (run with -only export to see the export's alone).
func export(base string, client *http.Client, out io.Writer) error {
	// The login's password hash (argon2id, 19 MiB) left garbage that the
	// runtime has not yet handed back: hand it back, so that the peak below
	// is the export's.
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets the process's peak (VmHWM) to now.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak memory: %w", err)
	}
	before := procStatus("VmRSS:")
	start := time.Now()
	resp, err := client.Get(base + "/audit/export?format=csv")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewReaderSize(resp.Body, 1<<20)
	var lines int64
	var bytes int64
	for {
		line, err := sc.ReadSlice('\n')
		bytes += int64(len(line))
		if len(line) > 0 && line[len(line)-1] == '\n' {
			lines++
		}
		if err == io.EOF {
			break
		}
		if err != nil && err != bufio.ErrBufferFull {
			return err
		}
	}
	took := time.Since(start)
	rows := lines - 1
	fmt.Fprintf(out, "export: %d rows (%d MiB) as CSV in %v = %.0f rows/s; RSS of this process %s before, peak %s\n",
		rows, bytes>>20, took.Round(time.Millisecond), float64(rows)/took.Seconds(), before, procStatus("VmHWM:"))
	return nil
}

// procStatus reads one memory figure of this process from /proc, such as
// VmHWM, its peak resident memory.
func procStatus(field string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// verify times the chain's verification, and SHA-256 alone over the same
// bytes the verification hashes (each predecessor hash and canonical event).
func verify(ctx context.Context, d *db.DB, out io.Writer) error {
	// The first run reads the file into the operating system's cache, as
	// any earlier read would have: timing it would time the disk instead.
	audit := db.NewAudit(d)
	var v db.Verification
	var runs []time.Duration
	for i := range 4 {
		start := time.Now()
		var err error
		if v, err = audit.Verify(ctx); err != nil {
			return err
		}
		if i > 0 {
			runs = append(runs, time.Since(start))
		}
	}
	if !v.OK() {
		return fmt.Errorf("the generated log does not verify: %v", v)
	}
	slices.Sort(runs)
	took := runs[len(runs)/2]
	// The same bytes, gathered once in memory: each predecessor's hash and
	// each event's canonical encoding.
	rows, err := d.R.QueryContext(ctx, `SELECT canon, hash FROM audit_events ORDER BY seq`)
	if err != nil {
		return err
	}
	var all []byte
	var ends []int
	var canon, hash sql.RawBytes
	prev := make([]byte, 32)
	for rows.Next() {
		if err := rows.Scan(&canon, &hash); err != nil {
			rows.Close()
			return err
		}
		all = append(all, prev...)
		all = append(all, canon...)
		ends = append(ends, len(all))
		prev, _ = hex.DecodeString(string(hash))
	}
	rows.Close()
	start := time.Now()
	from := 0
	for _, end := range ends {
		sum := sha256.Sum256(all[from:end])
		_ = sum
		from = end
	}
	raw := time.Since(start)
	mb := float64(len(all)) / (1 << 20)
	fmt.Fprintf(out, "verify: %d events, %.0f MiB hashed, in %v (median of %v) = %.0f MiB/s; SHA-256 alone over the same bytes %v = %.0f MiB/s; verify runs at %.0f%% of raw SHA-256\n",
		v.Events, mb, took.Round(time.Millisecond), roundAll(runs), mb/took.Seconds(), raw.Round(time.Millisecond), mb/raw.Seconds(), 100*raw.Seconds()/took.Seconds())
	return nil
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}
