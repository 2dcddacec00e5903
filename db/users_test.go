package db_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"payoutdesk/db"
)

var cliActor = db.Event{Actor: db.Actor{Type: db.ActorCLI, ID: "test"}, Action: "user.created"}

func TestUsersCreateAuthenticateDisable(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	users := db.NewUsers(d)
	u, err := users.Create(ctx, "  Agent@Example.COM ", db.RoleAgent, "correct horse battery", cliActor)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "agent@example.com" || u.Role != db.RoleAgent || u.ID == 0 {
		t.Errorf("created %+v, want normalized email, agent role and an id", u)
	}
	if _, err := users.Create(ctx, "AGENT@example.com", db.RoleManager, "another long password", cliActor); !errors.Is(err, db.ErrDuplicate) {
		t.Errorf("duplicate email: err = %v, want ErrDuplicate", err)
	}
	if _, err := users.Create(ctx, "short@example.com", db.RoleAgent, "short", cliActor); err == nil {
		t.Error("a short password was accepted")
	}
	if _, err := users.Create(ctx, "role@example.com", "root", "correct horse battery", cliActor); err == nil {
		t.Error("an unknown role was accepted")
	}

	tests := []struct {
		name, email, password string
		wantErr               error
	}{
		{"right password, any case", "AGENT@example.com", "correct horse battery", nil},
		{"wrong password", "agent@example.com", "wrong horse battery", db.ErrBadCredentials},
		{"unknown email", "nobody@example.com", "correct horse battery", db.ErrBadCredentials},
		{"empty password", "agent@example.com", "", db.ErrBadCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := users.Authenticate(ctx, tt.email, tt.password)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && got.ID != u.ID {
				t.Errorf("authenticated user %d, want %d", got.ID, u.ID)
			}
		})
	}

	sessions := db.NewSessions(d)
	now := time.Now().UTC()
	login := db.Event{Actor: db.Actor{Type: db.ActorUser, ID: "1"}, Action: "auth.login.succeeded"}
	if err := sessions.Login(ctx, nil, db.Session{IDHash: []byte("h1"), UserID: u.ID, Data: []byte{}, CreatedAt: now, LastSeenAt: now}, login); err != nil {
		t.Fatal(err)
	}
	if err := users.Disable(ctx, u.ID, db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.disabled"}); err != nil {
		t.Fatal(err)
	}
	if _, err := sessions.Get(ctx, []byte("h1")); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("session of a disabled user: err = %v, want ErrNotFound (revoked)", err)
	}
	if _, err := users.Authenticate(ctx, "agent@example.com", "correct horse battery"); !errors.Is(err, db.ErrBadCredentials) {
		t.Errorf("disabled user authenticates: err = %v, want ErrBadCredentials", err)
	}
	if err := users.Disable(ctx, u.ID, db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.disabled"}); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("disabling twice: err = %v, want ErrNotFound", err)
	}
	events, err := db.NewAudit(d).ByActor(ctx, db.ActorCLI, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Action != "user.disabled" || events[0].TargetID == "" || events[0].Details["sessions_revoked"] != float64(1) {
		t.Errorf("disable events = %+v, want one user.disabled with one session revoked", events)
	}
}

func TestSessionLoginRotatesAndEndsOnce(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	u, err := db.NewUsers(d).Create(ctx, "m@example.com", db.RoleManager, "correct horse battery", cliActor)
	if err != nil {
		t.Fatal(err)
	}
	s := db.NewSessions(d)
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.Save(ctx, db.Session{IDHash: []byte("anon"), Data: []byte("flash"), CreatedAt: now, LastSeenAt: now}); err != nil {
		t.Fatal(err)
	}
	ev := db.Event{Actor: db.Actor{Type: db.ActorUser, ID: "1"}, Action: "auth.login.succeeded"}
	if err := s.Login(ctx, []byte("anon"), db.Session{IDHash: []byte("new"), UserID: u.ID, Data: []byte{}, CreatedAt: now, LastSeenAt: now}, ev); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, []byte("anon")); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("pre-login session survived login: err = %v", err)
	}
	// Nobody was signed in on it: its end is no one's sign-out.
	if outs, err := db.NewAudit(d).Search(ctx, db.AuditFilter{Action: "auth.logout", Limit: 10}); err != nil || len(outs) != 0 {
		t.Errorf("replacing a session nobody signed in on recorded sign-outs %+v (%v)", outs, err)
	}
	got, err := s.Get(ctx, []byte("new"))
	if err != nil {
		t.Fatal(err)
	}
	if got.User.Email != "m@example.com" || got.User.Role != db.RoleManager || !got.CreatedAt.Equal(now) {
		t.Errorf("session = %+v, want the manager's, created at %v", got, now)
	}
	end := db.Event{Actor: db.Actor{Type: db.ActorUser, ID: "1"}, Action: "auth.logout"}
	for i, want := range []bool{true, false} {
		ended, err := s.End(ctx, []byte("new"), end)
		if err != nil || ended != want {
			t.Errorf("End #%d = %v, %v; want %v", i+1, ended, err, want)
		}
	}
	n, err := db.NewAudit(d).ByActor(ctx, db.ActorUser, "1", 10)
	if err != nil || len(n) != 2 {
		t.Errorf("events = %d, %v; want login and one logout", len(n), err)
	}
}

func TestSessionsPrune(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	s := db.NewSessions(d)
	now := time.Now().UTC()
	u, err := db.NewUsers(d).Create(ctx, "idle@example.com", db.RoleAgent, "correct horse battery staple",
		db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "user.created"})
	if err != nil {
		t.Fatal(err)
	}
	rows := []db.Session{
		{IDHash: []byte("fresh"), Data: []byte{}, CreatedAt: now, LastSeenAt: now},
		{IDHash: []byte("idle"), Data: []byte{}, CreatedAt: now, LastSeenAt: now.Add(-time.Hour), UserID: u.ID},
		{IDHash: []byte("old"), Data: []byte{}, CreatedAt: now.Add(-24 * time.Hour), LastSeenAt: now},
	}
	for _, r := range rows {
		if err := s.Save(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Prune(ctx, now.Add(-30*time.Minute), now.Add(-12*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want 2", n, err)
	}
	if _, err := s.Get(ctx, []byte("fresh")); err != nil {
		t.Errorf("fresh session pruned: %v", err)
	}
	// The signed-in one's end is audited, naming its account.
	events, err := db.NewAudit(d).ByTarget(ctx, "user", strconv.FormatInt(u.ID, 10))
	if err != nil {
		t.Fatal(err)
	}
	var expired []db.Event
	for _, e := range events {
		if e.Action == "auth.session.expired" {
			expired = append(expired, e)
		}
	}
	if len(expired) != 1 || expired[0].Details["email"] != "idle@example.com" {
		t.Errorf("expiry events of the signed-in session = %+v, want one naming idle@example.com", expired)
	}
}

func TestLoginThrottle(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	l := db.NewLogins(d)
	policy := db.ThrottlePolicy{Limit: 3, Window: 15 * time.Minute, Lock: 30 * time.Second, MaxLock: 2 * time.Minute}
	limits := []db.Limit{{Key: "account:a@example.com", Policy: policy}}
	ev := db.Event{Actor: db.Actor{Type: db.ActorAnonymous}, Action: "auth.login.failed", Outcome: db.OutcomeFailure}
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	wants := []time.Duration{0, 0, 30 * time.Second, time.Minute, 2 * time.Minute, 2 * time.Minute}
	for i, want := range wants {
		now := t0.Add(time.Duration(i) * time.Second)
		got, err := l.Failed(ctx, now, limits, ev)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("failure %d: locked for %v, want %v", i+1, got, want)
		}
		if locked, _ := l.Locked(ctx, now, "account:a@example.com", "ip:192.0.2.1"); locked != want {
			t.Errorf("failure %d: Locked = %v, want %v", i+1, locked, want)
		}
	}
	if err := l.Succeeded(ctx, "account:a@example.com"); err != nil {
		t.Fatal(err)
	}
	if locked, _ := l.Locked(ctx, t0, "account:a@example.com"); locked != 0 {
		t.Errorf("after success: locked %v, want 0", locked)
	}
	// Failures spread wider than the window never lock.
	for i := range 5 {
		got, err := l.Failed(ctx, t0.Add(time.Duration(i)*20*time.Minute), limits, ev)
		if err != nil || got != 0 {
			t.Errorf("spread failure %d: locked %v, %v; want 0", i+1, got, err)
		}
	}
	events, err := db.NewAudit(d).ByActor(ctx, db.ActorAnonymous, "", 100)
	if err != nil || len(events) != len(wants)+5 {
		t.Errorf("failed-login events = %d, %v; want %d", len(events), err, len(wants)+5)
	}
}

func TestPasswordProblem(t *testing.T) {
	for pw, ok := range map[string]bool{
		"a long enough password": true,
		"éééééééééééé":           true, // 12 characters, 24 bytes
		"éééééé":                 false,
		"short":                  false,
		"            ":           false,
		"  twelve chars  ":       true,
	} {
		if got := db.PasswordProblem(pw) == ""; got != ok {
			t.Errorf("PasswordProblem(%q) = %q, want acceptable %v", pw, db.PasswordProblem(pw), ok)
		}
	}
}

// Users can always be managed: the last active admin cannot be disabled,
// and of two admins disabling each other at once, the second finds its
// own account disabled and changes nothing.
func TestDisableKeepsAnAdmin(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	users := db.NewUsers(d)
	cli := db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.created"}
	a, err := users.Create(ctx, "a@example.com", db.RoleAdmin, "a long enough password", cli)
	if err != nil {
		t.Fatal(err)
	}
	b, err := users.Create(ctx, "b@example.com", db.RoleAdmin, "a long enough password", cli)
	if err != nil {
		t.Fatal(err)
	}
	by := func(u db.User) db.Event {
		return db.Event{Actor: db.Actor{Type: db.ActorUser, ID: strconv.FormatInt(u.ID, 10)}, Action: "user.disabled"}
	}
	// A disables B; B's own disabling of A, arriving just after, is refused.
	if err := users.Disable(ctx, b.ID, by(a)); err != nil {
		t.Fatal(err)
	}
	if err := users.Disable(ctx, a.ID, by(b)); !errors.Is(err, db.ErrActorDisabled) {
		t.Fatalf("a disabled admin disabling another: %v, want ErrActorDisabled", err)
	}
	// Nor does B's creation of an account, sent before B was disabled.
	created := by(b)
	created.Action = "user.created"
	if _, err := users.Create(ctx, "c@example.com", db.RoleAdmin, "a long enough password", created); !errors.Is(err, db.ErrActorDisabled) {
		t.Fatalf("a disabled admin creating an account: %v, want ErrActorDisabled", err)
	}
	if _, err := users.ByEmail(ctx, "c@example.com"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("the account a disabled admin created: %v, want ErrNotFound", err)
	}
	// A is now the last active admin.
	if err := users.Disable(ctx, a.ID, db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.disabled"}); !errors.Is(err, db.ErrLastAdmin) {
		t.Fatalf("disabling the last active admin: %v, want ErrLastAdmin", err)
	}
	if got, err := users.ByEmail(ctx, "a@example.com"); err != nil || got.Disabled() {
		t.Errorf("the last admin: %+v, %v; want still active", got, err)
	}
}

// One address is one account, however its accents were typed; invisible
// characters are found before they can make a look-alike.
func TestEmailsThatLookTheSame(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	users := db.NewUsers(d)
	cli := db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.created"}
	if _, err := users.Create(ctx, "jos\u00e9@example.com", db.RoleAgent, "a long enough password", cli); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Create(ctx, "jose\u0301@example.com", db.RoleAgent, "a long enough password", cli); !errors.Is(err, db.ErrDuplicate) {
		t.Errorf("the same address with a combining accent: %v, want ErrDuplicate", err)
	}
	for email, want := range map[string]string{
		"bo\u200bb@example.com": "invisible", "a\u202eb@example.com": "invisible",
		"\uff41gent@example.com": "full-width", "of\ufb01ce@example.com": "look-alike", "agent@ｅxample.com": "full-width",
		"bob@example.com": "", "jos\u00e9@example.com": "", "jose\u0301@example.com": "", "ваня@example.com": "",
		"\u0430gent@example.com": "alphabets", "agent@ex\u0430mple.com": "alphabets", "agent@example.c\u043em": "alphabets",
		"ваня@пример.рф": "", "用户@example.com": "", "やまだ太郎@example.jp": "", "김민수@example.kr": "",
	} {
		if got := db.EmailLookAlike(email); (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("EmailLookAlike(%q) = %q, want it to say %q", email, got, want)
		}
	}
}

// A new password replaces the old one, ends every session and enables a
// disabled account; the audit event says so without the password.
func TestResetPassword(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	users, sessions := db.NewUsers(d), db.NewSessions(d)
	cli := db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.created"}
	admin, err := users.Create(ctx, "admin@example.com", db.RoleAdmin, "a long enough password", cli)
	if err != nil {
		t.Fatal(err)
	}
	u, err := users.Create(ctx, "agent@example.com", db.RoleAgent, "the old password here", cli)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	login := db.Event{Actor: db.Actor{Type: db.ActorUser, ID: strconv.FormatInt(u.ID, 10)}, Action: "auth.login.succeeded"}
	if err := sessions.Login(ctx, nil, db.Session{IDHash: []byte("s1"), UserID: u.ID, Data: []byte{}, CreatedAt: now, LastSeenAt: now}, login); err != nil {
		t.Fatal(err)
	}
	byAdmin := db.Event{Actor: db.Actor{Type: db.ActorUser, ID: strconv.FormatInt(admin.ID, 10)}, Action: "user.password_reset"}

	if _, err := users.ResetPassword(ctx, u.ID, db.AnyVersion, "short", byAdmin); err == nil {
		t.Error("a short password was accepted")
	}
	if _, err := users.ResetPassword(ctx, 999, db.AnyVersion, "a brand new password", byAdmin); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("an unknown user: %v, want ErrNotFound", err)
	}
	was, err := users.ResetPassword(ctx, u.ID, db.AnyVersion, "a brand new password", byAdmin)
	if err != nil || was {
		t.Fatalf("reset: was disabled %v, %v", was, err)
	}
	if _, err := sessions.Get(ctx, []byte("s1")); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("the session survived the reset: %v", err)
	}
	if _, err := users.Authenticate(ctx, "agent@example.com", "the old password here"); !errors.Is(err, db.ErrBadCredentials) {
		t.Errorf("the old password still works: %v", err)
	}
	if _, err := users.Authenticate(ctx, "agent@example.com", "a brand new password"); err != nil {
		t.Errorf("the new password does not work: %v", err)
	}

	// A form drawn before a change acts on nothing.
	now2, _ := users.Get(ctx, u.ID)
	if _, err := users.ResetPassword(ctx, u.ID, now2.Version-1, "a stale form's password", byAdmin); !errors.Is(err, db.ErrChanged) {
		t.Errorf("a reset for an older version: %v, want ErrChanged", err)
	}
	// Nor does the lock of mistyping the forgotten one outlast the reset.
	lock := db.ThrottlePolicy{Limit: 1, Window: time.Hour, Lock: time.Hour, MaxLock: time.Hour}
	if _, err := db.NewLogins(d).Failed(ctx, now, []db.Limit{{Key: db.AccountThrottleKey(u.Email), Policy: lock}},
		db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "auth.login.failed"}); err != nil {
		t.Fatal(err)
	}
	if _, err := users.ResetPassword(ctx, u.ID, now2.Version, "the password after the lock", byAdmin); err != nil {
		t.Fatal(err)
	}
	if wait, err := db.NewLogins(d).Locked(ctx, now, db.AccountThrottleKey(u.Email)); err != nil || wait != 0 {
		t.Errorf("after the reset the account is locked for %s, %v", wait, err)
	}

	// A disabled account comes back with the new password only.
	if err := users.Disable(ctx, u.ID, db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.disabled"}); err != nil {
		t.Fatal(err)
	}
	if was, err := users.ResetPassword(ctx, u.ID, db.AnyVersion, "another new password", byAdmin); err != nil || !was {
		t.Fatalf("reset of a disabled user: was disabled %v, %v", was, err)
	}
	if got, err := users.Authenticate(ctx, "agent@example.com", "another new password"); err != nil || got.Disabled() {
		t.Errorf("after the reset: %+v, %v; want enabled with the new password", got, err)
	}
	events, err := db.NewAudit(d).ByActor(ctx, db.ActorUser, strconv.FormatInt(admin.ID, 10), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 || events[0].Details["before"].(map[string]any)["disabled"] != true || events[2].Details["sessions_revoked"] != float64(1) {
		t.Errorf("reset events: %+v", events)
	}
	for _, e := range events {
		if text := fmt.Sprint(e); strings.Contains(text, "new password") || strings.Contains(text, "$argon2") {
			t.Errorf("an event holds the password or its hash: %s", text)
		}
	}

	// An admin disabled meanwhile resets nothing.
	if _, err := users.Create(ctx, "other@example.com", db.RoleAdmin, "a long enough password", cli); err != nil {
		t.Fatal(err)
	}
	if err := users.Disable(ctx, admin.ID, db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.disabled"}); err != nil {
		t.Fatal(err)
	}
	if _, err := users.ResetPassword(ctx, u.ID, db.AnyVersion, "yet another password", byAdmin); !errors.Is(err, db.ErrActorDisabled) {
		t.Errorf("a reset by a disabled admin: %v, want ErrActorDisabled", err)
	}
}

// An admin who lowers the role of someone acting at the same moment wins:
// the other's change, allowed by the role they had when their request
// began, is refused and writes nothing, as a disabled user's is. What the
// new role allows still goes through.
func TestDemotedUserChangesNothingAboveTheirRole(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	users, store := db.NewUsers(d), db.NewPayouts(d)
	p := newPayout(t, d) // by user 1, an agent
	cli := db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.created"}
	m, err := users.Create(ctx, "m@example.com", db.RoleManager, "a long enough password", cli)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.Create(ctx, "a@example.com", db.RoleAdmin, "a long enough password", cli); err != nil {
		t.Fatal(err)
	}
	asManager := db.Actor{Type: db.ActorUser, ID: strconv.FormatInt(m.ID, 10), Role: db.RoleManager}
	if _, err := users.ChangeRole(ctx, m.ID, db.AnyVersion, db.RoleAgent, db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.role_changed"}); err != nil {
		t.Fatal(err)
	}
	var before int
	if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_events`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	withdraw := db.Change{To: db.StatusCancelled, Only: []db.Status{db.StatusQueued}, Dequeue: true}
	if err := store.Change(ctx, p.ID, withdraw, db.Event{Actor: asManager, Action: "payout.rejected"}); !errors.Is(err, db.ErrActorDemoted) {
		t.Errorf("a change allowed as manager, by a user now agent: %v, want ErrActorDemoted", err)
	}
	if _, err := users.Create(ctx, "x@example.com", db.RoleAgent, "a long enough password", db.Event{Actor: asManager, Action: "user.created"}); !errors.Is(err, db.ErrActorDemoted) {
		t.Errorf("an account created by a demoted user: %v, want ErrActorDemoted", err)
	}
	var after int
	if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_events`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Get(ctx, p.ID); got.Status != db.StatusQueued || after != before {
		t.Errorf("payout %s, audit events %d → %d; want it still queued and nothing recorded", got.Status, before, after)
	}
	asAgent := asManager
	asAgent.Role = db.RoleAgent
	if err := store.Change(ctx, p.ID, db.Change{Record: true}, db.Event{Actor: asAgent, Action: "payout.cashier_launched"}); err != nil {
		t.Errorf("a change allowed as agent, by the user now agent: %v", err)
	}
}
