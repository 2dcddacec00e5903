package db

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	// IDProviders are the providers among whose own payout ids a Text that
	// is exactly one is looked up (ids are unique per provider only).
	IDProviders []string
}

// List returns payouts matching f, newest first unless f.OldestFirst. A
// text that names a payout exactly (its number, or the provider's own
// reference or id) finds that payout too.
func (s *Payouts) List(ctx context.Context, f PayoutFilter) ([]Payout, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	from, idCol, cond, arg, err := s.textCondition(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("db: list payouts: %w", err)
	}
	out, err := s.listWhere(ctx, f, from, idCol, cond, arg)
	if err != nil {
		return nil, fmt.Errorf("db: list payouts: %w", err)
	}
	ids, err := s.exactIDs(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("db: list payouts: %w", err)
	}
	ids = slices.DeleteFunc(ids, func(id int64) bool {
		return slices.ContainsFunc(out, func(p Payout) bool { return p.ID == id })
	})
	if len(ids) == 0 {
		return out, nil
	}
	// The payouts the text names exactly, if the other filters and the
	// page let them in, take their places by id among its matches.
	in, args := idsIn(ids)
	extra, err := s.listWhere(ctx, f, payoutFrom, "p.id", "p.id "+in, args...)
	if err != nil {
		return nil, fmt.Errorf("db: list payouts: %w", err)
	}
	out = append(out, extra...)
	slices.SortFunc(out, func(a, b Payout) int {
		if f.OldestFirst {
			return cmp.Compare(a.ID, b.ID)
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out[:min(len(out), f.Limit)], nil
}

// exactIDs returns the payouts f's text names exactly: by number ("1234",
// "#1234"), or by the provider's own reference or ids.
func (s *Payouts) exactIDs(ctx context.Context, f PayoutFilter) ([]int64, error) {
	text := strings.TrimSpace(f.Text)
	if text == "" {
		return nil, nil
	}
	parts := []string{exactSQL("provider_reference", 0)}
	args := []any{text}
	if id := payoutNumber(text); id > 0 {
		parts = append(parts, `SELECT id FROM payouts WHERE id = ?`)
		args = append(args, id)
	}
	if n := len(f.IDProviders); n > 0 {
		for _, col := range []string{"provider_id", "payment_id"} {
			parts = append(parts, exactSQL(col, n))
			for _, p := range f.IDProviders {
				args = append(args, p)
			}
			args = append(args, text)
		}
	}
	rows, err := s.db.R.QueryContext(ctx, strings.Join(parts, " UNION ")+` LIMIT 20`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// exactSQL selects the payouts whose col equals a parameter, among n
// providers given first (0: any provider). Saying that col is not empty
// lets the planner use the column's partial index; the providers, the
// (provider, col) ones.
func exactSQL(col string, providers int) string {
	q := `SELECT id FROM payouts WHERE `
	if providers > 0 {
		q += `provider IN (` + placeholders(providers) + `) AND `
	}
	return q + col + ` = ? AND ` + col + ` != ''`
}

// placeholders is n comma-separated SQL parameters.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// idsIn is "IN (?, …)" for ids, with its arguments.
func idsIn(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "IN (" + placeholders(len(ids)) + ")", args
}

// payoutNumber is the payout id a search text names ("1234", "#1234"), or 0.
func payoutNumber(text string) int64 {
	t := strings.TrimPrefix(strings.TrimSpace(text), "#")
	if t == "" || len(t) > 18 || strings.Trim(t, "0123456789") != "" {
		return 0
	}
	id, _ := strconv.ParseInt(t, 10, 64)
	return id
}

// textCondition says how f's text is matched: through the trigram index
// (from joins it, ids are its rowids) or with LIKE; cond is "" without text.
func (s *Payouts) textCondition(ctx context.Context, f PayoutFilter) (from, idCol, cond string, arg any, err error) {
	from, idCol = payoutFrom, "p.id"
	text := foldText(f.Text)
	if text == "" {
		return from, idCol, "", nil, nil
	}
	indexed := false
	if utf8.RuneCountInString(text) >= 3 {
		// Three characters make a trigram: the text index finds them
		// without reading every payout, newest first, as LIKE would. It
		// must hold every payout first; if many wait (the index is new),
		// the search reads the table rather than wait for them.
		_, caughtUp, err := s.db.catchUp(ctx, payoutTextIndex, searchMaxLag)
		if err != nil {
			return "", "", "", nil, fmt.Errorf("index text: %w", err)
		}
		indexed = caughtUp
	}
	// One quoted phrase: nothing typed is read as query syntax.
	phrase := `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
	if indexed && (f.Status != "" || !f.From.IsZero() || !f.To.IsZero() || f.CreatedBy != 0 || f.Provider != "") {
		// The index yields every payout holding the text, newest first,
		// each then checked against the filters: with a text many payouts
		// hold ("pd-") and a filter few pass (an agent's own payouts, the
		// list's default), that reads the whole index. The filter's own
		// index is the better start then.
		var n int
		if err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM payout_text WHERE payout_text MATCH ? LIMIT ?)`,
			phrase, commonText).Scan(&n); err != nil {
			return "", "", "", nil, err
		}
		indexed = n < commonText
	}
	if indexed {
		return ` FROM payout_text t JOIN payouts p ON p.id = t.rowid` + payoutJoins, "t.rowid", "payout_text MATCH ?", phrase, nil
	}
	return from, idCol, `p.search LIKE ? ESCAPE '\'`, "%" + escapeLike(text) + "%", nil
}

// listWhere runs the list's query: cond (with its args) if set, then f's
// other filters and page, ordered by idCol.
func (s *Payouts) listWhere(ctx context.Context, f PayoutFilter, from, idCol, cond string, condArgs ...any) ([]Payout, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if cond != "" {
		where, args = append(where, cond), append(args, condArgs...)
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
	if f.Before > 0 {
		add(idCol+" < ?", f.Before)
	}
	if f.After > 0 {
		add(idCol+" > ?", f.After)
	}
	q := `SELECT ` + payoutColumns + from
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	order := "DESC"
	if f.OldestFirst {
		order = "ASC"
	}
	q += ` ORDER BY ` + idCol + ` ` + order + ` LIMIT ?`
	return s.many(ctx, q, append(args, f.Limit)...)
}

// commonText is how many payouts holding a text make it common: with
// another filter, such a text is matched row by row from the filter's
// index rather than looked up in the text index.
const commonText = 2000

// searchMaxLag is how many payouts a text search indexes before it runs:
// more than the worker leaves behind in normal running (it indexes once a
// second: about a thousand payouts at the load benchmark's rate), few
// enough to take well under a second (about 40 write transactions).
const searchMaxLag = 2000

// IndexText adds the payouts created since the last call to the list's
// text index and returns how many it added. A background worker calls it;
// a text search catches up too, when only a few payouts wait.
func (s *Payouts) IndexText(ctx context.Context) (int64, error) {
	n, _, err := s.db.catchUp(ctx, payoutTextIndex, 0)
	if err != nil {
		return n, fmt.Errorf("db: index payout text: %w", err)
	}
	return n, nil
}

var payoutTextIndex = textIndex{
	table: "payout_text",
	lag: `SELECT coalesce((SELECT max(id) FROM payouts), 0) -
		(SELECT payout_id FROM payout_text_position WHERE id = 1)`,
	position: `SELECT payout_id FROM payout_text_position WHERE id = 1`,
	upTo:     `SELECT max(id) FROM (SELECT id FROM payouts WHERE id > ? ORDER BY id LIMIT ?)`,
	insert: `INSERT INTO payout_text (rowid, search)
		SELECT id, search FROM payouts WHERE id > ? AND id <= ?`,
	setPosition: `UPDATE payout_text_position SET payout_id = ? WHERE id = 1`,
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

// AttentionStatuses are the statuses in which a payout waits on somebody
// other than the provider, in the order the dashboard shows them.
var AttentionStatuses = []Status{StatusAwaitingCustomer, StatusUnknown, StatusPendingApproval}

// attentionQuery selects a user's newest payouts in one status. It repeats
// the payouts_attention index's condition word for word: SQLite uses a
// partial index only for a query that states its condition itself.
const attentionQuery = `SELECT ` + payoutColumns + payoutFrom + `
	WHERE p.created_by = ? AND p.status = ?
	AND p.status IN ('awaiting_customer', 'unknown', 'pending_approval')
	ORDER BY p.id DESC LIMIT ?`

// endedQuery selects a user's payouts that ended without paying since a
// time, the latest end first, through the payouts_ended_unpaid index.
const endedQuery = `SELECT ` + payoutColumns + payoutFrom + `
	WHERE p.created_by = ? AND p.status IN ('failed', 'rejected', 'expired', 'cancelled') AND p.finished_at >= ?
	AND p.error_code != 'paid_after_end'
	ORDER BY p.finished_at DESC LIMIT ?`

// Error codes of a final payout whose provider later said otherwise. The
// status stays (final statuses have no way out); the code and its message
// say what came after.
const (
	// ReversedAfterPaid: paid, then the money came back.
	ReversedAfterPaid = "reversed_after_paid"
	// PaidAfterEnd: ended unpaid (failed, cancelled, or so settled by
	// hand), then reported paid: creating it again could pay twice.
	PaidAfterEnd = "paid_after_end"
	// SettledPaidByHand: a manager settled an unknown outcome as paid. A
	// provider's later "failed" is then news, not a stale delivery.
	SettledPaidByHand = "settled_paid_by_hand"
	// SettledFailedByHand: a manager settled an unknown outcome as failed.
	// A provider's later word that it holds the payout is then news, not
	// a stale delivery.
	SettledFailedByHand = "settled_failed_by_hand"
	// RefundedCode: failed because its money came back, which means it was
	// paid first (Kibramoa's REFUNDED), when the provider gave no code: a
	// "paid" arriving later is a late delivery, not news.
	RefundedCode = "refunded"
)

// contradictedQuery selects a user's payouts whose provider contradicted
// their final status since a time, the latest first, through the
// payouts_contradicted index.
const contradictedQuery = `SELECT ` + payoutColumns + payoutFrom + `
	WHERE p.created_by = ? AND p.error_code IN ('reversed_after_paid', 'paid_after_end') AND p.updated_at >= ?
	ORDER BY p.updated_at DESC LIMIT ?`

// AttentionLists are a user's payouts that need them: those waiting on
// somebody, by status, those that ended without paying lately, and those
// whose provider lately contradicted their final status.
type AttentionLists struct {
	Waiting      map[Status][]Payout
	Ended        []Payout
	Contradicted []Payout
}

// Attention returns, for each of AttentionStatuses, the newest payouts in
// it that user created, and those that ended without paying, or whose
// provider contradicted their end, since endedSince, the latest first: at
// most limit of each.
func (s *Payouts) Attention(ctx context.Context, user int64, endedSince time.Time, limit int) (AttentionLists, error) {
	out := AttentionLists{Waiting: make(map[Status][]Payout, len(AttentionStatuses))}
	for _, st := range AttentionStatuses {
		list, err := s.many(ctx, attentionQuery, user, st, limit)
		if err != nil {
			return AttentionLists{}, fmt.Errorf("db: payouts awaiting user %d: %w", user, err)
		}
		out.Waiting[st] = list
	}
	ended, err := s.many(ctx, endedQuery, user, formatTime(endedSince), limit)
	if err != nil {
		return AttentionLists{}, fmt.Errorf("db: payouts of user %d ended lately: %w", user, err)
	}
	out.Ended = ended
	if out.Contradicted, err = s.many(ctx, contradictedQuery, user, formatTime(endedSince), limit); err != nil {
		return AttentionLists{}, fmt.Errorf("db: payouts of user %d contradicted lately: %w", user, err)
	}
	return out, nil
}
