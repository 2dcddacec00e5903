package handlers_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"payoutdesk/db"
	"payoutdesk/handlers"
	"payoutdesk/providers"
	"payoutdesk/views"
)

// overviewNow is the handler's clock: the default period (7d) is then
// 2026-03-01 to 2026-03-07, that is [2026-03-01, 2026-03-08) in UTC.
var overviewNow = time.Date(2026, 3, 7, 15, 30, 0, 0, time.UTC)

// dated is a payout as the overview tests need it.
type dated struct {
	provider string
	status   db.Status
	currency string
	amount   int64
	at       string
	code     string
	message  string
}

type overviewEnv struct {
	d       *db.DB
	user    db.User
	payouts *db.Payouts
	n       int
}

func newOverviewEnv(t *testing.T) *overviewEnv {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "overview.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	u, err := db.NewUsers(d).Create(context.Background(), "manager@example.com", db.RoleManager, "correct horse battery",
		db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.created"})
	if err != nil {
		t.Fatal(err)
	}
	return &overviewEnv{d: d, user: u, payouts: db.NewPayouts(d)}
}

// create makes a payout through the store, in the given initial status.
func (e *overviewEnv) create(t *testing.T, provider string, status db.Status, currency string, amount int64) int64 {
	t.Helper()
	e.n++
	key := "key-" + strconv.Itoa(e.n)
	p, _, err := e.payouts.Create(context.Background(), db.NewPayout{
		Provider: provider, Status: status, AmountMinor: amount, Currency: currency, IdempotencyKey: key,
		Reference: "ref-" + key, Fields: map[string]string{}, BeneficiaryName: "Ada Lovelace",
		BeneficiaryAccount: "12345678", BeneficiaryCountry: "SL", CreatedBy: e.user.ID,
	}, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.created"})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// seed creates payouts, then sets their date, status and error with SQL.
func (e *overviewEnv) seed(t *testing.T, rows ...dated) {
	t.Helper()
	for _, r := range rows {
		id := e.create(t, r.provider, db.StatusPendingApproval, r.currency, r.amount)
		at, err := time.Parse(db.TimeLayout, r.at)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.d.W.ExecContext(context.Background(),
			`UPDATE payouts SET status = ?, created_at = ?, error_code = ?, error_message = ? WHERE id = ?`,
			r.status, at.Format(db.TimeLayout), r.code, r.message, id)
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (e *overviewEnv) handler(log *slog.Logger) *handlers.Overview {
	return &handlers.Overview{Log: log, Reports: db.NewReports(e.d), Rails: providers.NewRegistry(), Now: func() time.Time { return overviewNow }}
}

func getOverview(t *testing.T, h *handlers.Overview, target string) (int, *goquery.Document) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	ctx := views.WithChrome(req.Context(), &views.Chrome{User: &views.CurrentUser{ID: 1, Email: "manager@example.com", Role: db.RoleManager}, Path: "/overview"})
	ctx = handlers.WithUser(ctx, db.User{ID: 1, Email: "manager@example.com", Role: db.RoleManager})
	rec := httptest.NewRecorder()
	h.Show(rec, req.WithContext(ctx))
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Code, doc
}

// texts joins the trimmed text of each element of s with "|".
func texts(s *goquery.Selection) string {
	var out []string
	s.Each(func(_ int, e *goquery.Selection) { out = append(out, strings.TrimSpace(e.Text())) })
	return strings.Join(out, "|")
}

func TestOverviewShowsThePeriod(t *testing.T) {
	e := newOverviewEnv(t)
	e.seed(t,
		// On the period's first and last microsecond: counted.
		dated{"kibramoa", db.StatusPaid, "USD", 150000, "2026-03-01T00:00:00.000000Z", "", ""},
		dated{"kibramoa", db.StatusPaid, "USD", 25050, "2026-03-07T23:59:59.999999Z", "", ""},
		dated{"kibramoa", db.StatusPaid, "XOF", 2000, "2026-03-02T12:00:00.000000Z", "", ""},
		dated{"kibramoa", db.StatusFailed, "USD", 100, "2026-03-02T08:00:00.000000Z", "E42", "Account closed"},
		dated{"kibramoa", db.StatusFailed, "USD", 300, "2026-03-03T08:00:00.000000Z", "E42", "Account closed"},
		dated{"kibramoa", db.StatusFailed, "XOF", 500, "2026-03-03T09:00:00.000000Z", "E42", "Account closed"},
		dated{"monime", db.StatusPaid, "SLE", 5000, "2026-03-03T10:00:00.000000Z", "", ""},
		dated{"monime", db.StatusFailed, "SLE", 700, "2026-03-03T11:00:00.000000Z", "insufficient_funds", "Not enough money"},
		dated{"fedapay", db.StatusFailed, "XOF", 1000, "2026-03-05T00:00:00.000000Z", "declined", "Declined by bank"},
		dated{"fedapay", db.StatusFailed, "XOF", 1000, "2026-03-05T01:00:00.000000Z", "declined", "Declined by bank"},
		dated{"fedapay", db.StatusPendingApproval, "XOF", 3000, "2026-03-06T01:00:00.000000Z", "", ""},
		// One microsecond before and exactly at the end: not counted.
		dated{"kibramoa", db.StatusPaid, "USD", 99900, "2026-02-28T23:59:59.999999Z", "", ""},
		dated{"monime", db.StatusFailed, "SLE", 99900, "2026-03-08T00:00:00.000000Z", "E42", "Account closed"},
		// Waiting for approval since long ago: in the backlog, not in the period.
		dated{"smartglocal", db.StatusPendingApproval, "EUR", 100, "2025-01-01T00:00:00.000000Z", "", ""},
	)
	// An unknown outcome reached through the lifecycle, dated long ago.
	id := e.create(t, "monime", db.StatusQueued, "SLE", 4200)
	for _, to := range []db.Status{db.StatusSubmitting, db.StatusUnknown} {
		err := e.payouts.Change(context.Background(), id, db.Change{To: to},
			db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.status_changed"})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.d.W.Exec(`UPDATE payouts SET created_at = '2024-05-01T00:00:00.000000Z' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}

	code, doc := getOverview(t, e.handler(slog.New(slog.DiscardHandler)), "/overview")
	if code != http.StatusOK {
		t.Fatalf("status %d, want 200", code)
	}
	period := doc.Find(`[data-testid="overview-period"]`)
	if got := period.AttrOr("data-from", "") + ".." + period.AttrOr("data-to", ""); got != "2026-03-01..2026-03-07" {
		t.Errorf("period %s, want 2026-03-01..2026-03-07", got)
	}
	if n := doc.Find(`[data-testid="overview-period-error"]`).Length(); n != 0 {
		t.Errorf("%d period errors on a plain request, want 0", n)
	}

	t.Run("totals", func(t *testing.T) {
		got := map[string]string{}
		doc.Find(`[data-testid="overview-total"]`).Each(func(_ int, s *goquery.Selection) {
			got[s.AttrOr("data-provider", "")+"/"+s.AttrOr("data-status", "")] = s.AttrOr("data-count", "") + ": " + texts(s.Find("li"))
		})
		want := map[string]string{
			"kibramoa/paid":            "3: 1,750.50 USD|2,000 XOF",
			"kibramoa/failed":          "3: 4.00 USD|500 XOF",
			"monime/paid":              "1: 50.00 SLE",
			"monime/failed":            "1: 7.00 SLE",
			"fedapay/failed":           "2: 2,000 XOF",
			"fedapay/pending_approval": "1: 3,000 XOF",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("status totals (-want +got):\n%s", diff)
		}
		var providers []string
		doc.Find(`[data-testid="overview-provider"]`).Each(func(_ int, s *goquery.Selection) {
			row := s.Find(`[data-testid="overview-provider-total"]`)
			providers = append(providers, s.AttrOr("data-provider", "")+" "+row.AttrOr("data-count", "")+": "+texts(row.Find("li")))
		})
		wantProviders := []string{"kibramoa 6: 1,754.50 USD|2,500 XOF", "monime 2: 57.00 SLE", "fedapay 3: 5,000 XOF"}
		if diff := cmp.Diff(wantProviders, providers); diff != "" {
			t.Errorf("provider totals (-want +got):\n%s", diff)
		}
		if got := doc.Find(`[data-testid="overview-created"]`).AttrOr("data-count", ""); got != "11" {
			t.Errorf("payouts created: got %s, want 11", got)
		}
		paid := doc.Find(`[data-testid="overview-paid"]`)
		if got := paid.AttrOr("data-count", "") + ": " + texts(paid.Find("li")); got != "4: 50.00 SLE|1,750.50 USD|2,000 XOF" {
			t.Errorf("paid: got %q, want one amount per currency", got)
		}
	})

	t.Run("backlog", func(t *testing.T) {
		for _, tt := range []struct{ testid, count, href string }{
			{"overview-pending", "2", "/approvals"},
			{"overview-unknown", "1", "/payouts/unknown"},
		} {
			s := doc.Find(`[data-testid="` + tt.testid + `"]`)
			if got := strings.TrimSpace(s.Find(".stat").Text()); got != tt.count {
				t.Errorf("%s: got %q, want %s", tt.testid, got, tt.count)
			}
			if got := s.Find("a").AttrOr("href", ""); got != tt.href {
				t.Errorf("%s links to %q, want %s", tt.testid, got, tt.href)
			}
			// Counted whatever the period, they say so beside its totals.
			if got := s.Find("h2").Text(); !strings.HasSuffix(got, " now") {
				t.Errorf("%s is headed %q, which does not say it is counted now rather than in the period", tt.testid, got)
			}
		}
	})

	t.Run("failure reasons", func(t *testing.T) {
		var got []string
		doc.Find(`[data-testid="overview-failure"]`).Each(func(_ int, s *goquery.Selection) {
			got = append(got, s.AttrOr("data-provider", "")+" "+s.AttrOr("data-code", "")+" "+s.AttrOr("data-count", ""))
		})
		want := []string{"kibramoa E42 3", "fedapay declined 2", "monime insufficient_funds 1"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("failure reasons (-want +got):\n%s", diff)
		}
	})

	t.Run("chart", func(t *testing.T) {
		got := map[string]string{}
		doc.Find(`[data-testid="overview-chart"] rect[data-provider]`).Each(func(_ int, s *goquery.Selection) {
			got[s.AttrOr("data-day", "")+" "+s.AttrOr("data-provider", "")] = s.AttrOr("data-count", "")
			if s.AttrOr("fill", "") == "" || s.AttrOr("style", "") != "" {
				t.Errorf("bar %s %s: fill %q style %q, want a fill attribute and no style",
					s.AttrOr("data-day", ""), s.AttrOr("data-provider", ""), s.AttrOr("fill", ""), s.AttrOr("style", ""))
			}
		})
		want := map[string]string{
			"2026-03-01 kibramoa": "1",
			"2026-03-02 kibramoa": "2",
			"2026-03-03 kibramoa": "2",
			"2026-03-03 monime":   "2",
			"2026-03-05 fedapay":  "2",
			"2026-03-06 fedapay":  "1",
			"2026-03-07 kibramoa": "1",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("bars (-want +got):\n%s", diff)
		}
		var legend []string
		doc.Find(`[data-testid="overview-legend-item"]`).Each(func(_ int, s *goquery.Selection) {
			legend = append(legend, s.AttrOr("data-provider", "")+" "+s.AttrOr("data-count", ""))
		})
		if diff := cmp.Diff([]string{"kibramoa 6", "monime 2", "fedapay 3"}, legend); diff != "" {
			t.Errorf("legend (-want +got):\n%s", diff)
		}
		if n := doc.Find(`[data-testid="overview-chart-table"] tbody tr`).Length(); n != 7 {
			t.Errorf("chart table has %d days, want 7 (days without payouts included)", n)
		}
	})
}

// TestOverviewAmountsPastInt64: amounts that add up past what an int64
// holds (two of 5e18 minor units) are said to be more than its largest,
// rather than fail the page or wrap around to a wrong figure; sums just
// below it are exact, to the last minor unit.
func TestOverviewAmountsPastInt64(t *testing.T) {
	e := newOverviewEnv(t)
	const half = 4_611_686_018_427_387_903 // twice this is MaxInt64 - 1
	e.seed(t,
		dated{"monime", db.StatusPaid, "SLE", 5e18, "2026-03-02T00:00:00.000000Z", "", ""},
		dated{"monime", db.StatusPaid, "SLE", 5e18, "2026-03-02T01:00:00.000000Z", "", ""},
		dated{"kibramoa", db.StatusPaid, "USD", half, "2026-03-02T02:00:00.000000Z", "", ""},
		dated{"kibramoa", db.StatusFailed, "USD", half, "2026-03-02T03:00:00.000000Z", "", ""},
		dated{"kibramoa", db.StatusFailed, "USD", 1, "2026-03-02T04:00:00.000000Z", "", ""},
	)
	code, doc := getOverview(t, e.handler(slog.New(slog.DiscardHandler)), "/overview")
	if code != http.StatusOK {
		t.Fatalf("status %d, want 200", code)
	}
	got := map[string]string{}
	doc.Find(`[data-testid="overview-provider"]`).Each(func(_ int, s *goquery.Selection) {
		got[s.AttrOr("data-provider", "")] = texts(s.Find(`[data-testid="overview-provider-total"] li`))
	})
	want := map[string]string{
		"monime":   "more than 92,233,720,368,547,758.07 SLE",
		"kibramoa": "92,233,720,368,547,758.07 USD",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("provider totals (-want +got):\n%s", diff)
	}
}

func TestOverviewPeriods(t *testing.T) {
	e := newOverviewEnv(t)
	// One payout a day from 2025-12-01 to 2026-03-07.
	var rows []dated
	for d := time.Date(2025, 12, 1, 12, 0, 0, 0, time.UTC); d.Before(overviewNow); d = d.AddDate(0, 0, 1) {
		rows = append(rows, dated{"monime", db.StatusPaid, "SLE", 100, d.Format(db.TimeLayout), "", ""})
	}
	e.seed(t, rows...)
	h := e.handler(slog.New(slog.DiscardHandler))

	tests := []struct {
		name      string
		query     string
		wantKey   string
		wantFrom  string
		wantTo    string
		wantCount string
		wantError string
	}{
		{"default is the last 7 days", "", "7d", "2026-03-01", "2026-03-07", "7", ""},
		{"today", "period=today", "today", "2026-03-07", "2026-03-07", "1", ""},
		{"30 days", "period=30d", "30d", "2026-02-06", "2026-03-07", "30", ""},
		{"90 days", "period=90d", "90d", "2025-12-08", "2026-03-07", "90", ""},
		{"explicit days, both included", "from=2026-01-10&to=2026-01-12", "custom", "2026-01-10", "2026-01-12", "3", ""},
		{"one explicit day", "from=2026-01-10&to=2026-01-10", "custom", "2026-01-10", "2026-01-10", "1", ""},
		{"explicit days win over a preset", "period=today&from=2026-01-10&to=2026-01-11", "custom", "2026-01-10", "2026-01-11", "2", ""},
		{"from alone runs to today", "from=2026-03-05", "custom", "2026-03-05", "2026-03-07", "3", ""},
		{"to alone is a week", "to=2026-01-31", "custom", "2026-01-25", "2026-01-31", "7", ""},
		{"before the first payout", "from=2025-11-01&to=2025-11-30", "custom", "2025-11-01", "2025-11-30", "0", ""},
		{"unknown period", "period=year", "7d", "2026-03-01", "2026-03-07", "7", `the period "year" is not one of`},
		{"bad date", "from=10/01/2026&to=2026-01-12", "7d", "2026-03-01", "2026-03-07", "7", "dates must look like"},
		{"bad date keeps the preset", "period=30d&to=yesterday", "30d", "2026-02-06", "2026-03-07", "30", "dates must look like"},
		{"first day after the last", "from=2026-01-12&to=2026-01-10", "7d", "2026-03-01", "2026-03-07", "7", "first day comes after the last"},
		{"too long", "from=2025-01-01&to=2026-03-07", "7d", "2026-03-01", "2026-03-07", "7", "at most 366 days"},
		{"bad period, good dates", "period=1y&from=2026-01-10&to=2026-01-12", "custom", "2026-01-10", "2026-01-12", "3", `the period "1y"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, doc := getOverview(t, h, "/overview?"+tt.query)
			if code != http.StatusOK {
				t.Fatalf("status %d, want 200", code)
			}
			p := doc.Find(`[data-testid="overview-period"]`)
			got := p.AttrOr("data-period", "") + " " + p.AttrOr("data-from", "") + ".." + p.AttrOr("data-to", "")
			if want := tt.wantKey + " " + tt.wantFrom + ".." + tt.wantTo; got != want {
				t.Errorf("period: got %s, want %s", got, want)
			}
			if got := doc.Find(`[data-testid="overview-created"]`).AttrOr("data-count", ""); got != tt.wantCount {
				t.Errorf("payouts created: got %s, want %s", got, tt.wantCount)
			}
			msg := doc.Find(`[data-testid="overview-period-error"]`).Text()
			if tt.wantError == "" && msg != "" {
				t.Errorf("message %q, want none", msg)
			}
			if !strings.Contains(msg, tt.wantError) {
				t.Errorf("message %q, want it to contain %q", msg, tt.wantError)
			}
			if tt.wantKey != "custom" {
				if cur := doc.Find(`[data-testid="period-`+tt.wantKey+`"]`).AttrOr("aria-current", ""); cur != "true" {
					t.Errorf("preset %s: aria-current %q, want true", tt.wantKey, cur)
				}
			}
			if tt.wantCount != "0" {
				days := doc.Find(`[data-testid="overview-chart-table"] tbody tr`).Length()
				bars := doc.Find(`rect[data-provider="monime"][data-count="1"]`).Length()
				if strconv.Itoa(days) != tt.wantCount || strconv.Itoa(bars) != tt.wantCount {
					t.Errorf("chart: %d days and %d bars of 1, want %s of each", days, bars, tt.wantCount)
				}
			} else if doc.Find(`[data-testid="overview-chart-empty"]`).Length() != 1 {
				t.Error("an empty period does not say the chart is empty")
			}
		})
	}
}

// Failures settled by hand, each with its manager's own words, are one
// reason, which says where the words are.
func TestOverviewHandSettledFailuresAreOneReason(t *testing.T) {
	e := newOverviewEnv(t)
	e.seed(t,
		dated{"smartglocal", db.StatusFailed, "EUR", 100, "2026-03-05T02:00:00.000000Z", db.SettledFailedByHand, "Settled as failed by a@example.com: the bank says no"},
		dated{"smartglocal", db.StatusFailed, "EUR", 100, "2026-03-05T03:00:00.000000Z", db.SettledFailedByHand, "Settled as failed by b@example.com: never arrived"},
	)
	_, doc := getOverview(t, e.handler(slog.New(slog.DiscardHandler)), "/overview?from=2026-03-01&to=2026-03-07")
	rows := doc.Find(`[data-testid="overview-failure"]`)
	if rows.Length() != 1 || rows.AttrOr("data-count", "") != "2" {
		t.Fatalf("%d failure rows (%q), want one of 2", rows.Length(), texts(rows))
	}
	if text := rows.Text(); !strings.Contains(text, "each payout's page says who and why") || strings.Contains(text, "example.com") {
		t.Errorf("the failures settled by hand read %q", text)
	}
}

func TestOverviewEmpty(t *testing.T) {
	e := newOverviewEnv(t)
	code, doc := getOverview(t, e.handler(slog.New(slog.DiscardHandler)), "/overview?period=today")
	if code != http.StatusOK {
		t.Fatalf("status %d, want 200", code)
	}
	for _, testid := range []string{"overview-pending", "overview-unknown", "overview-created", "overview-paid"} {
		if got := doc.Find(`[data-testid="`+testid+`"]`).AttrOr("data-count", "missing"); got != "0" {
			t.Errorf("%s: got %s, want 0", testid, got)
		}
	}
	if n := doc.Find(`[data-testid="overview-chart"] rect[data-provider], [data-testid="overview-failure"], [data-testid="overview-total"]`).Length(); n != 0 {
		t.Errorf("%d bars, failures or totals on an empty database, want 0", n)
	}
	if doc.Find(`[data-testid="overview-chart-empty"]`).Length() != 1 {
		t.Error("the empty chart is not explained")
	}
}

// failingReports fails one of its reads.
type failingReports struct {
	handlers.ReportReader
	fail string
}

var errBroken = errors.New("disk on fire")

func (f failingReports) Totals(ctx context.Context, from, to time.Time) ([]db.Total, error) {
	if f.fail == "totals" {
		return nil, errBroken
	}
	return f.ReportReader.Totals(ctx, from, to)
}

func (f failingReports) Backlog(ctx context.Context) (db.Backlog, error) {
	if f.fail == "backlog" {
		return db.Backlog{}, errBroken
	}
	return f.ReportReader.Backlog(ctx)
}

func (f failingReports) FailureReasons(ctx context.Context, from, to time.Time, limit int) ([]db.FailureReason, error) {
	if f.fail == "failures" {
		return nil, errBroken
	}
	return f.ReportReader.FailureReasons(ctx, from, to, limit)
}

func (f failingReports) Daily(ctx context.Context, from, to time.Time) ([]db.DayCount, error) {
	if f.fail == "daily" {
		return nil, errBroken
	}
	return f.ReportReader.Daily(ctx, from, to)
}

func TestOverviewStoreErrors(t *testing.T) {
	e := newOverviewEnv(t)
	for _, fail := range []string{"totals", "backlog", "failures", "daily"} {
		t.Run(fail, func(t *testing.T) {
			var logs bytes.Buffer
			h := e.handler(slog.New(slog.NewTextHandler(&logs, nil)))
			h.Reports = failingReports{ReportReader: h.Reports, fail: fail}
			code, doc := getOverview(t, h, "/overview")
			if code != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", code)
			}
			if strings.Contains(doc.Text(), errBroken.Error()) {
				t.Error("the error page shows the error")
			}
			if !strings.Contains(logs.String(), errBroken.Error()) {
				t.Errorf("log %q does not record the error", logs.String())
			}
		})
	}
}
