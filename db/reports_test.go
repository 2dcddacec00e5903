package db

// An internal test, so that the query plans checked are those of the
// report's own SQL.

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// reportRow is a payout as the report tests need it.
type reportRow struct {
	provider string
	status   Status
	currency string
	amount   int64
	at       time.Time
	code     string
	message  string
}

// seedPayouts creates the payouts through the store, then dates them and
// sets their status and error with SQL: the lifecycle is not under test.
func seedPayouts(t *testing.T, d *DB, rows []reportRow) {
	t.Helper()
	ctx := context.Background()
	u, err := NewUsers(d).Create(ctx, "agent@example.com", RoleAgent, "correct horse battery",
		Event{Actor: Actor{Type: ActorCLI}, Action: "user.created"})
	if err != nil {
		t.Fatal(err)
	}
	store := NewPayouts(d)
	for i, r := range rows {
		key := "k" + strconv.Itoa(i)
		p, _, err := store.Create(ctx, NewPayout{
			Provider: r.provider, Status: StatusPendingApproval, AmountMinor: r.amount, Currency: r.currency,
			IdempotencyKey: key, Reference: "ref-" + key, Fields: map[string]string{}, BeneficiaryName: "Ada",
			BeneficiaryAccount: "123", BeneficiaryCountry: "SL", CreatedBy: u.ID,
		}, Event{Actor: Actor{Type: ActorSystem}, Action: "payout.created"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.W.ExecContext(ctx, `UPDATE payouts SET status = ?, created_at = ?, error_code = ?, error_message = ? WHERE id = ?`,
			r.status, formatTime(r.at), r.code, r.message, p.ID)
		if err != nil {
			t.Fatal(err)
		}
	}
}

var (
	repFrom = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	repTo   = time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)
)

func TestReportsTotals(t *testing.T) {
	d := openInternalDB(t)
	us := time.Microsecond
	seedPayouts(t, d, []reportRow{
		{"kibramoa", StatusPaid, "USD", 150000, repFrom, "", ""},
		{"kibramoa", StatusPaid, "USD", 25050, repTo.Add(-us), "", ""},
		{"kibramoa", StatusPaid, "XOF", 2000, repFrom.Add(36 * time.Hour), "", ""},
		{"kibramoa", StatusFailed, "USD", 100, repFrom.Add(time.Hour), "E1", "declined"},
		{"monime", StatusPaid, "SLE", 5000, repFrom.Add(2 * time.Hour), "", ""},
		{"monime", StatusPaid, "SLE", 7000, repFrom.Add(3 * time.Hour), "", ""},
		// Just outside the period on either side.
		{"kibramoa", StatusPaid, "USD", 999, repFrom.Add(-us), "", ""},
		{"monime", StatusPaid, "SLE", 999, repTo, "", ""},
	})
	got, err := NewReports(d).Totals(context.Background(), repFrom, repTo)
	if err != nil {
		t.Fatal(err)
	}
	want := []Total{
		{Provider: "kibramoa", Status: StatusFailed, Currency: "USD", Count: 1, AmountMinor: 100},
		{Provider: "kibramoa", Status: StatusPaid, Currency: "USD", Count: 2, AmountMinor: 175050},
		{Provider: "kibramoa", Status: StatusPaid, Currency: "XOF", Count: 1, AmountMinor: 2000},
		{Provider: "monime", Status: StatusPaid, Currency: "SLE", Count: 2, AmountMinor: 12000},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
}

func TestReportsBacklog(t *testing.T) {
	d := openInternalDB(t)
	long := repFrom.AddDate(-2, 0, 0)
	seedPayouts(t, d, []reportRow{
		{"kibramoa", StatusPendingApproval, "USD", 100, long, "", ""},
		{"monime", StatusPendingApproval, "SLE", 100, repFrom, "", ""},
		{"fedapay", StatusPendingApproval, "XOF", 100, repTo.AddDate(0, 1, 0), "", ""},
		{"monime", StatusUnknown, "SLE", 100, long, "", ""},
		{"monime", StatusPaid, "SLE", 100, repFrom, "", ""},
		{"monime", StatusQueued, "SLE", 100, repFrom, "", ""},
	})
	got, err := NewReports(d).Backlog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Backlog{PendingApproval: 3, Unknown: 1}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// The seeded agent (user 1) made all four; another user none.
	for user, own := range map[int64]struct{ approvals, unknown int64 }{1: {3, 1}, 2: {0, 0}} {
		got, err := NewReports(d).BacklogFor(context.Background(), user)
		if err != nil {
			t.Fatal(err)
		}
		want := Backlog{PendingApproval: 3, Unknown: 1, Own: own.approvals, UnknownOwn: own.unknown}
		if got != want || got.Others() != 3-own.approvals || got.UnknownOthers() != 1-own.unknown {
			t.Errorf("user %d: got %+v (others %d, unknown others %d), want %+v", user, got, got.Others(), got.UnknownOthers(), want)
		}
	}
}

func TestReportsFailureReasons(t *testing.T) {
	d := openInternalDB(t)
	at := repFrom.Add(time.Hour)
	var rows []reportRow
	add := func(n int, provider, code, message string, when time.Time) {
		for range n {
			rows = append(rows, reportRow{provider, StatusFailed, "USD", 100, when, code, message})
		}
	}
	add(3, "monime", "insufficient_funds", "Not enough money", at)
	add(5, "kibramoa", "E42", "Account closed", at)
	add(3, "fedapay", "declined", "Declined by bank", at)
	add(1, "kibramoa", "", "", at)
	// Settled by hand, each with its manager's own words: one reason.
	add(1, "monime", SettledFailedByHand, "Settled as failed by a@example.com: the bank says no", at)
	add(1, "monime", SettledFailedByHand, "Settled as failed by b@example.com: never arrived", at)
	add(9, "kibramoa", "E99", "Outside the period", repTo)
	// The same reason on a payout that did not fail is not a failure.
	rows = append(rows, reportRow{"kibramoa", StatusPaid, "USD", 100, at, "E42", "Account closed"})
	seedPayouts(t, d, rows)

	got, err := NewReports(d).FailureReasons(context.Background(), repFrom, repTo, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []FailureReason{
		{Provider: "kibramoa", ErrorCode: "E42", ErrorMessage: "Account closed", Count: 5},
		{Provider: "fedapay", ErrorCode: "declined", ErrorMessage: "Declined by bank", Count: 3},
		{Provider: "monime", ErrorCode: "insufficient_funds", ErrorMessage: "Not enough money", Count: 3},
		{Provider: "monime", ErrorCode: SettledFailedByHand, Count: 2},
		{Provider: "kibramoa", Count: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failure reasons (-want +got):\n%s", diff)
	}
	got, err = NewReports(d).FailureReasons(context.Background(), repFrom, repTo, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[:2], got); diff != "" {
		t.Errorf("limited to 2 (-want +got):\n%s", diff)
	}
}

func TestReportsDaily(t *testing.T) {
	d := openInternalDB(t)
	day := func(n int) time.Time { return repFrom.AddDate(0, 0, n) }
	seedPayouts(t, d, []reportRow{
		{"kibramoa", StatusPaid, "USD", 100, day(0), "", ""},
		{"kibramoa", StatusFailed, "USD", 100, day(0).Add(23*time.Hour + 59*time.Minute), "", ""},
		{"monime", StatusQueued, "SLE", 100, day(0).Add(12 * time.Hour), "", ""},
		{"monime", StatusPaid, "SLE", 100, day(6).Add(23 * time.Hour), "", ""},
		{"kibramoa", StatusPaid, "XOF", 100, day(2), "", ""},
		{"kibramoa", StatusPaid, "USD", 100, day(-1).Add(23 * time.Hour), "", ""},
		{"kibramoa", StatusPaid, "USD", 100, day(7), "", ""},
	})
	got, err := NewReports(d).Daily(context.Background(), repFrom, repTo)
	if err != nil {
		t.Fatal(err)
	}
	want := []DayCount{
		{Day: day(0), Provider: "kibramoa", Count: 2},
		{Day: day(0), Provider: "monime", Count: 1},
		{Day: day(2), Provider: "kibramoa", Count: 1},
		{Day: day(6), Provider: "monime", Count: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("daily (-want +got):\n%s", diff)
	}
}

// TestReportsQueryPlans checks that the period queries search the
// created_at index rather than scan the table, on a fresh database and once
// ANALYZE has seen a table where most payouts failed long ago.
func TestReportsQueryPlans(t *testing.T) {
	d := openInternalDB(t)
	ctx := context.Background()
	from, to := formatTime(repFrom), formatTime(repTo)
	tests := []struct {
		name  string
		query string
		args  []any
		index string
	}{
		{"totals", totalsSQL, []any{from, to}, "payouts_created_at"},
		{"failure reasons", failuresSQL, []any{from, to, StatusFailed, 10}, "payouts_created_at"},
		{"daily", dailySQL, []any{from, to}, "payouts_created_at"},
		{"backlog", backlogSQL, []any{int64(1), StatusPendingApproval, StatusUnknown}, "payouts_status"},
		// Run on every FedaPay payout created, inside the write transaction.
		// The list's exact lookups of a pasted provider reference or id.
		{"provider reference", exactSQL("provider_reference", 0), []any{"pyt_X"}, "payouts_provider_reference"},
		{"provider id", exactSQL("provider_id", 2), []any{"fedapay", "monime", "42"}, "payouts_provider_id"},
		{"payment id", exactSQL("payment_id", 2), []any{"fedapay", "monime", "42"}, "payouts_payment_id"},
		{"recipient cap", capSQL, []any{to, "fedapay", recipientKey("fedapay", "+22997808080"), "K", from}, "payouts_recipient"},
	}
	check := func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				plan := queryPlan(t, d, tt.query, tt.args...)
				if strings.Contains(plan, "SCAN payouts") || !strings.Contains(plan, "INDEX "+tt.index+" (") {
					t.Errorf("plan:\n%s\nwant a search of %s and no scan of payouts", plan, tt.index)
				}
			})
		}
	}
	t.Run("fresh", check)

	var rows []reportRow
	for i := range 300 {
		rows = append(rows, reportRow{"kibramoa", StatusFailed, "USD", 100, repFrom.AddDate(-1, 0, i), "E1", "m"})
	}
	seedPayouts(t, d, rows)
	if _, err := d.W.ExecContext(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	t.Run("analyzed", check)
}

func queryPlan(t *testing.T, d *DB, query string, args ...any) string {
	t.Helper()
	rows, err := d.R.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// Contradicted counts payouts, not the events about them, and only those
// said since the time asked about.
func TestContradictedCountsPayoutsSince(t *testing.T) {
	d := openInternalDB(t)
	ctx := context.Background()
	audit := NewAudit(d)
	record := func(action, payout string) {
		t.Helper()
		e := Event{Actor: Actor{Type: ActorProvider, ID: "kibramoa"}, Action: action, TargetType: "payout", TargetID: payout, Outcome: OutcomeFailure}
		if err := audit.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now().Add(-time.Second)
	record("payout.contradicted", "7")
	record("payout.contradicted", "7") // said again
	record("payout.contradicted", "9")
	record("payout.status_changed", "8")
	if plan := queryPlan(t, d, contradictedSQL, formatTime(before)); !strings.Contains(plan, "INDEX audit_events_action (action=?)") {
		t.Errorf("plan\n%s\nwant the audit_events_action index", plan)
	}
	reports := NewReports(d)
	for _, tt := range []struct {
		since time.Time
		want  int64
	}{{before, 2}, {time.Now().Add(time.Minute), 0}} {
		got, err := reports.Contradicted(ctx, tt.since)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("contradicted since %s: %d, want %d", tt.since.Format(time.RFC3339), got, tt.want)
		}
	}
}
