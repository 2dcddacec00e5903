package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ThrottlePolicy limits failed logins for one key (an account or an IP).
type ThrottlePolicy struct {
	// Limit failures within Window lock the key for Lock, doubling with
	// every further failure up to MaxLock.
	Limit   int
	Window  time.Duration
	Lock    time.Duration
	MaxLock time.Duration
}

// Limit is a throttle key with its policy.
type Limit struct {
	Key    string
	Policy ThrottlePolicy
}

// Logins records login attempts for throttling.
type Logins struct{ db *DB }

// NewLogins returns the login-throttle store of db.
func NewLogins(db *DB) *Logins { return &Logins{db: db} }

// Locked returns how long the most locked of keys stays locked after now, or
// zero if none is.
func (l *Logins) Locked(ctx context.Context, now time.Time, keys ...string) (time.Duration, error) {
	var wait time.Duration
	for _, k := range keys {
		var until sql.NullString
		err := l.db.R.QueryRowContext(ctx, `SELECT locked_until FROM login_throttle WHERE key = ?`, k).Scan(&until)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !until.Valid) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("db: login throttle: %w", err)
		}
		t, err := parseTime(until.String)
		if err != nil {
			return 0, err
		}
		wait = max(wait, t.Sub(now))
	}
	return wait, nil
}

// Failed counts a failed login against every limit and appends ev, in one
// transaction. It returns how long the attempt's keys are now locked.
func (l *Logins) Failed(ctx context.Context, now time.Time, limits []Limit, ev Event) (time.Duration, error) {
	var wait time.Duration
	err := l.db.InTx(ctx, func(tx *sql.Tx) error {
		wait = 0
		for _, lim := range limits {
			w, err := fail(ctx, tx, now, lim)
			if err != nil {
				return err
			}
			wait = max(wait, w)
		}
		if wait > 0 {
			ev.Details = mergeDetails(ev.Details, map[string]any{"locked_seconds": int64(wait.Round(time.Second) / time.Second)})
		}
		return Append(ctx, tx, &ev)
	})
	if err != nil {
		return 0, fmt.Errorf("db: record failed login: %w", err)
	}
	return wait, nil
}

func fail(ctx context.Context, tx *sql.Tx, now time.Time, lim Limit) (time.Duration, error) {
	var (
		failures int
		start    time.Time
	)
	err := tx.QueryRowContext(ctx, `SELECT failures, window_start FROM login_throttle WHERE key = ?`, lim.Key).
		Scan(&failures, timeCol{&start})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if errors.Is(err, sql.ErrNoRows) || now.Sub(start) > lim.Policy.Window {
		failures, start = 0, now
	}
	failures++
	var until time.Time
	if over := failures - lim.Policy.Limit; over >= 0 {
		lock := lim.Policy.Lock << min(over, 20)
		if lock > lim.Policy.MaxLock || lock <= 0 {
			lock = lim.Policy.MaxLock
		}
		until = now.Add(lock)
		// A lock keeps the window open, so failures keep doubling it.
		start = now
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
			locked_until = excluded.locked_until`,
		lim.Key, failures, formatTime(start), optTime(until))
	if err != nil || until.IsZero() {
		return 0, err
	}
	return until.Sub(now), nil
}

// Succeeded clears the failures counted against key.
func (l *Logins) Succeeded(ctx context.Context, key string) error {
	if err := l.db.exec(ctx, `DELETE FROM login_throttle WHERE key = ?`, key); err != nil {
		return fmt.Errorf("db: clear login throttle: %w", err)
	}
	return nil
}
