package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
)

// Actor types of audit events.
const (
	ActorUser      = "user"
	ActorAnonymous = "anonymous"
	ActorSystem    = "system"
	ActorCLI       = "cli"
	ActorProvider  = "provider"
)

// Outcomes of audit events.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Actor is who caused an event.
type Actor struct {
	Type  string
	ID    string
	Email string
	Role  string
}

// Origin is where a request came from.
type Origin struct {
	IP        string
	UserAgent string
	RequestID string
}

// Event is one audit event. Details hold before/after values and context as
// a JSON object; keys that look like secrets are redacted before storage.
type Event struct {
	Seq        int64
	At         time.Time
	Actor      Actor
	Action     string
	TargetType string
	TargetID   string
	Outcome    string
	Origin     Origin
	Reason     string
	// Provider is the payout provider the event concerns, if any; it is
	// what the audit log's provider filter looks at.
	Provider string
	Details  map[string]any
	// DetailsJSON is the stored details text, as hashed.
	DetailsJSON string
	// Canon is the canonical encoding, the bytes the hash covers; only
	// Append and Stream set it.
	Canon string
	Hash  string
}

// GenesisHash is the "previous hash" of the first event.
var GenesisHash = hex.EncodeToString(make([]byte, sha256.Size))

// Append writes e as the next event of the chain inside tx, so that the
// change it records and the event commit together or not at all. It sets
// e.At (if zero), e.Seq, e.DetailsJSON and e.Hash.
func Append(ctx context.Context, tx *sql.Tx, e *Event) error {
	if e.Action == "" || e.Actor.Type == "" {
		return errors.New("db: audit event needs an action and an actor")
	}
	if e.Outcome == "" {
		e.Outcome = OutcomeSuccess
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	details, err := json.Marshal(redact(e.Details))
	if err != nil {
		return fmt.Errorf("db: audit details: %w", err)
	}
	e.DetailsJSON = string(details)
	prev := GenesisHash
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&e.Seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("db: audit head: %w", err)
	}
	// Times never go backwards along the chain, even if the clock does:
	// the log's time filters rely on time rising with seq.
	headAt, err := headTime(ctx, tx, e.Seq, prev)
	if err != nil {
		return err
	}
	if e.At.Before(headAt) {
		e.At = headAt
	}
	e.Seq++
	canon, err := canonical(formatTime(e.At), e)
	if err != nil {
		return err
	}
	e.Canon = canon
	if e.Hash, err = chainHash(prev, canon); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_events (seq, canon, hash) VALUES (?, ?, ?)`, e.Seq, canon, e.Hash)
	if err != nil {
		return fmt.Errorf("db: append audit event %s: %w", e.Action, err)
	}
	lastAppended.Store(&chainHead{seq: e.Seq, hash: e.Hash, at: e.At})
	return nil
}

// chainHead is an event's place in the chain and its time.
type chainHead struct {
	seq  int64
	hash string
	at   time.Time
}

// lastAppended is the newest event appended by this process. The head's
// time is a field of its canonical bytes, which SQLite would parse as JSON
// at every append to read it; remembered here, it is read only when the
// head is another event. An event with the same seq and hash is this one,
// time included (the hash covers it), whichever database or transaction it
// is in, so a rolled-back append or another process's can do no harm.
var lastAppended atomic.Pointer[chainHead]

// headTime returns the time of the event (seq, hash), the head; zero for
// an empty chain.
func headTime(ctx context.Context, tx *sql.Tx, seq int64, hash string) (time.Time, error) {
	if seq == 0 {
		return time.Time{}, nil
	}
	if h := lastAppended.Load(); h != nil && h.seq == seq && h.hash == hash {
		return h.at, nil
	}
	var at string
	if err := tx.QueryRowContext(ctx, `SELECT at FROM audit_events WHERE seq = ?`, seq).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("db: audit head: %w", err)
	}
	// A time that cannot be read (verification names that event) orders
	// nothing: it must not stop every change from being recorded.
	t, _ := parseTime(at)
	return t, nil
}

// canonical encodes e as the bytes its hash covers: a JSON array of its
// fields as strings, in a fixed order — seq, at, actor type, id, email and
// role, action, target type and id, outcome, IP, user agent, request id,
// reason, details (itself JSON text), and the provider last, only when set,
// so that events recorded before the provider existed encode as they did.
// Anyone can re-create it to check the chain independently of this code.
func canonical(at string, e *Event) (string, error) {
	fields := []string{
		strconv.FormatInt(e.Seq, 10), at,
		e.Actor.Type, e.Actor.ID, e.Actor.Email, e.Actor.Role,
		e.Action, e.TargetType, e.TargetID, e.Outcome,
		e.Origin.IP, e.Origin.UserAgent, e.Origin.RequestID,
		e.Reason, e.DetailsJSON,
	}
	if e.Provider != "" {
		fields = append(fields, e.Provider)
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return "", fmt.Errorf("db: encode audit event: %w", err)
	}
	return string(b), nil
}

// chainHash returns hex(SHA-256(prev ‖ canon)), prev being the raw 32 bytes
// of the previous event's hash.
func chainHash(prevHex, canon string) (string, error) {
	prev, err := hex.DecodeString(prevHex)
	if err != nil || len(prev) != sha256.Size {
		return "", errors.New("db: audit event follows a malformed hash")
	}
	h := sha256.New()
	h.Write(prev)
	h.Write([]byte(canon))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// redact replaces the values of keys that look like secrets, at any depth
// and in maps of any value type (url.Values, map[string]string, ...), as a
// last line of defence: callers must not put secrets in details.
func redact(v any) any {
	switch t := v.(type) {
	case nil, string, bool, int, int64, float64, json.Number, json.Marshaler:
		return v
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = redactValue(k, x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = redact(x)
		}
		return out
	}
	// Other maps and slices, by reflection: JSON encodes them as it would
	// the map[string]any and []any they are copied into.
	rv := reflect.ValueOf(v)
	switch {
	case rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String && !rv.IsNil():
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			k := it.Key().String()
			out[k] = redactValue(k, it.Value().Interface())
		}
		return out
	case rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8 && !rv.IsNil():
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = redact(rv.Index(i).Interface())
		}
		return out
	}
	return v
}

func redactValue(key string, v any) any {
	if secretKey(key) {
		return "[redacted]"
	}
	return redact(v)
}

// secretKey reports whether a details key names a secret: one of its words
// is password, passwd, secret, token or authorization, or two neighbouring
// words are api key or private key (written as one word too), in any case.
// Words are split at anything but letters and digits, and then once more at
// camelCase humps: client_secret, X-Api-Key, passWord and accessToken all
// name secrets.
func secretKey(k string) bool {
	return secretWords(keyWords(k, false)) || secretWords(keyWords(k, true))
}

func secretWords(words iter.Seq[string]) bool {
	prev := ""
	for w := range words {
		switch {
		case equalFoldAny(w, "password", "passwd", "secret", "token", "authorization", "apikey", "privatekey"):
			return true
		case strings.EqualFold(w, "key") && equalFoldAny(prev, "api", "private"):
			return true
		}
		prev = w
	}
	return false
}

// keyWords yields the words of a key, split at anything but letters and
// digits, and at camelCase humps too if humps is set.
func keyWords(k string, humps bool) iter.Seq[string] {
	return func(yield func(string) bool) {
		start := -1
		var last rune
		for i, r := range k {
			word := unicode.IsLetter(r) || unicode.IsDigit(r)
			hump := humps && start >= 0 && unicode.IsUpper(r) && (unicode.IsLower(last) || unicode.IsDigit(last))
			if start >= 0 && (!word || hump) {
				if !yield(k[start:i]) {
					return
				}
				start = -1
			}
			if word && start < 0 {
				start = i
			}
			last = r
		}
		if start >= 0 {
			yield(k[start:])
		}
	}
}

func equalFoldAny(s string, words ...string) bool {
	for _, w := range words {
		if strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}

const eventColumns = `seq, at, actor_type, actor_id, actor_email, actor_role, action, target_type,
	target_id, outcome, ip, user_agent, request_id, reason, details, provider, hash`

func scanEvent(row interface{ Scan(...any) error }) (Event, error) {
	var e Event
	err := row.Scan(&e.Seq, timeCol{&e.At}, &e.Actor.Type, &e.Actor.ID, &e.Actor.Email, &e.Actor.Role,
		&e.Action, &e.TargetType, &e.TargetID, &e.Outcome, &e.Origin.IP, &e.Origin.UserAgent,
		&e.Origin.RequestID, &e.Reason, &e.DetailsJSON, &e.Provider, &e.Hash)
	if err != nil {
		return e, err
	}
	if e.DetailsJSON != "" {
		// A details text that is not an object is shown raw rather than lost.
		if json.Unmarshal([]byte(e.DetailsJSON), &e.Details) != nil {
			e.Details = map[string]any{"raw": e.DetailsJSON}
		}
	}
	return e, nil
}

// Record appends one event on its own, for actions that change nothing
// else (viewing or exporting the log).
func (a *Audit) Record(ctx context.Context, e Event) error {
	if err := a.db.InTx(ctx, func(tx *sql.Tx) error { return Append(ctx, tx, &e) }); err != nil {
		return fmt.Errorf("db: record %s: %w", e.Action, err)
	}
	return nil
}

// Audit reads the audit chain.
type Audit struct{ db *DB }

// NewAudit returns the audit store of db.
func NewAudit(db *DB) *Audit { return &Audit{db: db} }

// Get returns the event with sequence number seq.
func (a *Audit) Get(ctx context.Context, seq int64) (Event, error) {
	e, err := scanEvent(a.db.R.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM audit_events WHERE seq = ?`, seq))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("db: audit event %d: %w", seq, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("db: audit event %d: %w", seq, err)
	}
	return e, nil
}

// ByActor returns the newest events caused by one actor, newest first.
func (a *Audit) ByActor(ctx context.Context, actorType, actorID string, limit int) ([]Event, error) {
	return a.Search(ctx, AuditFilter{ActorType: actorType, ActorID: actorID, Limit: limit})
}

// ByTarget returns the events about one target, oldest first.
func (a *Audit) ByTarget(ctx context.Context, targetType, targetID string) ([]Event, error) {
	rows, err := a.db.R.QueryContext(ctx, `SELECT `+eventColumns+` FROM audit_events
		WHERE target_type = ? AND target_id = ? ORDER BY seq`, targetType, targetID)
	if err != nil {
		return nil, fmt.Errorf("db: audit events of %s %s: %w", targetType, targetID, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("db: audit events of %s %s: %w", targetType, targetID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
