package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Payout is a payout as stored.
type Payout struct {
	ID                 int64
	Provider           string
	Status             Status
	AmountMinor        int64
	Currency           string
	IdempotencyKey     string
	Reference          string
	Fields             map[string]string
	BeneficiaryName    string
	BeneficiaryAccount string
	BeneficiaryCountry string
	ProviderID         string
	PaymentID          string
	ProviderReference  string
	RawStatus          string
	ErrorCode          string
	ErrorMessage       string
	CashierURL         string
	// PayoutOption is the option the beneficiary picked with the provider
	// (Kibramoa's cashier), once the provider reports it.
	PayoutOption   string
	CreatedBy      int64
	CreatedByEmail string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	SubmittedAt    time.Time
	ConfirmedAt    time.Time
	FinishedAt     time.Time
	NextCheckAt    time.Time
	Checks         int
	// SendAttempts counts the attempts to send it, while it is in the outbox.
	SendAttempts int
	// ApprovalHash is the hash of what its approver saw; empty when it
	// needed no approval.
	ApprovalHash    string
	ApprovedBy      int64
	ApprovedByEmail string
	ApprovedAt      time.Time
}

// EndedUnpaid reports whether p ended without paying anything, as far as
// anyone knows, so that creating it again cannot pay twice: not paid, and
// not reported paid after it ended.
func (p Payout) EndedUnpaid() bool {
	return p.Status.Final() && p.Status != StatusPaid && p.ErrorCode != PaidAfterEnd
}

// NewPayout is what creating a payout needs.
type NewPayout struct {
	Provider string
	// Status is StatusQueued (sent at once) or StatusPendingApproval.
	Status             Status
	AmountMinor        int64
	Currency           string
	IdempotencyKey     string
	Reference          string
	Fields             map[string]string
	BeneficiaryName    string
	BeneficiaryAccount string
	BeneficiaryCountry string
	CreatedBy          int64
	// Cap, when its Recipient is set, refuses the payout if the provider
	// already has Max payouts to that recipient in the window.
	Cap RecipientCap
	// Claim, set on a queued payout, starts its first attempt in the
	// transaction that creates it, as ClaimOutbox would in one of its own:
	// the payout is stored submitting, its attempt counted, and the claim's
	// event appended after the creation's. The caller then sends it.
	Claim *Claim
}

// Claim is the start of a payout's first attempt, recorded as it is
// created (see NewPayout.Claim).
type Claim struct {
	// At is when the attempt started, the payout's SubmittedAt.
	At    time.Time
	Event Event
}

// RecipientCap is a provider's limit of Max payouts to one recipient in any
// Window. Recipient is stored only as a hash.
type RecipientCap struct {
	Recipient string
	Max       int
	Window    time.Duration
}

// CapError refuses a payout whose recipient has reached the provider's cap.
type CapError struct {
	Count, Max int
	// Waiting is how many of the Count are still to be sent (awaiting
	// approval or queued), counted as if sent now.
	Waiting int
	Window  time.Duration
	// Next is when the oldest counted payout leaves the window, making room
	// for one more, at the earliest: payouts waiting to be sent count from
	// now, and from later once sent.
	Next time.Time
}

func (e *CapError) Error() string {
	return fmt.Sprintf("recipient has %d payouts in %s (at most %d)", e.Count, e.Window, e.Max)
}

// recipientKey is the hash a capped recipient is stored and counted by.
func recipientKey(provider, recipient string) string {
	sum := sha256.Sum256([]byte(provider + "\x00" + recipient))
	return hex.EncodeToString(sum[:])
}

// capSQL lists the times the payouts counted against a recipient's cap
// (see checkCap) count from, oldest first. Arguments: now, provider,
// recipient key, idempotency key, start of the window.
const capSQL = `SELECT t, waiting FROM (
		SELECT CASE WHEN waiting THEN ? ELSE coalesce(submitted_at, created_at) END AS t, waiting
		FROM (SELECT *, status IN ('pending_approval', 'queued') AS waiting FROM payouts
		-- recipient_key != '' lets the planner use the partial index.
		WHERE provider = ? AND recipient_key = ? AND recipient_key != '' AND idempotency_key != ?
			AND status != 'rejected'
			AND NOT (status IN ('failed', 'cancelled', 'expired') AND provider_id = '' AND maybe_received = 0)))
	WHERE t >= ? ORDER BY t`

// CapMargin widens a provider's window: a payout counts here from when its
// attempt started, a little before the provider received it, and clocks
// differ. Refusing a few minutes longer beats a payout the provider fails.
const CapMargin = 5 * time.Minute

// checkCap returns a *CapError if np's recipient already has cap.Max
// payouts in the window ending at now. It counts every payout the provider
// may have received: not those rejected before sending, nor those that
// failed, were cancelled or expired without ever reaching it. A payout
// counts from when it was last sent; one waiting to be sent (for approval,
// or queued again after a failed attempt) counts as if sent now, however
// old, as it will be. Another submission of np itself (its idempotency
// key) is not counted.
func checkCap(ctx context.Context, tx *sql.Tx, np NewPayout, key string, now time.Time) error {
	c := np.Cap
	rows, err := tx.QueryContext(ctx, capSQL,
		formatTime(now), np.Provider, key, np.IdempotencyKey, formatTime(now.Add(-c.Window-CapMargin)))
	if err != nil {
		return fmt.Errorf("recipient cap: %w", err)
	}
	defer rows.Close()
	var times []time.Time
	waiting := 0
	for rows.Next() {
		var t time.Time
		var w bool
		if err := rows.Scan(timeCol{&t}, &w); err != nil {
			return fmt.Errorf("recipient cap: %w", err)
		}
		times = append(times, t)
		if w {
			waiting++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("recipient cap: %w", err)
	}
	if len(times) < c.Max {
		return nil
	}
	return &CapError{Count: len(times), Max: c.Max, Waiting: waiting, Window: c.Window,
		Next: times[len(times)-c.Max].Add(c.Window + CapMargin)}
}

// ForgetRecipients erases the recipient hashes of final payouts last sent
// (or made) before the given time, which can no longer count against any
// cap, and returns how many it erased. A hash of a phone number is easily
// reversed: it must not outlive the number, masked once a payout is final.
func (s *Payouts) ForgetRecipients(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE payouts SET recipient_key = ''
			WHERE recipient_key != '' AND status IN (?, ?, ?, ?, ?) AND coalesce(submitted_at, created_at) < ?`,
			StatusPaid, StatusFailed, StatusCancelled, StatusRejected, StatusExpired, formatTime(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("db: forget recipients: %w", err)
	}
	return n, nil
}

// Payouts stores payouts, their outbox and their provider exchanges.
type Payouts struct{ db *DB }

// NewPayouts returns the payout store of db.
func NewPayouts(db *DB) *Payouts { return &Payouts{db: db} }

const payoutColumns = `p.id, p.provider, p.status, p.amount_minor, p.currency, p.idempotency_key, p.reference,
	p.fields, p.beneficiary_name, p.beneficiary_account, p.beneficiary_country, p.provider_id, p.payment_id,
	p.provider_reference, p.raw_status, p.error_code, p.error_message, p.cashier_url, p.payout_option, p.created_by, u.email,
	p.created_at, p.updated_at, p.submitted_at, p.confirmed_at, p.finished_at, p.next_check_at, p.checks,
	coalesce(o.attempts, 0), p.approval_hash, coalesce(p.approved_by, 0), coalesce(ap.email, ''), p.approved_at`

const payoutFrom = ` FROM payouts p` + payoutJoins

// payoutJoins are the tables payoutColumns reads besides payouts p.
const payoutJoins = ` JOIN users u ON u.id = p.created_by LEFT JOIN outbox o ON o.payout_id = p.id
	LEFT JOIN users ap ON ap.id = p.approved_by`

func scanPayout(row interface{ Scan(...any) error }) (Payout, error) {
	var p Payout
	var fields string
	err := row.Scan(&p.ID, &p.Provider, &p.Status, &p.AmountMinor, &p.Currency, &p.IdempotencyKey, &p.Reference,
		&fields, &p.BeneficiaryName, &p.BeneficiaryAccount, &p.BeneficiaryCountry, &p.ProviderID, &p.PaymentID,
		&p.ProviderReference, &p.RawStatus, &p.ErrorCode, &p.ErrorMessage, &p.CashierURL, &p.PayoutOption, &p.CreatedBy, &p.CreatedByEmail,
		timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt}, nullTime{&p.SubmittedAt}, nullTime{&p.ConfirmedAt},
		nullTime{&p.FinishedAt}, nullTime{&p.NextCheckAt}, &p.Checks, &p.SendAttempts, &p.ApprovalHash, &p.ApprovedBy,
		&p.ApprovedByEmail, nullTime{&p.ApprovedAt})
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(fields), &p.Fields); err != nil {
		return p, fmt.Errorf("payout %d fields: %w", p.ID, err)
	}
	return p, nil
}

// searchText is what the payouts list's text box searches, folded.
func searchText(parts ...string) string { return foldText(strings.Join(parts, " ")) }

// Create stores a new payout (and, when it is queued, its outbox entry) and
// appends ev, in one transaction. A payout with the same idempotency key
// already stored is returned instead, with created false: the same form
// submitted twice makes one payout.
func (s *Payouts) Create(ctx context.Context, np NewPayout, ev Event) (p Payout, created bool, err error) {
	if np.Status != StatusQueued && np.Status != StatusPendingApproval {
		return p, false, fmt.Errorf("db: create payout: initial status %q", np.Status)
	}
	status, attempts := np.Status, 0
	if np.Claim != nil {
		if err := checkTransition(np.Status, StatusSubmitting); err != nil {
			return p, false, fmt.Errorf("db: create payout claimed: %w", err)
		}
		status, attempts = StatusSubmitting, 1
	}
	fields, err := json.Marshal(np.Fields)
	if err != nil {
		return p, false, fmt.Errorf("db: create payout: %w", err)
	}
	var capKey string
	if np.Cap.Recipient != "" {
		if np.Cap.Max <= 0 || np.Cap.Window <= 0 {
			return p, false, fmt.Errorf("db: create payout: recipient cap %d in %s", np.Cap.Max, np.Cap.Window)
		}
		capKey = recipientKey(np.Provider, np.Cap.Recipient)
	}
	// Outside the transaction: the writer is shared.
	search := searchText(np.Reference, np.BeneficiaryName, np.BeneficiaryAccount)
	var id int64
	var createdAt time.Time
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		t := time.Now()
		now := formatTime(t)
		createdAt = t.UTC().Truncate(time.Microsecond) // as stored
		// A form sent just before its agent was disabled creates nothing.
		if err := actorActive(ctx, tx, ev.Actor); err != nil {
			return err
		}
		// In the transaction: two payouts to one number submitted at once
		// are counted one after the other.
		if capKey != "" {
			if err := checkCap(ctx, tx, np, capKey, t); err != nil {
				// The form already made its payout: show it, not the cap
				// its own siblings have filled since.
				var exists bool
				if qerr := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM payouts WHERE idempotency_key = ?)`,
					np.IdempotencyKey).Scan(&exists); qerr == nil && exists {
					return ErrDuplicate
				}
				return err
			}
		}
		var submittedAt any
		if np.Claim != nil {
			submittedAt = formatTime(np.Claim.At)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO payouts (provider, status, amount_minor, currency, idempotency_key,
			reference, fields, beneficiary_name, beneficiary_account, beneficiary_country, created_by, created_at, updated_at,
			submitted_at, search, recipient_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			np.Provider, status, np.AmountMinor, np.Currency, np.IdempotencyKey, np.Reference, string(fields),
			np.BeneficiaryName, np.BeneficiaryAccount, np.BeneficiaryCountry, np.CreatedBy, now, now,
			submittedAt, search, capKey)
		if err != nil {
			if isUnique(err) {
				return ErrDuplicate
			}
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if np.Status == StatusQueued {
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (payout_id, available_at, attempts) VALUES (?, ?, ?)`,
				id, now, attempts); err != nil {
				return err
			}
		}
		ev.TargetType, ev.TargetID, ev.Provider = "payout", strconv.FormatInt(id, 10), np.Provider
		ev.Details = mergeDetails(ev.Details, map[string]any{
			"provider": np.Provider, "amount_minor": np.AmountMinor, "currency": np.Currency, "status": string(np.Status),
			"reference": np.Reference, "beneficiary": np.BeneficiaryName, "account": np.BeneficiaryAccount,
		})
		if err := Append(ctx, tx, &ev); err != nil || np.Claim == nil {
			return err
		}
		claim := np.Claim.Event
		claim.TargetType, claim.TargetID, claim.Provider = ev.TargetType, ev.TargetID, np.Provider
		claim.Details = mergeDetails(claim.Details, statusChange(np.Status, status))
		return Append(ctx, tx, &claim)
	})
	if errors.Is(err, ErrDuplicate) {
		p, err = s.ByKey(ctx, np.IdempotencyKey)
		return p, false, err
	}
	if err != nil {
		return p, false, fmt.Errorf("db: create payout: %w", err)
	}
	p = Payout{ID: id, Provider: np.Provider, Status: status, AmountMinor: np.AmountMinor, Currency: np.Currency,
		IdempotencyKey: np.IdempotencyKey, Reference: np.Reference, Fields: np.Fields, BeneficiaryName: np.BeneficiaryName,
		BeneficiaryAccount: np.BeneficiaryAccount, BeneficiaryCountry: np.BeneficiaryCountry, CreatedBy: np.CreatedBy,
		CreatedAt: createdAt, UpdatedAt: createdAt, SendAttempts: attempts}
	if np.Claim != nil {
		p.SubmittedAt = np.Claim.At.UTC().Truncate(time.Microsecond) // as stored
	}
	return p, true, nil
}

// Get returns the payout with the given id.
func (s *Payouts) Get(ctx context.Context, id int64) (Payout, error) {
	return s.one(ctx, `p.id = ?`, id)
}

// FreshTx returns payout p as it is now, inside tx: p itself if it has not
// changed since it was read, else the row read again. A decision made on
// a copy read before a provider call (which may take seconds, during which
// a manager may settle the payout) is checked against it before it is
// written. Only the cheap columns are compared first, as this runs on the
// writer for every webhook.
func (s *Payouts) FreshTx(ctx context.Context, tx *sql.Tx, p Payout) (Payout, error) {
	var updated string
	var status Status
	var code string
	err := tx.QueryRowContext(ctx, `SELECT updated_at, status, error_code FROM payouts WHERE id = ?`, p.ID).Scan(&updated, &status, &code)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("db: payout %d: %w", p.ID, ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("db: payout %d: %w", p.ID, err)
	}
	if updated == formatTime(p.UpdatedAt) && status == p.Status && code == p.ErrorCode {
		return p, nil
	}
	now, err := scanPayout(tx.QueryRowContext(ctx, `SELECT `+payoutColumns+payoutFrom+` WHERE p.id = ?`, p.ID))
	if err != nil {
		return p, fmt.Errorf("db: payout %d: %w", p.ID, err)
	}
	return now, nil
}

// ByKey returns the payout made with an idempotency key.
func (s *Payouts) ByKey(ctx context.Context, key string) (Payout, error) {
	return s.one(ctx, `p.idempotency_key = ?`, key)
}

// Match finds a provider's payout by our reference, the provider's id or
// its secondary id, in that order of trust.
func (s *Payouts) Match(ctx context.Context, provider, reference, providerID, paymentID string) (Payout, error) {
	tries := []struct {
		where string
		arg   string
	}{
		{`p.reference = ? AND p.provider = ?`, reference},
		{`p.provider_id = ? AND p.provider = ?`, providerID},
		{`p.payment_id = ? AND p.provider = ?`, paymentID},
	}
	for _, t := range tries {
		if t.arg == "" {
			continue
		}
		p, err := s.one(ctx, t.where, t.arg, provider)
		if !errors.Is(err, ErrNotFound) {
			return p, err
		}
	}
	return Payout{}, fmt.Errorf("db: %s payout %q/%q/%q: %w", provider, reference, providerID, paymentID, ErrNotFound)
}

func (s *Payouts) one(ctx context.Context, where string, args ...any) (Payout, error) {
	p, err := scanPayout(s.db.R.QueryRowContext(ctx, `SELECT `+payoutColumns+payoutFrom+` WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("db: payout %v: %w", args[0], ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("db: payout %v: %w", args[0], err)
	}
	return p, nil
}

func (s *Payouts) many(ctx context.Context, query string, args ...any) ([]Payout, error) {
	return queryPayouts(ctx, s.db.R, query, args...)
}

// queryPayouts runs a payout query on q (the readers, or a transaction).
func queryPayouts(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]Payout, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Payout
	for rows.Next() {
		p, err := scanPayout(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Due returns payouts whose next reconciliation check is due, oldest first.
func (s *Payouts) Due(ctx context.Context, now time.Time, limit int) ([]Payout, error) {
	out, err := s.many(ctx, `SELECT `+payoutColumns+payoutFrom+`
		WHERE p.next_check_at IS NOT NULL AND p.next_check_at <= ? ORDER BY p.next_check_at LIMIT ?`, formatTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("db: due payouts: %w", err)
	}
	return out, nil
}

// Overdue counts the payouts whose check by reconciliation fell due at or
// before now, and returns when the longest-waiting of them did (zero if
// none). Past the checks' rate budget they wait; this is how long.
func (s *Payouts) Overdue(ctx context.Context, now time.Time) (n int64, since time.Time, err error) {
	err = s.db.R.QueryRowContext(ctx, `SELECT count(*), min(next_check_at) FROM payouts
		WHERE next_check_at IS NOT NULL AND next_check_at <= ?`,
		formatTime(now)).Scan(&n, nullTime{&since})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("db: overdue checks: %w", err)
	}
	return n, since, nil
}

// Interrupted returns payouts whose sending started and never finished:
// the process stopped between recording the attempt and its outcome.
func (s *Payouts) Interrupted(ctx context.Context) ([]Payout, error) {
	out, err := s.many(ctx, `SELECT `+payoutColumns+payoutFrom+` WHERE p.status = ? ORDER BY p.id`, StatusSubmitting)
	if err != nil {
		return nil, fmt.Errorf("db: interrupted payouts: %w", err)
	}
	return out, nil
}
