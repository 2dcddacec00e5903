package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"payoutdesk/db"
)

// metrics holds the server's Prometheus registry; a registry per server
// keeps tests that start several servers independent.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutdesk_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "payoutdesk_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watchDB exports the database's group-commit and fsync counters, and how
// long the single writer worked on each write batch.
func (m *metrics) watchDB(d *db.DB) {
	batches := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "payoutdesk_db_write_batch_seconds",
		Help:    "How long the writer worked on each batch of write transactions, COMMIT included (not the waits for a WAL fsync); every write waits for the batch before its own.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	})
	d.ObserveBatches(func(t time.Duration) { batches.Observe(t.Seconds()) })
	m.reg.MustRegister(batches,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "payoutdesk_db_commits_total", Help: "SQLite commits made."},
			func() float64 { return float64(d.Stats().Commits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "payoutdesk_db_wal_syncs_total", Help: "fsyncs of the WAL, beside the writer; each makes every commit before it durable."},
			func() float64 { return float64(d.Stats().Syncs) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "payoutdesk_db_transactions_total", Help: "Write transactions committed; several share a commit under load."},
			func() float64 { return float64(d.Stats().Transactions) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "payoutdesk_db_commit_seconds_total", Help: "Time spent in COMMIT, writing the WAL."},
			func() float64 { return time.Duration(d.Stats().CommitNanos).Seconds() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "payoutdesk_db_wal_sync_seconds_total", Help: "Time spent in fsyncs of the WAL."},
			func() float64 { return time.Duration(d.Stats().SyncNanos).Seconds() }),
	)
}

// watchCheckpoints exports whether the checkpointer refuses to sign the
// audit log's head because the log is broken.
func (m *metrics) watchCheckpoints(c *checkpointer) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "payoutdesk_audit_checkpoint_refused",
		Help: "1 while the audit log is found broken and no checkpoint is signed (see the audit.checkpoint_refused event), else 0."},
		func() float64 {
			if c.refused.Load() {
				return 1
			}
			return 0
		}))
}

// watchChecks exports reconciliation's backlog: how many payouts are due
// for a check and how long the longest has waited. Past the checks' rate
// budget (-reconcile-rate) they wait, and nothing else would show it.
func (m *metrics) watchChecks(payouts *db.Payouts, now func() time.Time) {
	m.reg.MustRegister(overdueCollector{payouts: payouts, now: now,
		count: prometheus.NewDesc("payoutdesk_reconcile_overdue_payouts",
			"Payouts whose check by reconciliation is due: the backlog behind its rate budget.", nil, nil),
		age: prometheus.NewDesc("payoutdesk_reconcile_overdue_seconds",
			"How long the payout overdue longest has waited for its check; 0 when none is.", nil, nil),
	})
}

// overdueCollector reads the backlog at each scrape, in one indexed count.
type overdueCollector struct {
	payouts    *db.Payouts
	now        func() time.Time
	count, age *prometheus.Desc
}

func (c overdueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.count; ch <- c.age }

func (c overdueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := c.now()
	n, since, err := c.payouts.Overdue(ctx, now)
	if err != nil {
		// Left out of this scrape rather than failing the others.
		return
	}
	age := 0.0
	if n > 0 {
		age = max(now.Sub(since).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}

func (m *metrics) observe(route, method string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// handler serves the metrics, behind a bearer token when one is configured.
func (m *metrics) handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	// Digests are compared, not the texts: ConstantTimeCompare returns at
	// once on texts of different lengths, so a client timing its guesses
	// would learn the token's length.
	want := sha256.Sum256([]byte("Bearer " + token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
