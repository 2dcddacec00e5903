package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Roles, from least to most privileged.
const (
	RoleAgent   = "agent"
	RoleManager = "manager"
	RoleAdmin   = "admin"
)

// Roles lists the roles in order of privilege.
var Roles = []string{RoleAgent, RoleManager, RoleAdmin}

// RoleRank orders roles by privilege; an unknown role ranks below all.
func RoleRank(role string) int {
	for i, r := range Roles {
		if r == role {
			return i + 1
		}
	}
	return 0
}

// ErrBadCredentials is returned by Authenticate for an unknown email, a wrong
// password and a disabled account alike, so callers cannot tell them apart.
var ErrBadCredentials = errors.New("email or password is incorrect")

// User is a person who can sign in.
type User struct {
	ID         int64
	Email      string
	Role       string
	CreatedAt  time.Time
	DisabledAt time.Time
	// Version counts changes to the account: forms that change it carry
	// the version they were drawn for.
	Version int64
}

// Disabled reports whether the account has been disabled.
func (u User) Disabled() bool { return !u.DisabledAt.IsZero() }

// Users stores user accounts.
type Users struct{ db *DB }

// NewUsers returns the user store of db.
func NewUsers(db *DB) *Users { return &Users{db: db} }

const userColumns = `id, email, role, created_at, disabled_at, version`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.Role, timeCol{&u.CreatedAt}, nullTime{&u.DisabledAt}, &u.Version)
	return u, err
}

// NormalizeEmail trims and lower-cases an email address.
func NormalizeEmail(email string) string {
	// NFC: "é" typed as one character or as e plus an accent is one address.
	return norm.NFC.String(strings.ToLower(strings.TrimSpace(email)))
}

// EmailLookAlike says what in email could make two accounts look the same,
// or "": characters that do not show (zero-width spaces, direction marks,
// controls), or compatibility forms of others (full-width "ａ", the
// ligature "ﬁ"), which NFKC would fold onto plain ones.
func EmailLookAlike(email string) string {
	if strings.ContainsFunc(email, func(r rune) bool { return unicode.Is(unicode.Cf, r) || unicode.IsControl(r) }) {
		return "contains invisible characters (such as a zero-width space)"
	}
	if norm.NFKC.String(email) != norm.NFC.String(email) {
		return "contains full-width or other look-alike characters (such as ａ)"
	}
	for part := range strings.FieldsFuncSeq(email, func(r rune) bool { return r == '@' || r == '.' }) {
		if mixesScripts(part) {
			return "mixes letters of different alphabets (such as a Cyrillic а among Latin letters)"
		}
	}
	return ""
}

// mixesScripts reports whether s holds letters of more than one script,
// the way "аgent" with a Cyrillic а passes for "agent". Scripts written
// together (Han with kana or Hangul) count as one, as Unicode's
// "highly restrictive" identifiers allow.
func mixesScripts(s string) bool {
	first := ""
	for _, r := range s {
		if !unicode.IsLetter(r) {
			continue
		}
		script := scriptOf(r)
		switch script {
		case "Common", "Inherited":
			continue
		case "Hiragana", "Katakana", "Hangul", "Bopomofo":
			script = "Han"
		}
		if first == "" {
			first = script
		} else if script != first {
			return true
		}
	}
	return false
}

func scriptOf(r rune) string {
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			return name
		}
	}
	return ""
}

// Create adds a user with the given password, hashed with argon2id, and
// appends ev (its target set to the new user) in the same transaction.
func (s *Users) Create(ctx context.Context, email, role, password string, ev Event) (User, error) {
	if RoleRank(role) == 0 {
		return User{}, fmt.Errorf("db: create user: unknown role %q", role)
	}
	if problem := PasswordProblem(password); problem != "" {
		return User{}, fmt.Errorf("db: create user: %s", problem)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return User{}, err
	}
	u := User{Email: NormalizeEmail(email), Role: role, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Hashing took a while: the admin may have been disabled meanwhile.
		if err := actorActive(ctx, tx, ev.Actor); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO users (email, role, password_hash, created_at) VALUES (?, ?, ?, ?)`,
			u.Email, u.Role, hash, formatTime(u.CreatedAt))
		if err != nil {
			if isUnique(err) {
				return ErrDuplicate
			}
			return err
		}
		if u.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		ev.TargetType, ev.TargetID = "user", strconv.FormatInt(u.ID, 10)
		ev.Details = mergeDetails(ev.Details, map[string]any{"email": u.Email, "role": u.Role})
		return Append(ctx, tx, &ev)
	})
	if err != nil {
		return User{}, fmt.Errorf("db: create user %s: %w", u.Email, err)
	}
	return u, nil
}

// Get returns the user with the given id.
func (s *Users) Get(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.db.R.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("db: user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("db: user %d: %w", id, err)
	}
	return u, nil
}

// ByEmail returns the user with the given email, whatever its case.
func (s *Users) ByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.db.R.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, NormalizeEmail(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("db: user %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("db: user %s: %w", email, err)
	}
	return u, nil
}

// List returns every user, oldest first.
func (s *Users) List(ctx context.Context) ([]User, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("db: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("db: list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Count returns the number of users.
func (s *Users) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count users: %w", err)
	}
	return n, nil
}

// Errors of Disable.
var (
	// ErrLastAdmin refuses to disable the only active admin, or to take
	// its role away: nobody could manage users any more.
	ErrLastAdmin = errors.New("the last active admin cannot be disabled or lose the admin role")
	// ErrActorDisabled refuses a user's action taken after their own
	// account was disabled (two admins disabling each other at once).
	ErrActorDisabled = errors.New("the acting user is disabled")
	// ErrActorDemoted refuses a user's action taken after their own role
	// was lowered below the one their request was allowed with.
	ErrActorDemoted = errors.New("the acting user's role was lowered")
)

// lastActiveAdmin is true of a users row that is the only active admin,
// the one Disable and ChangeRole must not take away; its two parameters
// are RoleAdmin.
const lastActiveAdmin = `role = ? AND disabled_at IS NULL AND
	(SELECT count(*) FROM users WHERE role = ? AND disabled_at IS NULL) = 1`

// Disable disables a user and revokes all of its sessions, appending ev,
// which names the account by its email, in the same transaction.
// Disabling a disabled user is ErrNotFound; the last active admin,
// ErrLastAdmin; and a user whose own account was disabled meanwhile (ev's
// actor) cannot disable anyone, ErrActorDisabled.
func (s *Users) Disable(ctx context.Context, id int64, ev Event) error {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := actorActive(ctx, tx, ev.Actor); err != nil {
			return err
		}
		var lastAdmin bool
		var email string
		err := tx.QueryRowContext(ctx, `SELECT email, `+lastActiveAdmin+` FROM users WHERE id = ?`,
			RoleAdmin, RoleAdmin, id).Scan(&email, &lastAdmin)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if lastAdmin {
			return ErrLastAdmin
		}
		now := time.Now()
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = ?, version = version + 1 WHERE id = ? AND disabled_at IS NULL`, formatTime(now), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		revoked, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id)
		if err != nil {
			return err
		}
		n, _ := revoked.RowsAffected()
		ev.TargetType, ev.TargetID = "user", strconv.FormatInt(id, 10)
		ev.Details = mergeDetails(ev.Details, map[string]any{"email": email, "sessions_revoked": n,
			"before": map[string]any{"disabled": false}, "after": map[string]any{"disabled": true}})
		return Append(ctx, tx, &ev)
	})
	if err != nil {
		return fmt.Errorf("db: disable user %d: %w", id, err)
	}
	return nil
}

// actorActive returns ErrActorDisabled if a is a user whose account was
// disabled, and ErrActorDemoted if their role is now below a.Role, the
// one their request was allowed with: an admin acting on someone who is
// acting at the same moment. The request checked both when it began.
func actorActive(ctx context.Context, tx *sql.Tx, a Actor) error {
	if a.Type != ActorUser {
		return nil
	}
	var active bool
	var role string
	err := tx.QueryRowContext(ctx, `SELECT disabled_at IS NULL, role FROM users WHERE id = ?`, a.ID).Scan(&active, &role)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	switch {
	case !active:
		return ErrActorDisabled
	case RoleRank(role) < RoleRank(a.Role):
		return ErrActorDemoted
	}
	return nil
}

// AnyVersion is the version of an account changed whatever it is (from the
// command line, where no page was drawn).
const AnyVersion = -1

// ErrChanged refuses a change to an account that is no longer at the
// version the form was drawn for.
var ErrChanged = errors.New("the account changed meanwhile")

// AccountThrottleKey is the login throttle's key for an account.
func AccountThrottleKey(email string) string { return "account:" + NormalizeEmail(email) }

// ResetPassword gives user id a new password, ends all of its sessions,
// lifts its login lock and enables it if it was disabled, appending ev in
// the same transaction, provided the account is still at version seen
// (AnyVersion: whatever it is). The event names the account by its email,
// says whether it was disabled and how many sessions ended, never the
// password or its hash. An unknown user is ErrNotFound; another version,
// ErrChanged (a second click, or another admin's change since the page was
// drawn); a disabled actor, ErrActorDisabled.
func (s *Users) ResetPassword(ctx context.Context, id, seen int64, password string, ev Event) (wasDisabled bool, err error) {
	if problem := PasswordProblem(password); problem != "" {
		return false, fmt.Errorf("db: reset password of user %d: %s", id, problem)
	}
	// Hashed before the transaction: argon2id takes tens of milliseconds
	// that the single writer should not wait through.
	hash, err := HashPassword(password)
	if err != nil {
		return false, err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := actorActive(ctx, tx, ev.Actor); err != nil {
			return err
		}
		var email string
		var version int64
		err := tx.QueryRowContext(ctx, `SELECT email, disabled_at IS NOT NULL, version FROM users WHERE id = ?`, id).
			Scan(&email, &wasDisabled, &version)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if seen != AnyVersion && seen != version {
			return ErrChanged
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, disabled_at = NULL, version = version + 1 WHERE id = ?`,
			hash, id); err != nil {
			return err
		}
		revoked, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id)
		if err != nil {
			return err
		}
		n, _ := revoked.RowsAffected()
		// Locked out by mistyping the password they forgot, they can use
		// the new one at once.
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE key = ?`, AccountThrottleKey(email)); err != nil {
			return err
		}
		ev.TargetType, ev.TargetID = "user", strconv.FormatInt(id, 10)
		ev.Details = mergeDetails(ev.Details, map[string]any{"email": email, "sessions_revoked": n,
			"before": map[string]any{"disabled": wasDisabled}, "after": map[string]any{"disabled": false}})
		return Append(ctx, tx, &ev)
	})
	if err != nil {
		return false, fmt.Errorf("db: reset password of user %d: %w", id, err)
	}
	return wasDisabled, nil
}

// ChangePassword gives user id, who has just typed their current password,
// the new one. The session they changed it from (old, its id hash) is
// replaced by next, so that its id, if stolen, is worth nothing after;
// their other sessions end. ev, appended in the same transaction, names
// the account by its email and says how many other sessions ended, never a
// password. A current password that does not match is ErrBadCredentials; a
// password changed or reset meanwhile, ErrChanged; a disabled actor,
// ErrActorDisabled.
func (s *Users) ChangePassword(ctx context.Context, id int64, current, password string, old []byte, next Session, ev Event) error {
	if problem := PasswordProblem(password); problem != "" {
		return fmt.Errorf("db: change password of user %d: %s", id, problem)
	}
	if len(old) == 0 || next.UserID != id {
		return fmt.Errorf("db: change password of user %d: no session to renew", id)
	}
	var email, was string
	err := s.db.R.QueryRowContext(ctx, `SELECT email, password_hash FROM users WHERE id = ?`, id).Scan(&email, &was)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("db: change password of user %d: %w", id, err)
	}
	// Checked and hashed before the transaction: argon2id takes tens of
	// milliseconds that the single writer should not wait through.
	ok, err := checkPassword(was, current)
	if err != nil {
		return fmt.Errorf("db: change password of user %d: %w", id, err)
	}
	if !ok {
		return ErrBadCredentials
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := actorActive(ctx, tx, ev.Actor); err != nil {
			return err
		}
		// Only the password just checked is replaced: one reset or
		// changed since wins.
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, version = version + 1 WHERE id = ? AND password_hash = ?`,
			hash, id, was)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrChanged
		}
		others, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id_hash != ?`, id, old)
		if err != nil {
			return err
		}
		n, _ := others.RowsAffected()
		if err := replaceSession(ctx, tx, old, next); err != nil {
			return err
		}
		ev.TargetType, ev.TargetID = "user", strconv.FormatInt(id, 10)
		ev.Details = mergeDetails(ev.Details, map[string]any{"email": email, "other_sessions_revoked": n})
		return Append(ctx, tx, &ev)
	})
	if err != nil {
		return fmt.Errorf("db: change password of user %d: %w", id, err)
	}
	return nil
}

// ChangeRole gives user id the role role, appending ev, which names the
// account by its email, in the same transaction, provided the account is
// still at version seen (AnyVersion: whatever it is). The role applies
// from the user's next request: sessions read it from the account. It
// returns the role the user had; the same role again changes nothing and
// records nothing. An unknown user is ErrNotFound; another version,
// ErrChanged; taking the admin role from the last active admin,
// ErrLastAdmin; a disabled actor, ErrActorDisabled.
func (s *Users) ChangeRole(ctx context.Context, id, seen int64, role string, ev Event) (before string, err error) {
	if RoleRank(role) == 0 {
		return "", fmt.Errorf("db: change role of user %d: unknown role %q", id, role)
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := actorActive(ctx, tx, ev.Actor); err != nil {
			return err
		}
		var email string
		var version int64
		var lastAdmin bool
		err := tx.QueryRowContext(ctx, `SELECT email, role, version, `+lastActiveAdmin+` FROM users WHERE id = ?`,
			RoleAdmin, RoleAdmin, id).Scan(&email, &before, &version, &lastAdmin)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return err
		case seen != AnyVersion && seen != version:
			return ErrChanged
		case before == role:
			return nil
		case lastAdmin:
			return ErrLastAdmin
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, version = version + 1 WHERE id = ?`, role, id); err != nil {
			return err
		}
		ev.TargetType, ev.TargetID = "user", strconv.FormatInt(id, 10)
		ev.Details = mergeDetails(ev.Details, map[string]any{"email": email, "before": map[string]any{"role": before}, "after": map[string]any{"role": role}})
		return Append(ctx, tx, &ev)
	})
	if err != nil {
		return "", fmt.Errorf("db: change role of user %d: %w", id, err)
	}
	return before, nil
}

// dummyHash is checked against when an email is unknown, so that such an
// attempt costs the same time as a wrong password. Nobody knows its password.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$JE9UcJz1oM5btbZNaFP2vw$fheLLNYXh7f1CY6Hm5AyNvxQGcdigdezzokSpJ+OFbo"

// Authenticate checks an email and password. It takes the same time whether
// or not the email exists, and returns ErrBadCredentials for an unknown email,
// a wrong password and a disabled account alike.
func (s *Users) Authenticate(ctx context.Context, email, password string) (User, error) {
	var hash string
	u, err := scanUserWithHash(s.db.R.QueryRowContext(ctx,
		`SELECT `+userColumns+`, password_hash FROM users WHERE email = ?`, NormalizeEmail(email)), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		checkPassword(dummyHash, password)
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("db: authenticate: %w", err)
	}
	ok, err := checkPassword(hash, password)
	if err != nil {
		return User{}, fmt.Errorf("db: authenticate user %d: %w", u.ID, err)
	}
	if !ok || u.Disabled() {
		return User{}, ErrBadCredentials
	}
	return u, nil
}

func scanUserWithHash(row *sql.Row, hash *string) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.Role, timeCol{&u.CreatedAt}, nullTime{&u.DisabledAt}, &u.Version, hash)
	return u, err
}

// mergeDetails adds the store's details to the caller's.
func mergeDetails(caller, store map[string]any) map[string]any {
	out := make(map[string]any, len(caller)+len(store))
	for k, v := range store {
		out[k] = v
	}
	for k, v := range caller {
		out[k] = v
	}
	return out
}
