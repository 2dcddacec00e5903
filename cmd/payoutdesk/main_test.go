package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"payoutdesk/db"
)

// runCmd runs a command line in-process against the database at path.
func runCmd(t *testing.T, path, stdin string, args ...string) (stdout string, err error) {
	t.Helper()
	stdout, _, err = runCmdErr(t, path, stdin, args...)
	return stdout, err
}

// runCmdErr is runCmd, with what the command wrote to standard error.
func runCmdErr(t *testing.T, path, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == "PAYOUTDESK_DB" {
			return path
		}
		return ""
	}
	err = run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

func TestUserCommandsAndAuditVerify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cli.db")

	out, err := runCmd(t, path, "", "user", "add", "--email", "Boss@Example.com", "--role", "manager")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if !strings.Contains(out, "added manager boss@example.com") || m == nil {
		t.Fatalf("user add printed %q, want the new user and a password", out)
	}
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := db.NewUsers(d).Authenticate(context.Background(), "boss@example.com", m[1]); err != nil {
		t.Errorf("the printed password does not sign in: %v", err)
	}

	out, err = runCmd(t, path, "a password typed by hand\n", "user", "add", "--email", "agent@example.com", "--role", "agent", "--password-stdin")
	if err != nil || strings.Contains(out, "password:") {
		t.Fatalf("user add --password-stdin = %q, %v; want success without printing the password", out, err)
	}
	if _, err := db.NewUsers(d).Authenticate(context.Background(), "agent@example.com", "a password typed by hand"); err != nil {
		t.Errorf("the stdin password does not sign in: %v", err)
	}

	bad := []struct {
		name  string
		stdin string
		args  []string
		code  int
	}{
		{"duplicate", "", []string{"user", "add", "--email", "BOSS@example.com", "--role", "agent"}, 1},
		{"disable unknown", "", []string{"user", "disable", "--email", "nobody@example.com"}, 1},
		{"reset the password of nobody", "", []string{"user", "reset-password", "--email", "nobody@example.com"}, 1},
		{"unknown command", "", []string{"frobnicate"}, 2},
		{"unknown user subcommand", "", []string{"user", "delete"}, 2},
		{"bad flag value", "", []string{"migrate", "-session-idle", "soon"}, 2},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runCmd(t, path, tt.stdin, tt.args...)
			if got := exitCode(err); got != tt.code {
				t.Errorf("exit code %d (%v), want %d", got, err, tt.code)
			}
		})
	}

	out, err = runCmd(t, path, "", "user", "disable", "--email", "agent@example.com")
	if err != nil || !strings.Contains(out, "disabled agent@example.com") {
		t.Fatalf("user disable = %q, %v", out, err)
	}
	// A new password brings the disabled account back, and only with it.
	out, err = runCmd(t, path, "", "user", "reset-password", "--email", "Agent@example.com")
	m = regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if err != nil || m == nil || !strings.Contains(out, "agent@example.com was disabled and is enabled again") {
		t.Fatalf("user reset-password = %q, %v", out, err)
	}
	if _, err := db.NewUsers(d).Authenticate(context.Background(), "agent@example.com", m[1]); err != nil {
		t.Errorf("the printed password does not sign in: %v", err)
	}
	if _, err := db.NewUsers(d).Authenticate(context.Background(), "agent@example.com", "a password typed by hand"); err == nil {
		t.Error("the old password still signs in")
	}

	out, err = runCmd(t, path, "", "audit", "verify")
	if err != nil || !regexp.MustCompile(`^ok: 4 events, head [0-9a-f]{64}\n$`).MatchString(out) {
		t.Fatalf("audit verify = %q, %v; want ok with 4 events", out, err)
	}
	created, err := db.NewAudit(d).Get(context.Background(), 1)
	if err != nil || created.Action != "user.created" || created.Actor.Type != db.ActorCLI || created.Actor.ID == "" {
		t.Errorf("first event = %+v, %v; want user.created by the CLI's OS user", created, err)
	}

	for _, flag := range []string{"--checkpoints", "-checkpoint-file"} {
		_, err = runCmd(t, path, "", "audit", "verify", flag, filepath.Join(t.TempDir(), "missing.jsonl"))
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "no checkpoint file") {
			t.Errorf("audit verify %s naming a file that is not there = %v, want exit 2", flag, err)
		}
	}

	// One byte of event 2 changed behind the triggers' back.
	tamper(t, d, `UPDATE audit_events SET canon = replace(canon, 'agent', 'agenT') WHERE seq = 2`)
	_, err = runCmd(t, path, "", "audit", "verify")
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "broken at seq 2") {
		t.Errorf("audit verify after tampering = %v, want exit 1 naming seq 2", err)
	}
}

// tamper runs stmts on the database behind the audit log's back, its
// triggers dropped.
func tamper(t *testing.T, d *db.DB, stmts ...string) {
	t.Helper()
	for _, s := range append([]string{`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`}, stmts...) {
		if _, err := d.W.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRefusedCommandsTouchNothing runs commands whose configuration or
// arguments are wrong: each fails with a usage error before it creates the
// database.
func TestRefusedCommandsTouchNothing(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
	}{
		{"serve with a half-configured provider", map[string]string{"PAYOUTDESK_KIBRAMOA_API_KEY": "k"}, "", nil},
		{"serve with a bad Kibramoa amount format", map[string]string{"PAYOUTDESK_KIBRAMOA_AMOUNT_FORMAT": "cents"}, "", []string{"serve"}},
		{"serve with a missing Smart Glocal key file", map[string]string{"PAYOUTDESK_SMARTGLOCAL_PROJECT": "p",
			"PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE": "/nonexistent/key.pem", "PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE": "/nonexistent/pub.pem"}, "", nil},
		{"migrate with a bad log level", nil, "", []string{"migrate", "-log-level", "bogus"}},
		{"migrate with a bad log format", map[string]string{"PAYOUTDESK_LOG_FORMAT": "xml"}, "", []string{"migrate"}},
		{"backup without a path", nil, "", []string{"backup"}},
		{"user add without an email", nil, "", []string{"user", "add", "--role", "agent"}},
		{"user add with a bad email", nil, "", []string{"user", "add", "--email", "a@b@example.com", "--role", "agent"}},
		{"user add with a bad role", nil, "", []string{"user", "add", "--email", "x@example.com", "--role", "root"}},
		{"user add with a short password", nil, "short\n", []string{"user", "add", "--email", "x@example.com", "--role", "agent", "--password-stdin"}},
		{"user disable without an email", nil, "", []string{"user", "disable"}},
		{"user reset-password without an email", nil, "", []string{"user", "reset-password"}},
		{"user reset-password with a short password", nil, "short\n", []string{"user", "reset-password", "--email", "x@example.com", "--password-stdin"}},
		{"audit verify of a database that is not there", nil, "", []string{"audit", "verify"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "untouched.db")
			getenv := func(k string) string {
				if k == "PAYOUTDESK_DB" {
					return path
				}
				return tt.env[k]
			}
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, getenv, strings.NewReader(tt.stdin), &out, &errOut)
			if got := exitCode(err); got != 2 {
				t.Errorf("exit code %d (%v), want 2", got, err)
			}
			if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) > 0 {
				t.Errorf("the refused command left %v behind", entries)
			}
		})
	}
}

// TestEmailRuleMatchesTheUsersPage: user add accepts the emails the Users
// page accepts (validator rule email,max=254), and no others.
func TestEmailRuleMatchesTheUsersPage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emails.db")
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 60) + ".com"
	tests := []struct {
		email string
		code  int
	}{
		{"new.agent@example.com", 0},
		{"  spaced@example.com ", 0},
		{"no-at-sign", 2},
		{"two@at@example.com", 2},
		{"trailing@", 2},
		{"@leading.example.com", 2},
		{long, 2},
	}
	for _, tt := range tests {
		if _, err := runCmd(t, path, "", "user", "add", "--email", tt.email, "--role", "agent"); exitCode(err) != tt.code {
			t.Errorf("user add --email %q: exit code %d (%v), want %d", tt.email, exitCode(err), err, tt.code)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "-help", "--help"} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{arg}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
		if err != nil || !strings.Contains(out.String(), "Usage:\n  payoutdesk [serve] [flags]") {
			t.Errorf("payoutdesk %s = %v, printed %q; want the usage", arg, err, out.String())
		}
	}
}

func TestMigrateAndBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.db")
	out, err := runCmd(t, path, "", "migrate")
	if err != nil || !strings.HasPrefix(out, "schema version ") {
		t.Fatalf("migrate = %q, %v", out, err)
	}
	if _, err := runCmd(t, path, "", "user", "add", "--email", "a@example.com", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "copy.db")
	if out, err := runCmd(t, path, "", "backup", copyPath); err != nil || !strings.Contains(out, copyPath) {
		t.Fatalf("backup = %q, %v", out, err)
	}
	out, err = runCmd(t, copyPath, "", "audit", "verify")
	if err != nil || !strings.HasPrefix(out, "ok: 1 events") {
		t.Errorf("verify of the backup = %q, %v; want ok with the one event", out, err)
	}
	if _, err := runCmd(t, path, "", "backup"); exitCode(err) != 2 {
		t.Errorf("backup without a path: exit %d, want 2", exitCode(err))
	}
}

// TestBackupLeavesTheDatabaseAsItIs backs up a database a migration
// behind: the copy, and the database itself, stay at its version, and the
// database's bytes are unchanged.
func TestBackupLeavesTheDatabaseAsItIs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "old.db")
	if _, err := runCmd(t, path, "", "user", "add", "--email", "a@example.com", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	latest := userVersion(t, path)
	setUserVersion(t, path, latest-1)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "copy.db")
	if out, err := runCmd(t, path, "", "backup", copyPath); err != nil || !strings.Contains(out, copyPath) {
		t.Fatalf("backup = %q, %v", out, err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("backup changed the database it copied")
	}
	if v := userVersion(t, path); v != latest-1 {
		t.Errorf("the database is at version %d after its backup, want %d: backup migrated it", v, latest-1)
	}
	if v := userVersion(t, copyPath); v != latest-1 {
		t.Errorf("the backup is at version %d, want the database's %d", v, latest-1)
	}
	if _, err := runCmd(t, path, "", "backup", copyPath); exitCode(err) == 0 {
		t.Error("a backup over an existing file succeeded")
	}
}

func userVersion(t *testing.T, path string) int {
	t.Helper()
	c := sqlConn(t, path)
	var v int
	if err := c.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func setUserVersion(t *testing.T, path string, v int) {
	t.Helper()
	c := sqlConn(t, path)
	if _, err := c.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, v)); err != nil {
		t.Fatal(err)
	}
	// Fold the WAL back in, so that the file alone is the database.
	if _, err := c.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
}

// sqlConn opens path directly, beside the program, for a test to look
// into or age a database.
func sqlConn(t *testing.T, path string) *sql.DB {
	t.Helper()
	c, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetMaxOpenConns(1)
	return c
}

func TestAuditCheckpointsFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cp.db")
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"} {
		if _, err := runCmd(t, path, "", "user", "add", "--email", email, "--role", "agent"); err != nil {
			t.Fatal(err)
		}
	}
	out, err := runCmd(t, path, "", "audit", "checkpoint")
	if err != nil || !strings.HasPrefix(out, "checkpoint: seq 4") {
		t.Fatalf("audit checkpoint = %q, %v", out, err)
	}
	out, err = runCmd(t, path, "", "audit", "verify")
	if err != nil || !strings.Contains(out, "ok: 4 events") || !strings.Contains(out, "1 signed checkpoints match") {
		t.Fatalf("audit verify = %q, %v", out, err)
	}
	// Without its file, the database's checkpoints are not enough.
	moved := filepath.Join(dir, "moved.checkpoints")
	if err := os.Rename(path+".checkpoints", moved); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, path, "", "audit", "verify"); exitCode(err) != 2 || !strings.Contains(err.Error(), "the last at seq 4, but their file") {
		t.Errorf("verify with the checkpoint file gone = %v, want exit 2 saying it is missing", err)
	}
	// Nor does signing start a new file in its place, which would hide the loss.
	if _, err := runCmd(t, path, "", "audit", "checkpoint"); err == nil || !strings.Contains(err.Error(), "restore it") {
		t.Errorf("checkpoint with the file gone = %v, want a refusal", err)
	}
	if _, err := os.Stat(path + ".checkpoints"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("signing recreated the lost checkpoint file (%v)", err)
	}
	if err := os.Rename(moved, path+".checkpoints"); err != nil {
		t.Fatal(err)
	}
	// A backup says how to prove its history, and that command does.
	out, err = runCmd(t, path, "", "backup", filepath.Join(dir, "copy.db"))
	_, hint, ok := strings.Cut(out, "check it with: payoutdesk ")
	if err != nil || !ok {
		t.Fatalf("backup = %q, %v; want how to check the copy", out, err)
	}
	// The original moves on and signs again: the copy still proves out.
	if _, err := runCmd(t, path, "", "user", "add", "--email", "e@example.com", "--role", "agent"); err != nil {
		t.Fatal(err)
	}
	if out, err := runCmd(t, path, "", "audit", "checkpoint"); err != nil || !strings.HasPrefix(out, "checkpoint: seq 5") {
		t.Fatalf("audit checkpoint = %q, %v", out, err)
	}
	out, err = runCmd(t, "", "", strings.Fields(hint)...)
	if err != nil || !strings.Contains(out, "ok: 4 events") || !strings.Contains(out, "1 signed checkpoints match") {
		t.Errorf("%s = %q, %v; want the copy proven against the checkpoint", strings.TrimSpace(hint), out, err)
	}
	// The last two events are cut off: the chain that is left is valid,
	// but the signed checkpoint says it went further.
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	tamper(t, d, `DELETE FROM audit_events WHERE seq >= 3`)
	d.Close()
	_, err = runCmd(t, path, "", "audit", "verify")
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "broken at seq 3") || !strings.Contains(err.Error(), "missing") {
		t.Errorf("verify after cutting the tail = %v, want exit 1 naming seq 3", err)
	}
	// With another key, the checkpoint itself is refused.
	// An empty log has nothing to sign (the key is made all the same).
	other := filepath.Join(dir, "other.db")
	if _, err := runCmd(t, other, "", "audit", "checkpoint"); exitCode(err) != 2 || !strings.Contains(err.Error(), "no database") {
		t.Errorf("checkpoint of a database that is not there = %v, want exit 2", err)
	}
	if _, err := runCmd(t, other, "", "migrate"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, other, "", "audit", "checkpoint"); exitCode(err) != 1 || !strings.Contains(err.Error(), "empty") {
		t.Errorf("checkpoint of an empty log = %v, want exit 1 saying it is empty", err)
	}
	_, err = runCmd(t, path, "", "audit", "verify", "--key", other+".checkpoint-key")
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "not a trusted key") {
		t.Errorf("verify with another key = %v, want the checkpoint refused", err)
	}
}

// TestReplacedCheckpointKey: a checkpoint key that is lost (or moved away
// to rotate it) is replaced by a new one, which is audited, signs at once
// and joins the key ring; the old key's checkpoints still prove out with
// the ring, and not without it.
func TestReplacedCheckpointKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cli.db")
	key, ring := path+".checkpoint-key", path+".checkpoint-key.pub"
	if _, err := runCmd(t, path, "", "user", "add", "--email", "m@example.com", "--role", "manager"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, path, "", "audit", "checkpoint"); err != nil {
		t.Fatal(err)
	}
	firstRing, err := os.ReadFile(ring)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(key, filepath.Join(dir, "old-key")); err != nil {
		t.Fatal(err)
	}
	out, warnings, err := runCmdErr(t, path, "", "audit", "checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	// The user, the first checkpoint's head, then the change: seq 2.
	if !strings.HasPrefix(out, "checkpoint: seq 2") || !strings.Contains(warnings, "checkpoint key changed: checkpoints up to seq 1 were signed by key") {
		t.Errorf("checkpoint with a new key = %q, warnings %q", out, warnings)
	}
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := db.NewAudit(d).Get(context.Background(), 2)
	d.Close()
	if err != nil || ev.Action != "audit.checkpoint_key_changed" || ev.Details["key_file_was_missing"] != true || ev.Details["previous_key_in_ring"] != true {
		t.Errorf("event 2 = %+v, %v; want the key change audited", ev, err)
	}
	nowRing, err := os.ReadFile(ring)
	if err != nil || !bytes.HasPrefix(nowRing, firstRing) || len(nowRing) <= len(firstRing) {
		t.Fatalf("key ring after the change:\n%s\nwant the old key kept and the new one added (%v)", nowRing, err)
	}
	// The new key's first checkpoint retired the old key after its last.
	var blocks []*pem.Block
	for rest := nowRing; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	if len(blocks) != 3 || !bytes.Equal(blocks[2].Bytes, blocks[0].Bytes) || blocks[2].Headers["Retired-After-Seq"] != "1" {
		t.Errorf("key ring after the change: %d blocks; want the old key, the new one, and the old one retired after seq 1", len(blocks))
	}
	if out, err := runCmd(t, path, "", "audit", "verify"); err != nil || !strings.Contains(out, "2 signed checkpoints match") {
		t.Errorf("verify across the key change = %q, %v", out, err)
	}
	// A backup carries the ring, retirement included.
	if out, err := runCmd(t, path, "", "backup", filepath.Join(dir, "copy.db")); err != nil || !strings.Contains(out, "2 signed checkpoints") {
		t.Fatalf("backup = %q, %v", out, err)
	}
	if copied, err := os.ReadFile(filepath.Join(dir, "copy.db.checkpoint-key.pub")); err != nil || !bytes.Contains(copied, []byte("Retired-After-Seq: 1")) {
		t.Errorf("the backup's key ring:\n%s\nwant the retirement kept (%v)", copied, err)
	}
	// The old key alone does not vouch for the new key's checkpoint.
	if _, err := runCmd(t, path, "", "audit", "verify", "--key", filepath.Join(dir, "old-key")); exitCode(err) != 1 || !strings.Contains(err.Error(), "broken at seq 2") {
		t.Errorf("verify with the old key only = %v, want the new key's checkpoint refused", err)
	}
	// Nor does the new key alone vouch for the old key's.
	if err := os.WriteFile(ring, pem.EncodeToMemory(blocks[1]), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, path, "", "audit", "verify"); exitCode(err) != 1 || !strings.Contains(err.Error(), "broken at seq 1") || !strings.Contains(err.Error(), "not a trusted key") {
		t.Errorf("verify without the old key in the ring = %v, want its checkpoint refused", err)
	}
}

// TestCommandsRefuseWhatTheyCannotMean: a flag put before the command makes
// the command an argument of "serve", which must refuse it rather than
// serve (and send queued payouts); commands that only read or copy a
// database refuse one that is not there; a verification that cannot run is
// exit 2, not the exit 1 of a broken history.
func TestCommandsRefuseWhatTheyCannotMean(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cli.db")
	if _, err := runCmd(t, path, "", "migrate"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-db", path, "migrate"},
		{"serve", "-db", path, "backup", filepath.Join(dir, "copy.db")},
		{"migrate", "extra"},
		{"user", "add", "--email", "x@example.com", "--role", "agent", "extra"},
		{"backup", filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")},
	} {
		if _, err := runCmd(t, path, "", args...); exitCode(err) != 2 || !strings.Contains(err.Error(), "unexpected argument") {
			t.Errorf("payoutdesk %s = %v, want exit 2 for an unexpected argument", strings.Join(args, " "), err)
		}
	}
	missing := filepath.Join(dir, "typo.db")
	for _, args := range [][]string{{"backup", filepath.Join(dir, "copy.db")}, {"user", "disable", "--email", "x@example.com"}, {"audit", "verify"}} {
		if _, err := runCmd(t, missing, "", args...); exitCode(err) != 2 || !strings.Contains(err.Error(), "no database") {
			t.Errorf("payoutdesk %s on a database that is not there = %v, want exit 2", strings.Join(args, " "), err)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a command created the mistyped database")
	}
	if _, err := runCmd(t, path, "", "user", "add", "--email", "x@example.com", "--role", "agent"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, path, "", "audit", "checkpoint"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, path, "", "audit", "verify", "--key", filepath.Join(dir, "no-such-key")); exitCode(err) != 2 {
		t.Errorf("verify with a key file that is not there = %v, want exit 2", err)
	}
}

// TestVerifyLeavesTheDatabaseAsItWas: checking a database, or an auditor's
// copy of one, changes nothing in it — no migration, not even its journal
// mode — so the file verified is the file handed over.
func TestVerifyLeavesTheDatabaseAsItWas(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.db")
	if _, err := runCmd(t, path, "", "user", "add", "--email", "m@example.com", "--role", "manager"); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "copy.db")
	if _, err := runCmd(t, path, "", "backup", copyPath); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runCmd(t, copyPath, "", "audit", "verify"); err != nil || !strings.HasPrefix(out, "ok: 1 events") {
		t.Fatalf("verify the copy = %q, %v", out, err)
	}
	after, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("verifying the copy changed its file")
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/var/backups/pd-2026-11-21.db": "/var/backups/pd-2026-11-21.db",
		"/var/my backups/pd.db":         `'/var/my backups/pd.db'`,
		"it's.db":                       `'it'\''s.db'`,
		"$HOME/pd.db":                   `'$HOME/pd.db'`,
		"":                              `''`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestKeyRingElsewhere: with the key on a read-only mount, the key ring
// lives where it is configured, and a key change is proven from there.
func TestKeyRingElsewhere(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cli.db")
	ring := filepath.Join(t.TempDir(), "ring.pub")
	if _, err := runCmd(t, path, "", "user", "add", "--email", "m@example.com", "--role", "manager"); err != nil {
		t.Fatal(err)
	}
	// Two keys sign in turn, each moved away afterwards: in the end there
	// is no key at all, and the ring alone verifies.
	for range 2 {
		if _, err := runCmd(t, path, "", "audit", "checkpoint", "-checkpoint-keyring", ring); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".checkpoint-key", filepath.Join(dir, "old-key")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path + ".checkpoint-key.pub"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key ring was written beside the key (%v)", err)
	}
	if b, err := os.ReadFile(ring); err != nil || bytes.Count(b, []byte("-----BEGIN PUBLIC KEY-----")) != 3 {
		t.Errorf("the configured ring:\n%s\nwant both keys and the old one's retirement (%v)", b, err)
	}
	if out, err := runCmd(t, path, "", "audit", "verify", "-checkpoint-keyring", ring); err != nil || !strings.Contains(out, "2 signed checkpoints match") {
		t.Errorf("verify with the configured ring = %q, %v", out, err)
	}
	// Without the ring there is no key at all: the check cannot run.
	if _, err := runCmd(t, path, "", "audit", "verify"); exitCode(err) != 2 || !errors.Is(err, os.ErrNotExist) && !strings.Contains(err.Error(), "no such file") {
		t.Errorf("verify without the ring = %v, want exit 2 for the missing key", err)
	}
}

// TestAMistypedFlagIsSaidOnce: a flag the command does not have is one
// line and a pointer to -h, not the whole list of flags with the mistake
// above it and again below; -h still lists them.
func TestAMistypedFlagIsSaidOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flags.db")
	for _, args := range [][]string{{"-bogus"}, {"user", "add", "-bogus"}, {"migrate", "-addr"}} {
		_, stderr, err := runCmdErr(t, path, "", args...)
		if exitCode(err) != 2 || stderr != "" {
			t.Errorf("payoutdesk %s: exit %d, wrote %q; want exit 2 and nothing but the exit message", strings.Join(args, " "), exitCode(err), stderr)
			continue
		}
		if msg := err.Error(); strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "-h\" for its flags") {
			t.Errorf("payoutdesk %s said %q, want the mistake and a pointer to -h", strings.Join(args, " "), msg)
		}
	}
	_, stderr, err := runCmdErr(t, path, "", "migrate", "-h")
	if exitCode(err) != 0 || !strings.Contains(stderr, "Usage of payoutdesk migrate:") || !strings.Contains(stderr, "-db string") {
		t.Errorf("payoutdesk migrate -h = %v, wrote %q; want the flags", err, stderr)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a mistyped flag created the database")
	}
}
