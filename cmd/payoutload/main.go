// Command payoutload measures Payout Desk under load: it starts the server
// in-process on a fresh database (durable commits, the built-in sandbox),
// signs in N agents and has them submit payout forms through HTTP, then
// reports throughput, latency percentiles and where the database's time
// went.
//
// By default each agent submits again as soon as it is answered, which
// finds the most the server can take (and, 32 agents always waiting, makes
// latency 32 / throughput). With -rate the agents share a fixed schedule
// instead: latency then counts from when a submission was due, so a server
// falling behind shows as growing latency rather than a slower schedule.
//
//	go run ./cmd/payoutload -agents 32 -duration 10s
//	go run ./cmd/payoutload -agents 32 -duration 30s -rate 1000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"payoutdesk/db"
	"payoutdesk/handlers"
	"payoutdesk/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "payoutload:", err)
		os.Exit(1)
	}
}

type options struct {
	agents   int
	duration time.Duration
	warmup   time.Duration
	provider string
	step     time.Duration
	dir      string
	rate     int
	// reconcile is the first delay before a payout's provider is asked
	// about it (the server's -reconcile-every).
	reconcile time.Duration
	// checkRate bounds the checks a second (the server's -reconcile-rate).
	checkRate int
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("payoutload", flag.ContinueOnError)
	fs.IntVar(&o.agents, "agents", 32, "concurrent agents")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time before it")
	fs.StringVar(&o.provider, "provider", "mix", "kibramoa, smartglocal, monime, fedapay, or mix (round robin)")
	fs.DurationVar(&o.step, "sandbox-step", 2*time.Second, "sandbox time between status changes")
	fs.StringVar(&o.dir, "dir", "", "directory for the database (default: a new temporary one)")
	fs.IntVar(&o.rate, "rate", 0, "submissions per second, all agents together, on a fixed schedule (default: as fast as answered)")
	fs.DurationVar(&o.reconcile, "reconcile-every", web.DefaultConfig().ReconcileEvery,
		"first delay before reconciliation asks a provider about an open payout, as the server's flag")
	fs.IntVar(&o.checkRate, "reconcile-rate", web.DefaultConfig().ReconcileRate,
		"most reconciliation checks a second, as the server's flag")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured time to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.dir == "" {
		dir, err := os.MkdirTemp("", "payoutload")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.dir = dir
	}
	// As the server sets it.
	web.TuneGC(os.Getenv)
	d, err := db.Open(ctx, filepath.Join(o.dir, "load.db"))
	if err != nil {
		return err
	}
	defer d.Close()

	// The defaults, approval thresholds included: the load's amounts are
	// below them, as most payouts are.
	cfg := web.DefaultConfig()
	cfg.Addr, cfg.SandboxStep, cfg.ReconcileEvery, cfg.ReconcileRate = "127.0.0.1:0", o.step, o.reconcile, o.checkRate
	serveCtx, stopServing := context.WithCancel(context.Background())
	ready, served := make(chan string, 1), make(chan error, 1)
	go func() {
		served <- web.Serve(serveCtx, cfg, web.Deps{DB: d, Log: slog.New(slog.DiscardHandler)}, func(u string) { ready <- u })
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-served:
		stopServing()
		return err
	}
	defer func() { stopServing(); <-served }()

	agents, err := signIn(ctx, d, base, o.agents)
	if err != nil {
		return err
	}
	pace := "as fast as answered"
	if o.rate > 0 {
		pace = fmt.Sprintf("%d a second on a fixed schedule", o.rate)
	}
	fmt.Fprintf(out, "payoutload: %d agents, provider %s, %s, %v warm-up, %v measured, sandbox step %v, reconciliation from %v, at most %d checks/s\n",
		o.agents, o.provider, pace, o.warmup, o.duration, o.step, o.reconcile, o.checkRate)

	warmEnd := time.Now().Add(o.warmup)
	end := warmEnd.Add(o.duration)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		byWindow  = make([][]time.Duration, windows(o.duration))
		failures  int
		statsAt   db.CommitStats // written before wg.Wait returns
		cpuAt     time.Duration  // likewise
		cpuSince  time.Time      // likewise
		wg        sync.WaitGroup
	)
	wg.Go(func() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(warmEnd)):
		}
		statsAt = d.Stats()
		cpuAt, cpuSince = cpuTime(), time.Now()
		if *cpuProfile != "" {
			if f, err := os.Create(*cpuProfile); err == nil {
				pprof.StartCPUProfile(f)
				time.AfterFunc(o.duration, func() { pprof.StopCPUProfile(); f.Close() })
			}
		}
	})
	due := schedule(ctx, o.rate, end)
	for i, hc := range agents {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				start := time.Now()
				if due != nil {
					var ok bool
					if start, ok = <-due; !ok {
						return
					}
				}
				if start.After(end) {
					return
				}
				ok := submit(hc, base, providerFor(o.provider, i+n))
				took := time.Since(start)
				if start.Before(warmEnd) {
					continue
				}
				mu.Lock()
				if ok {
					latencies = append(latencies, took)
					w := min(int(start.Sub(warmEnd)/window), len(byWindow)-1)
					byWindow[w] = append(byWindow[w], took)
				} else {
					failures++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	statsEnd := d.Stats()
	cpu, wall := cpuTime()-cpuAt, time.Duration(0)
	if !cpuSince.IsZero() {
		wall = time.Since(cpuSince)
	}
	report(out, o, latencies, failures, statsAt, statsEnd, wall)
	reportWindows(out, byWindow)
	if cpu > 0 && !cpuSince.IsZero() {
		// From the end of the warm-up until the last agent is answered.
		fmt.Fprintf(out, "cpu:       %.2f ms per submitted payout (the whole process: server, workers, sandbox and agents), %.0f%% of %d cores\n",
			float64(cpu.Microseconds())/1000/float64(max(len(latencies), 1)), 100*cpu.Seconds()/wall.Seconds()/float64(runtime.NumCPU()), runtime.NumCPU())
	}
	if err := answered(ctx, out, d, warmEnd, end); err != nil {
		return err
	}
	if err := finished(ctx, out, d, warmEnd, end, o.duration); err != nil {
		return err
	}
	return backlog(ctx, out, d)
}

// schedule returns, for a positive rate, a channel of the times at which
// submissions are due, rate a second until end; nil for no schedule. Due
// times queue up when the agents fall behind, and keep their value.
func schedule(ctx context.Context, rate int, end time.Time) <-chan time.Time {
	if rate <= 0 {
		return nil
	}
	due := make(chan time.Time, 1<<20)
	go func() {
		defer close(due)
		interval := time.Second / time.Duration(rate)
		next := time.Now()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			now := <-tick.C
			for ; !next.After(now); next = next.Add(interval) {
				if next.After(end) {
					return
				}
				due <- next
			}
		}
	}()
	return due
}

// signIn creates n agents and signs each in with its own cookie jar.
func signIn(ctx context.Context, d *db.DB, base string, n int) ([]*http.Client, error) {
	const password = "load test password"
	transport := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}
	var clients []*http.Client
	for i := range n {
		email := "agent" + strconv.Itoa(i) + "@load.test"
		if _, err := db.NewUsers(d).Create(ctx, email, db.RoleAgent, password,
			db.Event{Actor: db.Actor{Type: db.ActorCLI, ID: "payoutload"}, Action: "user.created"}); err != nil {
			return nil, err
		}
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, Transport: transport, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := hc.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}})
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			return nil, fmt.Errorf("sign in %s: status %d", email, resp.StatusCode)
		}
		clients = append(clients, hc)
	}
	return clients, nil
}

var providerNames = []string{"kibramoa", "smartglocal", "monime", "fedapay"}

func providerFor(choice string, n int) string {
	if choice == "mix" {
		return providerNames[n%len(providerNames)]
	}
	return choice
}

// forms are valid payout forms, one per provider.
var forms = map[string]url.Values{
	"kibramoa": {"amount": {"150.00"}, "currency": {"BRL"}, "country": {"BR"}, "redirect_url": {"https://example.com/done"},
		"user_id": {"customer-42"}},
	"smartglocal": {"amount": {"10.00"}, "currency": {"USD"}, "payment_method": {"bank_account"}, "iban": {"BE68539007547034"},
		"recipient_first_name": {"John"}, "recipient_last_name": {"Johnson"}, "recipient_country_iso3": {"BEL"}},
	"monime":  {"amount": {"25.50"}, "currency": {"SLE"}, "provider_code": {"m17"}, "account_id": {"+23278123456"}},
	"fedapay": {"amount": {"2000"}, "currency": {"XOF"}, "mode": {"mtn_open"}, "firstname": {"Ama"}, "lastname": {"Koffi"}, "phone_country": {"bj"}},
}

// fedapayNumbers hands each FedaPay payout a number of its own: FedaPay
// takes only 3 payouts to one number in 24 hours.
var fedapayNumbers atomic.Int64

// submit posts one payout form with a fresh idempotency key, as the form
// page would have minted it, and reports whether it was created.
func submit(hc *http.Client, base, provider string) bool {
	form := url.Values{"provider": {provider}, "idempotency_key": {handlers.NewIdempotencyKey()}}
	for k, v := range forms[provider] {
		form[k] = v
	}
	if provider == "fedapay" {
		form.Set("phone_number", fmt.Sprintf("9%07d", fedapayNumbers.Add(1)%10_000_000))
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/payouts", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusSeeOther
}

// report prints the submissions' rate and latency, and the writer's work
// over wall: from the end of the warm-up until the last agent was answered,
// which is later than the measured time when the server falls behind.
func report(out io.Writer, o options, lat []time.Duration, failures int, before, after db.CommitStats, wall time.Duration) {
	slices.Sort(lat)
	secs := o.duration.Seconds()
	fmt.Fprintf(out, "submitted: %d payouts in %v = %.0f payouts/s (%d failed)\n", len(lat), o.duration, float64(len(lat))/secs, failures)
	if wall > o.duration+time.Second {
		fmt.Fprintf(out, "           the last was answered %v after the warm-up: the server fell behind\n", wall.Round(time.Millisecond))
	}
	// The writer's work is over the time it took, not the time measured.
	secs = max(wall, o.duration).Seconds()
	fmt.Fprintf(out, "latency:   p50 %v  p95 %v  p99 %v  max %v\n",
		percentile(lat, .50).Round(time.Microsecond), percentile(lat, .95).Round(time.Microsecond),
		percentile(lat, .99).Round(time.Microsecond), percentile(lat, 1).Round(time.Microsecond))
	commits := after.Commits - before.Commits
	txs := after.Transactions - before.Transactions
	if commits > 0 {
		fmt.Fprintf(out, "database:  %d write transactions in %d commits (%.1f per commit), %.0f commits/s;\n",
			txs, commits, float64(txs)/float64(commits), float64(commits)/secs)
		fmt.Fprintf(out, "           the writer was busy %.0f%% of the time, %.0f%% of it in COMMIT (writing the WAL), %.2f ms per commit\n",
			100*time.Duration(after.BusyNanos-before.BusyNanos).Seconds()/secs,
			100*float64(after.CommitNanos-before.CommitNanos)/float64(max(after.BusyNanos-before.BusyNanos, 1)),
			time.Duration((after.CommitNanos-before.CommitNanos)/commits).Seconds()*1000)
		if syncs := after.Syncs - before.Syncs; syncs > 0 {
			fmt.Fprintf(out, "           beside it, %d fsyncs of the WAL, %.2f ms each, syncing %.0f%% of the time\n",
				syncs, time.Duration((after.SyncNanos-before.SyncNanos)/syncs).Seconds()*1000,
				100*time.Duration(after.SyncNanos-before.SyncNanos).Seconds()/secs)
		}
	}
}

// window is the span of the p99 reported for each part of the measured
// time: a sustained rate holds in every one, not on average.
const window = 10 * time.Second

func windows(d time.Duration) int { return max(int((d+window-1)/window), 1) }

// reportWindows prints the p99 of each window of the measured time, by
// when the submissions were due.
func reportWindows(out io.Writer, byWindow [][]time.Duration) {
	if len(byWindow) < 2 {
		return
	}
	fmt.Fprintf(out, "p99 by %v:", window)
	for _, lat := range byWindow {
		slices.Sort(lat)
		fmt.Fprintf(out, " %.1f", float64(percentile(lat, .99).Microseconds())/1000)
	}
	fmt.Fprintln(out, " ms")
}

// finished reports how many payouts reached a final status in the
// measured time (below the submission rate, the lifecycle is falling
// behind) and, per provider, how long they took from the form's submission
// to that status: the end-to-end time an agent waits, most of it the
// sandbox's steps.
func finished(ctx context.Context, out io.Writer, d *db.DB, from, to time.Time, window time.Duration) error {
	rows, err := d.R.QueryContext(ctx, `SELECT provider, created_at, finished_at FROM payouts WHERE finished_at >= ? AND finished_at < ?`,
		from.UTC().Format(db.TimeLayout), to.UTC().Format(db.TimeLayout))
	if err != nil {
		return fmt.Errorf("read finished payouts: %w", err)
	}
	defer rows.Close()
	took := map[string][]time.Duration{}
	n := 0
	for rows.Next() {
		var provider, created, ended string
		if err := rows.Scan(&provider, &created, &ended); err != nil {
			return fmt.Errorf("read finished payouts: %w", err)
		}
		c, err1 := time.Parse(db.TimeLayout, created)
		e, err2 := time.Parse(db.TimeLayout, ended)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("read finished payouts: %w", err)
		}
		took[provider] = append(took[provider], e.Sub(c))
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read finished payouts: %w", err)
	}
	fmt.Fprintf(out, "finished:  %d payouts reached a final status in the measured time = %.0f/s\n", n, float64(n)/window.Seconds())
	for _, provider := range slices.Sorted(maps.Keys(took)) {
		lat := took[provider]
		slices.Sort(lat)
		fmt.Fprintf(out, "           %s, form to final status: p50 %v  p99 %v  max %v\n", provider,
			percentile(lat, .50).Round(time.Millisecond), percentile(lat, .99).Round(time.Millisecond), percentile(lat, 1).Round(time.Millisecond))
	}
	return nil
}

// answered prints how long after their forms the providers' answers to the
// payouts created between from and to were recorded. The send and its
// recording run behind the requests people are waiting on (see
// db.LowPriority): this is how far behind them they ran.
func answered(ctx context.Context, out io.Writer, d *db.DB, from, to time.Time) error {
	created := map[string]time.Time{}
	err := eachRow(ctx, d, func(id, at string) error {
		t, err := time.Parse(db.TimeLayout, at)
		created[id] = t
		return err
	}, `SELECT CAST(id AS TEXT), created_at FROM payouts WHERE created_at >= ? AND created_at < ?`,
		from.UTC().Format(db.TimeLayout), to.UTC().Format(db.TimeLayout))
	if err != nil {
		return fmt.Errorf("read answers: %w", err)
	}
	// Joined here rather than in SQL: the join, written as one query,
	// took minutes after a one-minute run.
	var took []time.Duration
	err = eachRow(ctx, d, func(id, at string) error {
		c, ok := created[id]
		if !ok {
			return nil
		}
		t, err := time.Parse(db.TimeLayout, at)
		took = append(took, t.Sub(c))
		return err
	}, `SELECT target_id, at FROM audit_events WHERE action IN ('payout.submitted', 'payout.send_failed', 'payout.outcome_unknown')`)
	if err != nil {
		return fmt.Errorf("read answers: %w", err)
	}
	slices.Sort(took)
	fmt.Fprintf(out, "answered:  %d sends recorded, form to the provider's answer on record: p50 %v  p99 %v  max %v\n", len(took),
		percentile(took, .50).Round(100*time.Microsecond), percentile(took, .99).Round(100*time.Microsecond), percentile(took, 1).Round(100*time.Microsecond))
	return nil
}

// eachRow runs query and calls fn with each row's two text columns.
func eachRow(ctx context.Context, d *db.DB, fn func(a, b string) error, query string, args ...any) error {
	rows, err := d.R.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return err
		}
		if err := fn(a, b); err != nil {
			return err
		}
	}
	return rows.Err()
}

// percentile returns the p-th percentile (0 to 1) of sorted, 0 if empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// backlog reports how far sending and the providers got.
func backlog(ctx context.Context, out io.Writer, d *db.DB) error {
	counts, err := db.NewPayouts(d).CountByStatus(ctx)
	if err != nil {
		return err
	}
	var parts []string
	for _, s := range db.Statuses {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, counts[s]))
		}
	}
	fmt.Fprintf(out, "at the end: %v\n", parts)
	return nil
}
