package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Webhooks records provider webhook deliveries.
type Webhooks struct{ db *DB }

// NewWebhooks returns the webhook store of db.
func NewWebhooks(db *DB) *Webhooks { return &Webhooks{db: db} }

// Received records a verified delivery and appends ev, in one transaction.
// A delivery whose event id was seen before is a duplicate: it is still
// audited (with "duplicate": true) and apply is not called. Otherwise apply,
// if set, runs in the same transaction, so that acting on the webhook, its
// record and its audit event commit together.
func (s *Webhooks) Received(ctx context.Context, provider, eventID string, ev Event, apply func(tx *sql.Tx) error) (duplicate bool, err error) {
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (provider, event_id, received_at) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, provider, eventID, formatTime(time.Now()))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		duplicate = n == 0
		if !duplicate && apply != nil {
			// apply may add to ev.Details (what it did with the delivery).
			if err := apply(tx); err != nil {
				return err
			}
		}
		e := ev
		e.Details = mergeDetails(ev.Details, map[string]any{"duplicate": duplicate})
		return Append(ctx, tx, &e)
	})
	if err != nil {
		return false, fmt.Errorf("db: record %s webhook %s: %w", provider, eventID, err)
	}
	return duplicate, nil
}

// Rejected audits a delivery that failed verification.
func (s *Webhooks) Rejected(ctx context.Context, ev Event) error {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error { return Append(ctx, tx, &ev) })
	if err != nil {
		return fmt.Errorf("db: record rejected webhook: %w", err)
	}
	return nil
}
