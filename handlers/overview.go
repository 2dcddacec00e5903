package handlers

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/views/overview"
)

// ReportReader reads the aggregates of payouts the overview shows.
type ReportReader interface {
	Totals(ctx context.Context, from, to time.Time) ([]db.Total, error)
	Backlog(ctx context.Context) (db.Backlog, error)
	FailureReasons(ctx context.Context, from, to time.Time, limit int) ([]db.FailureReason, error)
	Daily(ctx context.Context, from, to time.Time) ([]db.DayCount, error)
}

// Overview is the managers' dashboard: what happened to payouts in a
// period, and what waits for them now.
type Overview struct {
	Log     *slog.Logger
	Reports ReportReader
	// Rails says which providers are on the sandbox, for their label.
	Rails *providers.Registry
	// Now is the clock that says which day is today (UTC); nil is time.Now.
	Now func() time.Time
}

const (
	overviewFailures = 10
	maxPeriodDays    = 366
	day              = 24 * time.Hour
)

// periodPreset is a quick choice of period: the last days days, today
// included.
type periodPreset struct {
	key, label string
	days       int
}

var periodPresets = []periodPreset{
	{"today", "Today", 1},
	{"7d", "Last 7 days", 7},
	{"30d", "Last 30 days", 30},
	{"90d", "Last 90 days", 90},
}

// Show renders the overview of the period asked for (GET /overview):
// ?period=today|7d|30d|90d, or ?from=&to= as whole UTC days, both included.
// Unusable parameters are ignored and the page says so.
func (h *Overview) Show(w http.ResponseWriter, r *http.Request) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	period, from, to, problem := choosePeriod(r.URL.Query(), now().UTC().Truncate(day))
	ctx := r.Context()
	totals, err := h.Reports.Totals(ctx, from, to)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	backlog, err := h.Reports.Backlog(ctx)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	fails, err := h.Reports.FailureReasons(ctx, from, to, overviewFailures)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	daily, err := h.Reports.Daily(ctx, from, to)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}

	page := overview.Page{
		Period:       period,
		PeriodError:  problem,
		Backlog:      overview.Backlog{PendingApproval: backlog.PendingApproval, Unknown: backlog.Unknown},
		FailureLimit: overviewFailures,
		Chart:        dailyChart(daily, from, to),
	}
	for _, pr := range periodPresets {
		page.Presets = append(page.Presets, overview.Preset{Key: pr.key, Label: pr.label,
			Href: "/overview?period=" + pr.key, Current: pr.key == period.Key})
	}
	page.Summary, page.Providers = summarise(totals)
	for i := range page.Providers {
		page.Providers[i].Sandbox = sandboxed(h.Rails, providers.Name(page.Providers[i].Provider))
	}
	for _, f := range fails {
		if f.ErrorCode == db.SettledFailedByHand {
			f.ErrorMessage = "Settled as failed by a manager: each payout's page says who and why."
		}
		page.Failures = append(page.Failures, overview.Failure{Provider: f.Provider, Title: providers.Name(f.Provider).Title(),
			Code: f.ErrorCode, Message: f.ErrorMessage, Count: f.Count})
	}
	render(w, r, h.Log, http.StatusOK, overview.Overview(page))
}

// choosePeriod reads the period from q, relative to today (midnight UTC):
// the days [from, to) and how the page names them. Explicit dates win over
// a preset; whatever cannot be used is reported in problem.
func choosePeriod(q url.Values, today time.Time) (p overview.Period, from, to time.Time, problem string) {
	var problems []string
	p.Key, p.Label = "7d", "Last 7 days"
	days := 7
	if v := q.Get("period"); v != "" {
		i := slices.IndexFunc(periodPresets, func(pr periodPreset) bool { return pr.key == v })
		if i < 0 {
			problems = append(problems, fmt.Sprintf("the period %q is not one of today, 7d, 30d or 90d", truncate(v, 20)))
		} else {
			p.Key, p.Label, days = periodPresets[i].key, periodPresets[i].label, periodPresets[i].days
		}
	}
	from, to = today.AddDate(0, 0, 1-days), today.AddDate(0, 0, 1)
	if fs, ts := q.Get("from"), q.Get("to"); fs != "" || ts != "" {
		f, t, err := customPeriod(fs, ts, today)
		if err != "" {
			problems = append(problems, err)
		} else {
			from, to = f, t
			p.Key, p.Label = "custom", "Chosen period"
		}
	}
	p.From, p.To = from.Format(time.DateOnly), to.Add(-day).Format(time.DateOnly)
	p.Days = int(to.Sub(from) / day)
	if len(problems) > 0 {
		problem = "Some period settings were ignored: " + strings.Join(problems, "; ") + ". Showing " +
			midSentence(p.Label) + " instead."
	}
	return p, from, to, problem
}

// customPeriod reads explicit first and last days; a missing first day
// makes a week ending on the last, a missing last day is today.
func customPeriod(fs, ts string, today time.Time) (from, to time.Time, problem string) {
	last := today
	if ts != "" {
		t, err := time.Parse(time.DateOnly, ts)
		if err != nil {
			return from, to, "dates must look like 2026-03-01"
		}
		last = t
	}
	from = last.AddDate(0, 0, -6)
	if fs != "" {
		f, err := time.Parse(time.DateOnly, fs)
		if err != nil {
			return from, to, "dates must look like 2026-03-01"
		}
		from = f
	}
	to = last.Add(day)
	switch {
	case from.After(last):
		return from, to, "the first day comes after the last"
	case to.Sub(from) > maxPeriodDays*day:
		return from, to, fmt.Sprintf("a period can be at most %d days", maxPeriodDays)
	}
	return from, to, ""
}

// amounts adds up minor units per currency; currencies stay apart. A sum
// past what an int64 holds stays at its largest, and says so rather than
// wrap around.
type amounts map[string]subtotal

type subtotal struct {
	minor int64
	over  bool
}

func (a amounts) add(t db.Total) {
	s := a[t.Currency]
	if t.Overflow || s.minor > math.MaxInt64-t.AmountMinor {
		s.minor, s.over = math.MaxInt64, true
	} else {
		s.minor += t.AmountMinor
	}
	a[t.Currency] = s
}

func (a amounts) list() []overview.Amount {
	out := make([]overview.Amount, 0, len(a))
	for cur, s := range a {
		text := providers.Money{Minor: s.minor, Currency: cur}.String()
		if s.over {
			text = "more than " + text
		}
		out = append(out, overview.Amount{Currency: cur, Text: text})
	}
	slices.SortFunc(out, func(x, y overview.Amount) int { return cmp.Compare(x.Currency, y.Currency) })
	return out
}

// summarise turns totals into the headline and the per-provider table,
// providers in the UI's order and statuses in lifecycle order.
func summarise(totals []db.Total) (overview.Summary, []overview.ProviderTotals) {
	var sum overview.Summary
	paid := amounts{}
	type statusKey struct{ provider, status string }
	byProvider, byStatus := map[string]amounts{}, map[statusKey]amounts{}
	counts := map[string]int64{}
	statusCounts := map[statusKey]int64{}
	for _, t := range totals {
		k := statusKey{t.Provider, string(t.Status)}
		if byProvider[t.Provider] == nil {
			byProvider[t.Provider] = amounts{}
		}
		if byStatus[k] == nil {
			byStatus[k] = amounts{}
		}
		byProvider[t.Provider].add(t)
		byStatus[k].add(t)
		counts[t.Provider] += t.Count
		statusCounts[k] += t.Count
		sum.Count += t.Count
		switch t.Status {
		case db.StatusPaid:
			sum.PaidCount += t.Count
			paid.add(t)
		case db.StatusFailed:
			sum.Failed += t.Count
		}
	}
	sum.Paid = paid.list()
	var out []overview.ProviderTotals
	for _, name := range providerOrder(counts) {
		pt := overview.ProviderTotals{Provider: name, Title: providers.Name(name).Title(), Count: counts[name],
			Amounts: byProvider[name].list()}
		for _, s := range db.Statuses {
			k := statusKey{name, string(s)}
			if n, ok := statusCounts[k]; ok {
				pt.Statuses = append(pt.Statuses, overview.StatusTotals{Status: string(s), Label: s.Label(), Count: n,
					Amounts: byStatus[k].list()})
			}
		}
		out = append(out, pt)
	}
	return sum, out
}

// dailyChart lays out payouts per day and provider over every day of
// [from, to), days without payouts included.
func dailyChart(daily []db.DayCount, from, to time.Time) overview.Chart {
	perDay := map[time.Time]map[string]int64{}
	seen := map[string]int64{}
	for _, d := range daily {
		if perDay[d.Day] == nil {
			perDay[d.Day] = map[string]int64{}
		}
		perDay[d.Day][d.Provider] += d.Count
		seen[d.Provider] += d.Count
	}
	var series []overview.Series
	for _, name := range providerOrder(seen) {
		series = append(series, overview.Series{Key: name, Label: providers.Name(name).Title()})
	}
	var days []overview.ChartDay
	for d := from; d.Before(to); d = d.Add(day) {
		days = append(days, overview.ChartDay{Date: d, Counts: perDay[d]})
	}
	return overview.NewChart(series, days)
}

// providerOrder lists the keys of names: known providers in the UI's
// order, then any other (a provider since removed) alphabetically.
func providerOrder[V any](names map[string]V) []string {
	rank := func(n string) int {
		if i := slices.Index(providers.All, providers.Name(n)); i >= 0 {
			return i
		}
		return len(providers.All)
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b)) })
	return out
}
