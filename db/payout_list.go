package db

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// PayoutFilter selects payouts for the list. Zero values select everything.
type PayoutFilter struct {
	Provider  string
	Status    Status
	CreatedBy int64
	// From and To bound the creation time: From ≤ created_at < To.
	From, To time.Time
	// Text is matched, case-insensitively, inside the reference and the
	// beneficiary's name and masked account.
	Text string
	// Before continues a listing: only payouts with a smaller id (keyset
	// pagination, stable while new payouts arrive).
	Before int64
	// OldestFirst lists in creation order instead, continued by After:
	// only payouts with a larger id.
	OldestFirst bool
	After       int64
	Limit       int
}

// List returns payouts matching f, newest first unless f.OldestFirst.
func (s *Payouts) List(ctx context.Context, f PayoutFilter) ([]Payout, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.Provider != "" {
		add("p.provider = ?", f.Provider)
	}
	if f.Status != "" {
		add("p.status = ?", f.Status)
	}
	if f.CreatedBy != 0 {
		add("p.created_by = ?", f.CreatedBy)
	}
	if !f.From.IsZero() {
		add("p.created_at >= ?", formatTime(f.From))
	}
	if !f.To.IsZero() {
		add("p.created_at < ?", formatTime(f.To))
	}
	if f.Text != "" {
		add(`p.search LIKE ? ESCAPE '\'`, "%"+escapeLike(strings.ToLower(f.Text))+"%")
	}
	if f.Before > 0 {
		add("p.id < ?", f.Before)
	}
	if f.After > 0 {
		add("p.id > ?", f.After)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q := `SELECT ` + payoutColumns + payoutFrom
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	order := "DESC"
	if f.OldestFirst {
		order = "ASC"
	}
	q += ` ORDER BY p.id ` + order + ` LIMIT ?`
	out, err := s.many(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("db: list payouts: %w", err)
	}
	return out, nil
}

// escapeLike makes s match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CountByStatus returns how many payouts are in each status.
func (s *Payouts) CountByStatus(ctx context.Context) (map[Status]int, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT status, count(*) FROM payouts GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("db: count payouts: %w", err)
	}
	defer rows.Close()
	out := make(map[Status]int)
	for rows.Next() {
		var st Status
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("db: count payouts: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}
