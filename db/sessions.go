package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Session is a server-side session row. The cookie holds the session id;
// the row is keyed by its SHA-256 (IDHash).
type Session struct {
	IDHash     []byte
	UserID     int64
	Data       []byte
	CreatedAt  time.Time
	LastSeenAt time.Time
	// User is the signed-in user, when UserID is set.
	User User
}

// Sessions stores sessions.
type Sessions struct{ db *DB }

// NewSessions returns the session store of db.
func NewSessions(db *DB) *Sessions { return &Sessions{db: db} }

// Get returns the session with the given id hash, with its user.
func (s *Sessions) Get(ctx context.Context, idHash []byte) (Session, error) {
	var (
		sess  Session
		uid   sql.NullInt64
		email sql.NullString
		role  sql.NullString
	)
	err := s.db.R.QueryRowContext(ctx, `
		SELECT s.id_hash, s.user_id, s.data, s.created_at, s.last_seen_at, u.email, u.role, u.disabled_at
		FROM sessions s LEFT JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = ?`, idHash).Scan(&sess.IDHash, &uid, &sess.Data, timeCol{&sess.CreatedAt},
		timeCol{&sess.LastSeenAt}, &email, &role, nullTime{&sess.User.DisabledAt})
	if errors.Is(err, sql.ErrNoRows) {
		return sess, fmt.Errorf("db: session: %w", ErrNotFound)
	}
	if err != nil {
		return sess, fmt.Errorf("db: session: %w", err)
	}
	if uid.Valid {
		sess.UserID = uid.Int64
		sess.User.ID, sess.User.Email, sess.User.Role = uid.Int64, email.String, role.String
	}
	return sess, nil
}

// Save inserts or updates a session's data and last-seen time. The user and
// creation time of an existing row never change: a new user means a new
// session (see Login).
func (s *Sessions) Save(ctx context.Context, sess Session) error {
	err := s.db.exec(ctx, `
		INSERT INTO sessions (id_hash, user_id, data, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data, last_seen_at = excluded.last_seen_at`,
		sess.IDHash, nullID(sess.UserID), sess.Data, formatTime(sess.CreatedAt), formatTime(sess.LastSeenAt))
	if err != nil {
		return fmt.Errorf("db: save session: %w", err)
	}
	return nil
}

// Touch records activity on a session.
func (s *Sessions) Touch(ctx context.Context, idHash []byte, at time.Time) error {
	if err := s.db.exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, formatTime(at), idHash); err != nil {
		return fmt.Errorf("db: touch session: %w", err)
	}
	return nil
}

// Delete removes a session without an audit event (an anonymous one).
func (s *Sessions) Delete(ctx context.Context, idHash []byte) error {
	if err := s.db.exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash); err != nil {
		return fmt.Errorf("db: delete session: %w", err)
	}
	return nil
}

// Login replaces the session oldHash (if any) with the new signed-in session
// and appends ev, in one transaction: the session id changes at login, so an
// id planted before login is worth nothing after it. A signed-in session
// it replaces (someone else's, in the same browser, or the same account's)
// ends with an auth.logout event of its own, before ev.
func (s *Sessions) Login(ctx context.Context, oldHash []byte, sess Session, ev Event) error {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if len(oldHash) > 0 {
			var who Actor
			err := tx.QueryRowContext(ctx, `DELETE FROM sessions WHERE id_hash = ?
				RETURNING coalesce(user_id, ''), coalesce((SELECT email FROM users WHERE id = user_id), ''),
					coalesce((SELECT role FROM users WHERE id = user_id), '')`, oldHash).Scan(&who.ID, &who.Email, &who.Role)
			switch {
			case err == nil && who.ID != "":
				who.Type = ActorUser
				out := Event{Actor: who, Action: "auth.logout", TargetType: "user", TargetID: who.ID, Origin: ev.Origin,
					Reason: "signed in again in the same browser, as " + ev.Actor.Email, Details: map[string]any{"email": who.Email}}
				if err := Append(ctx, tx, &out); err != nil {
					return err
				}
			case err != nil && !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		// The old session, signed in or not, is gone already.
		if err := replaceSession(ctx, tx, nil, sess); err != nil {
			return err
		}
		return Append(ctx, tx, &ev)
	})
	if err != nil {
		return fmt.Errorf("db: login session: %w", err)
	}
	return nil
}

// replaceSession deletes the session oldHash, if any, and inserts sess in
// its place, inside tx.
func replaceSession(ctx context.Context, tx *sql.Tx, oldHash []byte, sess Session) error {
	if len(oldHash) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, oldHash); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, data, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)`,
		sess.IDHash, nullID(sess.UserID), sess.Data, formatTime(sess.CreatedAt), formatTime(sess.LastSeenAt))
	return err
}

// End deletes a signed-in session and appends ev (logout or expiry) in one
// transaction. It reports false, appending nothing, if the session was
// already gone, so two racing requests record one event.
func (s *Sessions) End(ctx context.Context, idHash []byte, ev Event) (bool, error) {
	var ended bool
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		ended = true
		return Append(ctx, tx, &ev)
	})
	if err != nil {
		return false, fmt.Errorf("db: end session: %w", err)
	}
	return ended, nil
}

// Prune deletes sessions idle since before idleBefore or created before
// createdBefore. Each signed-in one gets an auth.session.expired event by the
// system, in the same transaction.
func (s *Sessions) Prune(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?
			RETURNING user_id, (SELECT email FROM users WHERE users.id = sessions.user_id), created_at, last_seen_at`, formatTime(idleBefore), formatTime(createdBefore))
		if err != nil {
			return err
		}
		var events []Event
		n = 0
		for rows.Next() {
			var (
				uid               sql.NullInt64
				email             sql.NullString
				created, lastSeen string
			)
			if err := rows.Scan(&uid, &email, &created, &lastSeen); err != nil {
				rows.Close()
				return err
			}
			n++
			if uid.Valid {
				events = append(events, ExpiryEvent(uid.Int64, email.String, created, lastSeen))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range events {
			if err := Append(ctx, tx, &events[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("db: prune sessions: %w", err)
	}
	return n, nil
}

// ExpiryEvent is the audit event of a signed-in session that timed out: the
// system ends it; the target is its user, also by email, as the account
// events name the account they change.
func ExpiryEvent(userID int64, email, signedInAt, lastSeenAt string) Event {
	return Event{
		Actor:      Actor{Type: ActorSystem},
		Action:     "auth.session.expired",
		TargetType: "user",
		TargetID:   strconv.FormatInt(userID, 10),
		Details:    map[string]any{"email": email, "signed_in_at": signedInAt, "last_seen_at": lastSeenAt},
	}
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
