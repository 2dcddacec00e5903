package db

import (
	"context"
	"fmt"
)

// Verification is the result of recomputing the audit chain.
type Verification struct {
	// Events is how many events were checked.
	Events int64
	// Head is the hash of the last event that checked out.
	Head string
	// BrokenAt is the sequence number where the chain first breaks, 0 if it
	// does not; Problem says how.
	BrokenAt int64
	Problem  string
}

// OK reports whether the whole chain checked out.
func (v Verification) OK() bool { return v.BrokenAt == 0 }

func (v Verification) String() string {
	if v.OK() {
		return fmt.Sprintf("ok: %d events, head %s", v.Events, v.Head)
	}
	return fmt.Sprintf("broken at seq %d: %s (%d events checked before it)", v.BrokenAt, v.Problem, v.Events)
}

// Verify recomputes the hash chain from the first event, streaming rows in
// sequence order, and reports the first sequence number where a stored hash
// does not match (an edited row, or a row inserted or swapped in) or where a
// sequence number is missing (a deleted row).
func (a *Audit) Verify(ctx context.Context) (Verification, error) {
	rows, err := a.db.R.QueryContext(ctx, `SELECT `+eventColumns+` FROM audit_events ORDER BY seq`)
	if err != nil {
		return Verification{}, fmt.Errorf("db: verify audit chain: %w", err)
	}
	defer rows.Close()
	v := Verification{Head: GenesisHash}
	for rows.Next() {
		var e Event
		var at string
		err := rows.Scan(&e.Seq, &at, &e.Actor.Type, &e.Actor.ID, &e.Actor.Email, &e.Actor.Role,
			&e.Action, &e.TargetType, &e.TargetID, &e.Outcome, &e.Origin.IP, &e.Origin.UserAgent,
			&e.Origin.RequestID, &e.Reason, &e.DetailsJSON, &e.Hash)
		if err != nil {
			// A row whose columns no longer scan (a timestamp overwritten with
			// garbage) is tampering too, not an operational error.
			return v.broken(v.Events+1, "row unreadable: "+err.Error()), nil
		}
		want := v.Events + 1
		if e.Seq != want {
			if e.Seq > want {
				return v.broken(want, fmt.Sprintf("event missing (next stored event is %d)", e.Seq)), nil
			}
			return v.broken(want, fmt.Sprintf("sequence out of order (found %d)", e.Seq)), nil
		}
		h, err := chainHash(v.Head, at, &e)
		if err != nil {
			return v.broken(e.Seq, err.Error()), nil
		}
		if h != e.Hash {
			return v.broken(e.Seq, "hash does not match the event's contents or its predecessor"), nil
		}
		v.Events, v.Head = e.Seq, e.Hash
	}
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("db: verify audit chain: %w", err)
	}
	return v, nil
}

func (v Verification) broken(seq int64, problem string) Verification {
	v.BrokenAt, v.Problem = seq, problem
	return v
}
