package db

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Reports reads aggregates of payouts for the manager's overview. Every
// period is [from, to) on the creation time and goes through the
// payouts_created_at index, so a short period reads only its own rows.
type Reports struct{ db *DB }

// NewReports returns the report reader of db.
func NewReports(db *DB) *Reports { return &Reports{db: db} }

// Total is the number and the sum of the amounts of the payouts of one
// provider, status and currency.
type Total struct {
	Provider    string
	Status      Status
	Currency    string
	Count       int64
	AmountMinor int64
	// Overflow says the amounts add up past what an int64 holds;
	// AmountMinor is then math.MaxInt64.
	Overflow bool
}

// Backlog counts the payouts that wait for a person, whatever their age.
type Backlog struct {
	PendingApproval int64
	Unknown         int64
	// Own, from BacklogFor, is how many of PendingApproval the user
	// created: another manager must approve those. UnknownOwn is how many
	// of Unknown they created: another manager must settle those.
	Own, UnknownOwn int64
}

// Others is how many payouts wait for the user's approval: those waiting
// for approval that the user did not create.
func (b Backlog) Others() int64 { return b.PendingApproval - b.Own }

// UnknownOthers is how many unknown outcomes the user may settle: those of
// payouts they did not create.
func (b Backlog) UnknownOthers() int64 { return b.Unknown - b.UnknownOwn }

// FailureReason is one reason providers gave for failed payouts, with how
// many payouts failed with it.
type FailureReason struct {
	Provider     string
	ErrorCode    string
	ErrorMessage string
	Count        int64
}

// DayCount is the number of payouts a provider was given on one UTC day.
type DayCount struct {
	// Day is midnight UTC of the day.
	Day      time.Time
	Provider string
	Count    int64
}

// totalsSQL adds amounts up in two parts, the billions and the rest, each
// far from int64's limit however many payouts there are: a plain sum()
// fails the whole query with "integer overflow" once one group's amounts
// pass it, which some ninety thousand of the largest a form takes do.
const totalsSQL = `SELECT provider, status, currency, count(*), sum(amount_minor / 1000000000), sum(amount_minor % 1000000000)
	FROM payouts
	WHERE created_at >= ? AND created_at < ?
	GROUP BY provider, status, currency
	ORDER BY provider, status, currency`

// Totals returns the payouts created in [from, to) grouped by provider,
// status and currency. Amounts of different currencies are never added up.
func (r *Reports) Totals(ctx context.Context, from, to time.Time) ([]Total, error) {
	rows, err := r.db.R.QueryContext(ctx, totalsSQL, formatTime(from), formatTime(to))
	if err != nil {
		return nil, fmt.Errorf("db: payout totals: %w", err)
	}
	defer rows.Close()
	var out []Total
	for rows.Next() {
		var t Total
		var billions, rest int64
		if err := rows.Scan(&t.Provider, &t.Status, &t.Currency, &t.Count, &billions, &rest); err != nil {
			return nil, fmt.Errorf("db: payout totals: %w", err)
		}
		if billions > (math.MaxInt64-rest)/1e9 {
			t.AmountMinor, t.Overflow = math.MaxInt64, true
		} else {
			t.AmountMinor = billions*1e9 + rest
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: payout totals: %w", err)
	}
	return out, nil
}

// backlogSQL counts both kinds, and a user's own among them, in one
// statement: one snapshot, so the user's own are never more than all.
const backlogSQL = `SELECT status, count(*), count(CASE WHEN created_by = ? THEN 1 END)
	FROM payouts WHERE status IN (?, ?) GROUP BY status`

// Backlog counts the payouts now waiting for approval and those whose
// outcome is unknown.
func (r *Reports) Backlog(ctx context.Context) (Backlog, error) {
	return r.BacklogFor(ctx, 0) // ids start at 1: nobody's own
}

// BacklogFor is Backlog with how many of the payouts waiting for approval,
// and of those with an unknown outcome, user created.
func (r *Reports) BacklogFor(ctx context.Context, user int64) (Backlog, error) {
	var b Backlog
	rows, err := r.db.R.QueryContext(ctx, backlogSQL, user, StatusPendingApproval, StatusUnknown)
	if err != nil {
		return b, fmt.Errorf("db: payout backlog: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s Status
		var n, own int64
		if err := rows.Scan(&s, &n, &own); err != nil {
			return b, fmt.Errorf("db: payout backlog: %w", err)
		}
		switch s {
		case StatusPendingApproval:
			b.PendingApproval, b.Own = n, own
		case StatusUnknown:
			b.Unknown, b.UnknownOwn = n, own
		}
	}
	if err := rows.Err(); err != nil {
		return b, fmt.Errorf("db: payout backlog: %w", err)
	}
	return b, nil
}

// contradictedSQL counts the payouts whose provider contradicted their
// final status, by the events that said so: the audit log, filtered by
// that action, then lists exactly them. It reads every such event through
// the (action, seq) index: they are rare.
const contradictedSQL = `SELECT count(DISTINCT target_id) FROM audit_events
	WHERE action = 'payout.contradicted' AND at >= ?`

// Contradicted counts everyone's payouts whose provider contradicted their
// final status since since: paid, then reported back, or ended unpaid,
// then reported paid.
func (r *Reports) Contradicted(ctx context.Context, since time.Time) (int64, error) {
	var n int64
	if err := r.db.R.QueryRowContext(ctx, contradictedSQL, formatTime(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: payouts contradicted since %s: %w", formatTime(since), err)
	}
	return n, nil
}

// The unary + keeps the planner off payouts_status, which would read every
// failed payout ever made instead of the period's payouts.
//
// A failure settled by hand has its manager's name and reason for message,
// each its own: they are counted together, with no message.
const failuresSQL = `SELECT provider, error_code,
		iif(error_code = '` + SettledFailedByHand + `', '', error_message) AS message, count(*) AS n
	FROM payouts
	WHERE created_at >= ? AND created_at < ? AND +status = ?
	GROUP BY provider, error_code, message
	ORDER BY n DESC, provider, error_code, message
	LIMIT ?`

// FailureReasons returns the most frequent reasons of failure among the
// payouts created in [from, to), most frequent first, at most limit. Those
// settled as failed by hand are one reason, without a message.
func (r *Reports) FailureReasons(ctx context.Context, from, to time.Time, limit int) ([]FailureReason, error) {
	rows, err := r.db.R.QueryContext(ctx, failuresSQL, formatTime(from), formatTime(to), StatusFailed, limit)
	if err != nil {
		return nil, fmt.Errorf("db: failure reasons: %w", err)
	}
	defer rows.Close()
	var out []FailureReason
	for rows.Next() {
		var f FailureReason
		if err := rows.Scan(&f.Provider, &f.ErrorCode, &f.ErrorMessage, &f.Count); err != nil {
			return nil, fmt.Errorf("db: failure reasons: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: failure reasons: %w", err)
	}
	return out, nil
}

// The first ten characters of a stored timestamp are its UTC date.
const dailySQL = `SELECT substr(created_at, 1, 10) AS day, provider, count(*)
	FROM payouts
	WHERE created_at >= ? AND created_at < ?
	GROUP BY day, provider
	ORDER BY day, provider`

// Daily returns how many payouts each provider was given per UTC day in
// [from, to), by day then provider. Days without payouts are left out.
func (r *Reports) Daily(ctx context.Context, from, to time.Time) ([]DayCount, error) {
	rows, err := r.db.R.QueryContext(ctx, dailySQL, formatTime(from), formatTime(to))
	if err != nil {
		return nil, fmt.Errorf("db: daily payouts: %w", err)
	}
	defer rows.Close()
	var out []DayCount
	for rows.Next() {
		var d DayCount
		var day string
		if err := rows.Scan(&day, &d.Provider, &d.Count); err != nil {
			return nil, fmt.Errorf("db: daily payouts: %w", err)
		}
		if d.Day, err = time.Parse(time.DateOnly, day); err != nil {
			return nil, fmt.Errorf("db: daily payouts: bad day %q: %w", day, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: daily payouts: %w", err)
	}
	return out, nil
}
