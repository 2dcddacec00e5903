package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Exchange is one request to a provider and its answer, as recorded on the
// payout's timeline (secrets removed, account numbers masked).
type Exchange struct {
	ID             int64
	PayoutID       int64
	At             time.Time
	Op             string
	Method         string
	URL            string
	RequestHeaders map[string]string
	RequestBody    string
	Status         int
	ResponseBody   string
	DurationMillis int64
	Error          string
}

// Change is an update of a payout: a status transition and what came with
// it. Empty fields leave the stored value alone.
type Change struct {
	// To is the new status; "" keeps the current one. The transition must
	// be in the lifecycle table.
	To Status
	// Only, when set, lists the statuses the payout must be in.
	Only []Status

	ProviderID        string
	PaymentID         string
	ProviderReference string
	RawStatus         string
	ErrorCode         string
	ErrorMessage      string
	CashierURL        string
	PayoutOption      string
	// Fields, when set, replaces the stored form values (to mask account
	// numbers once they are no longer needed).
	Fields map[string]string
	// Confirmed records that the provider's confirm step was answered.
	Confirmed bool
	// SubmittedAt records when the attempt to send the payout started.
	SubmittedAt time.Time

	Exchanges []Exchange

	// CheckAt schedules the next reconciliation; ClearCheck stops them.
	// CountCheck adds one to the number of checks made.
	CheckAt    time.Time
	ClearCheck bool
	CountCheck bool

	// Requeue puts the payout back in the outbox, to be sent at that time
	// (only when the request provably never reached the provider).
	Requeue time.Time
	// Dequeue removes the payout from the outbox.
	Dequeue bool
	// Enqueue puts a payout that was waiting for approval in the outbox.
	Enqueue bool
	// Approval records who approved the payout and the hash of what they saw.
	ApprovalHash string
	ApprovedBy   int64

	// Record appends the event even when the status does not change (an
	// agent opening the cashier, the provider's answer to a payout that a
	// webhook already moved on). Otherwise an event without a status
	// change is not recorded.
	Record bool
	// FromProvider marks a change that records what a provider answered.
	// It stands whoever asked for it, so it is written even if ev's user
	// was disabled meanwhile; any other change by a user is refused then.
	FromProvider bool
}

// IsZero reports whether c would write nothing: no field set (Only, a
// condition on the current status, writes nothing by itself).
func (c Change) IsZero() bool {
	return c.To == "" && c.ProviderID == "" && c.PaymentID == "" && c.ProviderReference == "" && c.RawStatus == "" &&
		c.ErrorCode == "" && c.ErrorMessage == "" && c.CashierURL == "" && c.PayoutOption == "" && len(c.Fields) == 0 && !c.Confirmed &&
		c.SubmittedAt.IsZero() && len(c.Exchanges) == 0 && c.CheckAt.IsZero() && !c.ClearCheck && !c.CountCheck && c.Requeue.IsZero() &&
		!c.Dequeue && !c.Enqueue && c.ApprovalHash == "" && c.ApprovedBy == 0 && !c.Record
}

// ClaimOutbox takes up to limit payouts due to be sent and records, for
// each, that its attempt has started (queued → submitting, with its audit
// event), in one transaction, before anything is sent. ev makes the event.
func (s *Payouts) ClaimOutbox(ctx context.Context, now time.Time, limit int, ev func(Payout) Event) ([]Payout, error) {
	var (
		ids []int64
		out []Payout
	)
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		ids, out = ids[:0], nil
		rows, err := tx.QueryContext(ctx, `SELECT o.payout_id FROM outbox o JOIN payouts p ON p.id = o.payout_id
			WHERE o.available_at <= ? AND p.status = ? ORDER BY o.available_at, o.payout_id LIMIT ?`,
			formatTime(now), StatusQueued, limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			p := Payout{ID: id, Status: StatusQueued}
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1 WHERE payout_id = ?`, id); err != nil {
				return err
			}
			e := ev(p)
			if err := s.ChangeTx(ctx, tx, id, Change{To: StatusSubmitting, Only: []Status{StatusQueued}, SubmittedAt: now}, e); err != nil {
				return err
			}
		}
		if len(ids) == 0 {
			return nil
		}
		// Read back in the claim's own transaction: read afterwards, a
		// failure (the caller's context ending, say) would leave claimed
		// payouts in submitting with nobody to send them.
		in, args := idsIn(ids)
		out, err = queryPayouts(ctx, tx, `SELECT `+payoutColumns+payoutFrom+` WHERE p.id `+in+` ORDER BY p.id`, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: claim outbox: %w", err)
	}
	return out, nil
}

// statusChange is the part of a payout event's details that says which
// status it moved from and to.
func statusChange(from, to Status) map[string]any {
	return map[string]any{"before": map[string]any{"status": string(from)}, "after": map[string]any{"status": string(to)}}
}

// Change applies ch to payout id and appends ev, in one transaction.
func (s *Payouts) Change(ctx context.Context, id int64, ch Change, ev Event) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error { return s.ChangeTx(ctx, tx, id, ch, ev) })
}

// ChangeTx applies ch inside the caller's transaction. A status change must
// come with an event (ev.Action set); ev is appended with the payout as its
// target and the status before and after in its details, and without a
// status change only if ch.Record. An illegal transition is
// ErrIllegalTransition and writes nothing.
func (s *Payouts) ChangeTx(ctx context.Context, tx *sql.Tx, id int64, ch Change, ev Event) error {
	var cur Status
	var confirmed sql.NullString
	var provider string
	err := tx.QueryRowContext(ctx, `SELECT status, confirmed_at, provider FROM payouts WHERE id = ?`, id).Scan(&cur, &confirmed, &provider)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("db: change payout %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("db: change payout %d: %w", id, err)
	}
	if len(ch.Only) > 0 && !slices.Contains(ch.Only, cur) {
		return fmt.Errorf("db: change payout %d: %w: it is %s", id, ErrIllegalTransition, cur)
	}
	// Read in the transaction that writes: a request already under way
	// when its user was disabled must not approve, settle or launch
	// anything afterwards.
	if !ch.FromProvider {
		if err := actorActive(ctx, tx, ev.Actor); err != nil {
			return fmt.Errorf("db: change payout %d: %w", id, err)
		}
	}
	moving := ch.To != "" && ch.To != cur
	if moving {
		if err := checkTransition(cur, ch.To); err != nil {
			return fmt.Errorf("db: change payout %d: %w", id, err)
		}
		// Once confirmed, a stale "waiting for confirmation" never returns.
		if ch.To == StatusAwaitingConfirmation && confirmed.Valid {
			return fmt.Errorf("db: change payout %d: %w: already confirmed", id, ErrIllegalTransition)
		}
		if ev.Action == "" {
			return fmt.Errorf("db: change payout %d: a status change needs an audit event", id)
		}
	}
	now := formatTime(time.Now())
	sets := []string{"updated_at = ?"}
	args := []any{now}
	set := func(col string, v any) {
		sets = append(sets, col+" = ?")
		args = append(args, v)
	}
	// A fixed column order keeps the number of distinct UPDATE statements,
	// and so of cached prepared statements, small.
	for _, c := range [...]struct{ col, v string }{
		{"provider_id", ch.ProviderID}, {"payment_id", ch.PaymentID}, {"provider_reference", ch.ProviderReference},
		{"raw_status", ch.RawStatus}, {"error_code", ch.ErrorCode}, {"error_message", ch.ErrorMessage}, {"cashier_url", ch.CashierURL},
		{"payout_option", ch.PayoutOption},
	} {
		if c.v != "" {
			set(c.col, c.v)
		}
	}
	if moving && cur == StatusUnknown {
		// What made the outcome unknown (a timeout, "no such payout") no
		// longer describes a payout the provider has since reported on:
		// left on its page, it would read as the payout's present trouble.
		// Its events keep it.
		if ch.ErrorCode == "" {
			set("error_code", "")
		}
		if ch.ErrorMessage == "" {
			set("error_message", "")
		}
	}
	if ch.Fields != nil {
		b, err := json.Marshal(ch.Fields)
		if err != nil {
			return fmt.Errorf("db: change payout %d: %w", id, err)
		}
		set("fields", string(b))
	}
	if ch.Confirmed {
		set("confirmed_at", now)
	}
	if !ch.SubmittedAt.IsZero() {
		set("submitted_at", formatTime(ch.SubmittedAt))
	}
	if ch.ApprovedBy != 0 {
		set("approval_hash", ch.ApprovalHash)
		set("approved_by", ch.ApprovedBy)
		set("approved_at", now)
	}
	to := cur
	if moving {
		to = ch.To
		set("status", string(to))
		if to.InFlight() || to == StatusPaid {
			set("maybe_received", 1)
		}
	}
	if to.Final() && moving {
		set("finished_at", now)
	}
	switch {
	case !to.InFlight():
		// Final, or not with the provider yet: nothing to ask it about. A
		// check date left here would be due forever, as reconciliation
		// skips such payouts.
		set("next_check_at", nil)
	case ch.ClearCheck:
		set("next_check_at", nil)
	case !ch.CheckAt.IsZero():
		set("next_check_at", formatTime(ch.CheckAt))
	}
	if ch.CountCheck {
		sets = append(sets, "checks = checks + 1")
	}
	args = append(args, id)
	if _, err := tx.ExecContext(ctx, `UPDATE payouts SET `+strings.Join(sets, ", ")+` WHERE id = ?`, args...); err != nil {
		return fmt.Errorf("db: change payout %d: %w", id, err)
	}
	for _, x := range ch.Exchanges {
		if err := insertExchange(ctx, tx, id, x); err != nil {
			return err
		}
	}
	switch {
	case ch.Enqueue:
		_, err = tx.ExecContext(ctx, `INSERT INTO outbox (payout_id, available_at) VALUES (?, ?)`, id, now)
	case !ch.Requeue.IsZero():
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET available_at = ? WHERE payout_id = ?`, formatTime(ch.Requeue), id)
	case ch.Dequeue || (moving && to.Final()):
		_, err = tx.ExecContext(ctx, `DELETE FROM outbox WHERE payout_id = ?`, id)
	}
	if err != nil {
		return fmt.Errorf("db: change payout %d outbox: %w", id, err)
	}
	if ev.Action == "" || (!moving && !ch.Record) {
		return nil
	}
	ev.TargetType, ev.TargetID, ev.Provider = "payout", strconv.FormatInt(id, 10), provider
	change := statusChange(cur, to)
	for k, v := range map[string]string{"provider_id": ch.ProviderID, "raw_status": ch.RawStatus, "error_code": ch.ErrorCode, "error_message": ch.ErrorMessage, "payout_option": ch.PayoutOption} {
		if v != "" {
			change["after"].(map[string]any)[k] = v
		}
	}
	ev.Details = mergeDetails(ev.Details, change)
	return Append(ctx, tx, &ev)
}

func insertExchange(ctx context.Context, tx *sql.Tx, payoutID int64, x Exchange) error {
	headers, err := json.Marshal(x.RequestHeaders)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO provider_exchanges (payout_id, at, op, method, url, request_headers,
		request_body, status, response_body, duration_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		payoutID, formatTime(x.At), x.Op, x.Method, x.URL, string(headers), x.RequestBody, x.Status, x.ResponseBody,
		x.DurationMillis, x.Error)
	if err != nil {
		return fmt.Errorf("db: record exchange of payout %d: %w", payoutID, err)
	}
	return nil
}

// Exchanges returns a payout's provider exchanges, oldest first.
func (s *Payouts) Exchanges(ctx context.Context, payoutID int64) ([]Exchange, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, payout_id, at, op, method, url, request_headers, request_body,
		status, response_body, duration_ms, error FROM provider_exchanges WHERE payout_id = ? ORDER BY id`, payoutID)
	if err != nil {
		return nil, fmt.Errorf("db: exchanges of payout %d: %w", payoutID, err)
	}
	defer rows.Close()
	var out []Exchange
	for rows.Next() {
		var x Exchange
		var headers string
		if err := rows.Scan(&x.ID, &x.PayoutID, timeCol{&x.At}, &x.Op, &x.Method, &x.URL, &headers, &x.RequestBody,
			&x.Status, &x.ResponseBody, &x.DurationMillis, &x.Error); err != nil {
			return nil, fmt.Errorf("db: exchanges of payout %d: %w", payoutID, err)
		}
		json.Unmarshal([]byte(headers), &x.RequestHeaders)
		out = append(out, x)
	}
	return out, rows.Err()
}
