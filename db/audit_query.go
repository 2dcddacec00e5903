package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AuditFilter selects audit events. Zero values select everything.
type AuditFilter struct {
	// From and To bound the time: From ≤ at < To.
	From, To time.Time
	// ActorType and ActorID name who acted (ActorID alone is not used).
	ActorType, ActorID string
	// Action is an exact action, or a prefix ending in "." ("payout.").
	Action string
	// ExceptAction leaves out one exact action.
	ExceptAction string
	Provider     string
	PayoutID     int64
	Outcome      string
	// Text is matched as a phrase in the details and the actor's email.
	Text string
	// Before continues a listing: only events with a smaller seq. Keyset
	// pagination stays stable while new events arrive.
	Before int64
	Limit  int
}

// ErrBadFilter is returned for a filter value the search cannot use.
var ErrBadFilter = errors.New("bad audit filter")

// Search returns the events matching f, newest first, at most f.Limit
// (default 50, at most 1000).
func (a *Audit) Search(ctx context.Context, f AuditFilter) ([]Event, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 1000)
	var out []Event
	err := a.scan(ctx, f, false, func(e Event) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: search audit events: %w", err)
	}
	return out, nil
}

// Stream calls fn with every event matching f, newest first, in constant
// memory however many there are. The events' Details are not decoded
// (DetailsJSON holds them); f.Limit is ignored. Reading runs on its own
// goroutine, a few batches ahead of fn, so that decoding rows and writing
// them out use two cores.
func (a *Audit) Stream(ctx context.Context, f AuditFilter, fn func(Event) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	const batchSize, ahead = 256, 4
	full := make(chan []Event, ahead)
	var scanErr error
	go func() {
		defer close(full)
		batch := make([]Event, 0, batchSize)
		send := func() error {
			select {
			case full <- batch:
				batch = make([]Event, 0, batchSize)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		// Page by page, each query done before its events are handed on:
		// a client that reads slowly must not hold a read snapshot open,
		// which would keep the WAL from being checkpointed.
		for page := make([]Event, 0, streamPage); ; page = page[:0] {
			f.Limit = streamPage
			scanErr = a.scan(ctx, f, true, func(e Event) error {
				page = append(page, e)
				return nil
			})
			for i := 0; scanErr == nil && i < len(page); i++ {
				if batch = append(batch, page[i]); len(batch) == batchSize {
					scanErr = send()
				}
			}
			if scanErr != nil || len(page) < streamPage {
				break
			}
			f.Before = page[len(page)-1].Seq
		}
		if scanErr == nil && len(batch) > 0 {
			scanErr = send()
		}
	}()
	var fnErr error
	for batch := range full {
		for i := 0; i < len(batch) && fnErr == nil; i++ {
			if fnErr = fn(batch[i]); fnErr != nil {
				cancel()
			}
		}
	}
	// full is closed only after scanErr was written.
	if fnErr != nil {
		return fnErr
	}
	if scanErr != nil {
		return fmt.Errorf("db: stream audit events: %w", scanErr)
	}
	return nil
}

// streamPage is how many events Stream reads per query.
const streamPage = 2048

// scan runs the query of f and calls fn with each event; canon reads the
// canonical columns only (faster, for exports).
func (a *Audit) scan(ctx context.Context, f AuditFilter, canon bool, fn func(Event) error) error {
	if f.Text != "" {
		if _, err := a.IndexText(ctx); err != nil {
			return err
		}
	}
	q, args, empty, err := a.buildQuery(ctx, f, canon)
	if err != nil || empty {
		return err
	}
	rows, err := a.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	scan := scanEvent
	if canon {
		var c canonScanner
		scan = c.scan
	}
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// buildQuery builds the SQL for f. A time range becomes a range of sequence
// numbers first (time grows with seq), so that every other filter can use
// its (…, seq) index and stop at the page's end. empty reports a filter
// that can match nothing; canon selects the canonical columns only.
func (a *Audit) buildQuery(ctx context.Context, f AuditFilter, canon bool) (q string, args []any, empty bool, err error) {
	var where []string
	add := func(cond string, vals ...any) {
		where = append(where, cond)
		args = append(args, vals...)
	}
	// With a text search, sequence bounds go on the full-text index's rowid,
	// which it can use, and it orders by it too: FTS5 then walks its
	// document list newest first and stops at the page's end.
	seqCol := "e.seq"
	if f.Text != "" {
		seqCol = "t.rowid"
	}
	if !f.From.IsZero() {
		lo, err := a.firstAtOrAfter(ctx, f.From)
		if err != nil {
			return "", nil, false, err
		}
		add(seqCol+" >= ?", lo)
	}
	if !f.To.IsZero() {
		end, err := a.firstAtOrAfter(ctx, f.To)
		if err != nil {
			return "", nil, false, err
		}
		if end <= 1 {
			return "", nil, true, nil
		}
		add(seqCol+" < ?", end)
	}
	if f.ActorType != "" {
		add("e.actor_type = ? AND e.actor_id = ?", f.ActorType, f.ActorID)
	}
	switch {
	case strings.HasSuffix(f.Action, "."):
		// A prefix as a range, which the (action, seq) index serves.
		add("e.action >= ? AND e.action < ?", f.Action, f.Action[:len(f.Action)-1]+"/")
	case f.Action != "":
		add("e.action = ?", f.Action)
	}
	if f.ExceptAction != "" {
		add("e.action != ?", f.ExceptAction)
	}
	if f.Provider != "" {
		add("e.provider = ?", f.Provider)
	}
	if f.PayoutID != 0 {
		add("e.target_type = 'payout' AND e.target_id = ?", fmt.Sprint(f.PayoutID))
	}
	if f.Outcome != "" {
		add("e.outcome = ?", f.Outcome)
	}
	if f.Before > 0 {
		add(seqCol+" < ?", f.Before)
	}
	from := ` FROM audit_events e`
	if f.Text != "" {
		phrase, err := ftsPhrase(f.Text)
		if err != nil {
			return "", nil, false, err
		}
		from = ` FROM audit_text t JOIN audit_events e ON e.seq = t.rowid`
		where = append([]string{"audit_text MATCH ?"}, where...)
		args = append([]any{phrase}, args...)
	}
	cols := prefixed(eventColumns, "e.")
	if canon {
		// A stream decodes canon itself: reading sixteen generated columns
		// would extract each from the JSON again, row after row.
		cols = "e.canon, e.hash"
	}
	q = `SELECT ` + cols + from
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY ` + seqCol + ` DESC`
	if f.Limit > 0 {
		// A parameter, so that every page size shares one cached statement.
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return q, args, false, nil
}

// ftsPhrase quotes free text as one FTS5 phrase, so that no character the
// user types is read as query syntax.
func ftsPhrase(text string) (string, error) {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > 200 {
		return "", fmt.Errorf("%w: text must be 1 to 200 characters", ErrBadFilter)
	}
	return `"` + strings.ReplaceAll(text, `"`, `""`) + `"`, nil
}

// prefixed qualifies a comma-separated column list with a table alias.
func prefixed(cols, alias string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// Actions lists the distinct actions recorded, for the audit log's filter.
func (a *Audit) Actions(ctx context.Context) ([]string, error) {
	// A skip-scan over the (action, seq) index: one step per action.
	rows, err := a.db.R.QueryContext(ctx, `
		WITH RECURSIVE acts(action) AS (
			SELECT min(action) FROM audit_events
			UNION ALL
			SELECT (SELECT min(action) FROM audit_events WHERE action > acts.action) FROM acts WHERE acts.action IS NOT NULL
		)
		SELECT action FROM acts WHERE action IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("db: audit actions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("db: audit actions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// IndexText adds the events recorded since the last call to the full-text
// index and returns how many it added. A text search calls it first, so it
// always sees every event; a background worker calls it too, so that
// searches rarely wait.
func (a *Audit) IndexText(ctx context.Context) (int64, error) {
	n, _, err := a.db.catchUp(ctx, auditTextIndex, 0)
	if err != nil {
		return n, fmt.Errorf("db: index audit text: %w", err)
	}
	return n, nil
}

var auditTextIndex = textIndex{
	table: "audit_text",
	lag: `SELECT coalesce((SELECT max(seq) FROM audit_events), 0) -
		(SELECT seq FROM audit_text_position WHERE id = 1)`,
	position: `SELECT seq FROM audit_text_position WHERE id = 1`,
	upTo:     `SELECT max(seq) FROM (SELECT seq FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?)`,
	insert: `INSERT INTO audit_text (rowid, details, actor_email)
		SELECT seq, details, actor_email FROM audit_events WHERE seq > ? AND seq <= ?`,
	setPosition: `UPDATE audit_text_position SET seq = ? WHERE id = 1`,
}

// canonScanner reads events from their canonical encoding (canon, hash),
// without decoding their details, reusing its field list from row to row:
// the export reads millions.
type canonScanner struct{ fields []string }

func (c *canonScanner) scan(row interface{ Scan(...any) error }) (Event, error) {
	var canon, hash string
	if err := row.Scan(&canon, &hash); err != nil {
		return Event{}, err
	}
	f, err := decodeCanon(canon, c.fields)
	c.fields = f
	if err != nil || len(f) < 15 {
		return Event{}, fmt.Errorf("event encoding unreadable: %v", err)
	}
	seq, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return Event{}, fmt.Errorf("event encoding: seq %q", f[0])
	}
	at, err := parseTime(f[1])
	if err != nil {
		return Event{}, err
	}
	e := Event{Seq: seq, At: at, Actor: Actor{Type: f[2], ID: f[3], Email: f[4], Role: f[5]}, Action: f[6],
		TargetType: f[7], TargetID: f[8], Outcome: f[9], Origin: Origin{IP: f[10], UserAgent: f[11], RequestID: f[12]},
		Reason: f[13], DetailsJSON: f[14], Canon: canon, Hash: hash}
	if len(f) > 15 {
		e.Provider = f[15]
	}
	return e, nil
}

// firstAtOrAfter returns the sequence number from which events are at t or
// later: every event before it is earlier than t (one past the newest if
// all are). Times rise with seq (Append keeps them so), so it bisects the
// sequence numbers, about thirty point reads on a billion events, rather
// than keep an index on the time that every append would have to write.
// Sequence numbers have no gaps, but each probe takes the first event at
// or past its midpoint, so one would do no harm.
func (a *Audit) firstAtOrAfter(ctx context.Context, t time.Time) (int64, error) {
	at := formatTime(t)
	var lo, hi int64 // the answer is in [lo, hi]
	// Two subqueries: one query asking for both min and max would walk the
	// table.
	if err := a.db.R.QueryRowContext(ctx, `SELECT coalesce((SELECT min(seq) FROM audit_events), 1),
		coalesce((SELECT max(seq) FROM audit_events), 0) + 1`).
		Scan(&lo, &hi); err != nil {
		return 0, fmt.Errorf("db: audit time bound: %w", err)
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		var seq int64
		var later bool
		err := a.db.R.QueryRowContext(ctx, `SELECT seq, at >= ? FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT 1`,
			at, mid).Scan(&seq, &later)
		switch {
		case errors.Is(err, sql.ErrNoRows): // only the end is past mid
			hi = mid
		case err != nil:
			return 0, fmt.Errorf("db: audit time bound: %w", err)
		case later:
			hi = mid
		default:
			lo = seq + 1
		}
	}
	return lo, nil
}
