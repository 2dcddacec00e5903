package db_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"payoutdesk/db"
)

func appendEvents(t *testing.T, d *db.DB, n int) []db.Event {
	t.Helper()
	var out []db.Event
	for i := range n {
		e := db.Event{
			Actor:      db.Actor{Type: db.ActorUser, ID: "7", Email: "a@example.com", Role: db.RoleAgent},
			Action:     "test.event",
			TargetType: "thing",
			TargetID:   strconv.Itoa(i),
			Origin:     db.Origin{IP: "192.0.2.1", UserAgent: "test", RequestID: "req-" + strconv.Itoa(i)},
			Details:    map[string]any{"i": i, "note": "hello"},
		}
		if i%2 == 1 {
			e.Provider = "monime"
		}
		err := d.InTx(context.Background(), func(tx *sql.Tx) error { return db.Append(context.Background(), tx, &e) })
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestAppendWritesEveryField(t *testing.T) {
	d := newTestDB(t)
	at := time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.FixedZone("X", 3600))
	e := db.Event{
		At:         at,
		Actor:      db.Actor{Type: db.ActorUser, ID: "3", Email: "m@example.com", Role: db.RoleManager},
		Action:     "user.disabled",
		TargetType: "user",
		TargetID:   "9",
		Outcome:    db.OutcomeFailure,
		Origin:     db.Origin{IP: "198.51.100.2", UserAgent: "Firefox", RequestID: "r1"},
		Reason:     "left the company",
		Details:    map[string]any{"password": "hunter2", "nested": map[string]any{"api_key": "k"}, "kept": "yes"},
	}
	if err := d.InTx(context.Background(), func(tx *sql.Tx) error { return db.Append(context.Background(), tx, &e) }); err != nil {
		t.Fatal(err)
	}
	got, err := db.NewAudit(d).Get(context.Background(), e.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 1 {
		t.Errorf("seq = %d, want 1", got.Seq)
	}
	if want := at.UTC().Truncate(time.Microsecond); !got.At.Equal(want) || got.At.Location() != time.UTC {
		t.Errorf("at = %v, want %v in UTC", got.At, want)
	}
	if got.Actor != e.Actor || got.Action != e.Action || got.TargetType != "user" || got.TargetID != "9" ||
		got.Outcome != db.OutcomeFailure || got.Origin != e.Origin || got.Reason != e.Reason {
		t.Errorf("stored event %+v differs from appended %+v", got, e)
	}
	if strings.Contains(got.DetailsJSON, "hunter2") || strings.Contains(got.DetailsJSON, `"k"`) {
		t.Errorf("details %s hold a secret", got.DetailsJSON)
	}
	if got.Details["kept"] != "yes" {
		t.Errorf("details %s lost a plain value", got.DetailsJSON)
	}
	if got.Hash != e.Hash || len(got.Hash) != 64 {
		t.Errorf("hash = %q, want %q (64 hex chars)", got.Hash, e.Hash)
	}
}

// TestHashFollowsDocumentedEncoding recomputes the chain the way an outside
// auditor would from the description in audit.go.
func TestHashFollowsDocumentedEncoding(t *testing.T) {
	d := newTestDB(t)
	events := appendEvents(t, d, 3)
	prev := make([]byte, 32)
	for _, e := range events {
		stored, err := db.NewAudit(d).Get(context.Background(), e.Seq)
		if err != nil {
			t.Fatal(err)
		}
		fields := []string{strconv.FormatInt(e.Seq, 10), stored.At.Format(db.TimeLayout), e.Actor.Type, e.Actor.ID,
			e.Actor.Email, e.Actor.Role, e.Action, e.TargetType, e.TargetID, stored.Outcome, e.Origin.IP,
			e.Origin.UserAgent, e.Origin.RequestID, e.Reason, stored.DetailsJSON}
		if stored.Provider != "" {
			fields = append(fields, stored.Provider)
		}
		canon, _ := json.Marshal(fields)
		var inDB string
		if err := d.R.QueryRow(`SELECT canon FROM audit_events WHERE seq = ?`, e.Seq).Scan(&inDB); err != nil || inDB != string(canon) {
			t.Fatalf("seq %d: stored encoding %s, documented %s (%v)", e.Seq, inDB, canon, err)
		}
		sum := sha256.Sum256(append(prev, canon...))
		if got := hex.EncodeToString(sum[:]); got != stored.Hash {
			t.Fatalf("seq %d: recomputed %s, stored %s", e.Seq, got, stored.Hash)
		}
		prev = sum[:]
	}
}

func TestAuditTableIsAppendOnly(t *testing.T) {
	d := newTestDB(t)
	appendEvents(t, d, 2)
	for _, stmt := range []string{
		`UPDATE audit_events SET canon = replace(canon, 'hello', 'HELLO') WHERE seq = 1`,
		`UPDATE audit_events SET hash = 'x' WHERE seq = 1`,
		`DELETE FROM audit_events WHERE seq = 2`,
		`DELETE FROM audit_events`,
	} {
		if _, err := d.W.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", stmt, err)
		}
	}
	v, err := db.NewAudit(d).Verify(context.Background())
	if err != nil || !v.OK() || v.Events != 2 {
		t.Errorf("verify = %v, %v; want ok with 2 events", v, err)
	}
}

func dropTriggers(t *testing.T, d *db.DB) {
	t.Helper()
	for _, s := range []string{`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`} {
		if _, err := d.W.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyNamesTamperedSeq(t *testing.T) {
	tests := []struct {
		name   string
		tamper []string
		want   int64
	}{
		{"one byte of details", []string{`UPDATE audit_events SET canon = replace(canon, 'hello', 'hellp') WHERE seq = 4`}, 4},
		{"actor email", []string{`UPDATE audit_events SET canon = json_set(canon, '$[4]', 'b@example.com') WHERE seq = 2`}, 2},
		{"timestamp", []string{`UPDATE audit_events SET canon = json_set(canon, '$[1]', '2020-01-01T00:00:00.000000Z') WHERE seq = 5`}, 5},
		{"outcome", []string{`UPDATE audit_events SET canon = json_set(canon, '$[9]', 'failure') WHERE seq = 1`}, 1},
		{"provider cleared", []string{`UPDATE audit_events SET canon = json_remove(canon, '$[15]') WHERE seq = 2`}, 2},
		{"provider added", []string{`UPDATE audit_events SET canon = json_insert(canon, '$[#]', 'fedapay') WHERE seq = 3`}, 3},
		{"hash replaced", []string{`UPDATE audit_events SET hash = (SELECT hash FROM audit_events WHERE seq = 1) WHERE seq = 4`}, 4},
		{"hash lengthened", []string{`UPDATE audit_events SET hash = hash || '00' WHERE seq = 4`}, 4},
		{"hash shortened", []string{`UPDATE audit_events SET hash = substr(hash, 1, 62) WHERE seq = 5`}, 5},
		{"deleted row", []string{`DELETE FROM audit_events WHERE seq = 3`}, 3},
		{"swapped rows", []string{
			`UPDATE audit_events SET seq = -1 WHERE seq = 3`,
			`UPDATE audit_events SET seq = 3 WHERE seq = 4`,
			`UPDATE audit_events SET seq = 4 WHERE seq = -1`,
		}, 3},
		{"row inserted in the middle", []string{
			`UPDATE audit_events SET seq = seq + 100 WHERE seq >= 3`,
			`UPDATE audit_events SET seq = seq - 99 WHERE seq >= 103`,
			`INSERT INTO audit_events (seq, canon, hash) SELECT 3, json_set(canon, '$[0]', '3', '$[6]', 'forged'), hash FROM audit_events WHERE seq = 2`,
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDB(t)
			appendEvents(t, d, 6)
			dropTriggers(t, d)
			for _, s := range tt.tamper {
				if _, err := d.W.Exec(s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			v, err := db.NewAudit(d).Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if v.BrokenAt != tt.want {
				t.Errorf("broken at %d (%s), want %d", v.BrokenAt, v.Problem, tt.want)
			}
		})
	}
}

// TestVerifyFindsAGapInARechainedLog: the hash chain has no secret, so
// someone who deletes an event can recompute every later hash. The chain
// then holds, and only the numbering shows the hole.
func TestVerifyFindsAGapInARechainedLog(t *testing.T) {
	d := newTestDB(t)
	// Enough events that the one deleted is inside a range verified in
	// one go, however many ranges the tests split the log into.
	appendEvents(t, d, 40)
	dropTriggers(t, d)
	if _, err := d.W.Exec(`DELETE FROM audit_events WHERE seq = 4`); err != nil {
		t.Fatal(err)
	}
	rechain(t, d)
	v, err := db.NewAudit(d).Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v.BrokenAt != 4 || !strings.Contains(v.Problem, "event missing") {
		t.Errorf("verification = broken at %d (%s), want seq 4 reported missing", v.BrokenAt, v.Problem)
	}
}

// TestVerifyChecksTheAuditSchema: the pages show the readable columns of
// audit_events, generated by expressions kept in the schema, not in the
// hashed rows. Redefining one (or dropping an index or a trigger, or adding
// one) changes no hashed byte, so verification also compares the schema
// with what the migrations create, and names the object that differs.
func TestVerifyChecksTheAuditSchema(t *testing.T) {
	tests := []struct {
		name  string
		alter []string
		want  string
	}{
		{"untouched", nil, ""},
		{"a readable column redefined", []string{
			`ALTER TABLE audit_events DROP COLUMN reason`,
			`ALTER TABLE audit_events ADD COLUMN reason TEXT GENERATED ALWAYS AS
				(CASE WHEN seq = 3 THEN 'approved by the CFO by phone' ELSE json_extract(canon, '$[13]') END) VIRTUAL`,
		}, "table audit_events differs from the one the migrations create"},
		{"an index dropped", []string{`DROP INDEX audit_events_outcome`}, "index audit_events_outcome is missing"},
		{"an append-only trigger dropped", []string{`DROP TRIGGER audit_events_no_delete`}, "trigger audit_events_no_delete is missing"},
		{"a trigger added", []string{`CREATE TRIGGER audit_events_extra AFTER INSERT ON audit_events BEGIN SELECT 1; END`},
			"trigger audit_events_extra is not one the migrations create"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			d := newTestDB(t)
			appendEvents(t, d, 6)
			for _, q := range tt.alter {
				if _, err := d.W.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			v, err := db.NewAudit(d).Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if !v.OK() || v.Schema != "" {
					t.Errorf("verify = %v; want ok", v)
				}
				return
			}
			if v.OK() || v.BrokenAt != 0 || !strings.Contains(v.Schema, tt.want) || !strings.Contains(v.String(), tt.want) {
				t.Errorf("verify = %v (schema %q); want it failed, saying %q, with the chain itself intact", v, v.Schema, tt.want)
			}
		})
	}
}

func TestChangeRolledBackWhenAuditFails(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	// Make every audit append fail, as a full disk or a bug would.
	_, err := d.W.Exec(`CREATE TRIGGER audit_fail BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END`)
	if err != nil {
		t.Fatal(err)
	}
	ev := db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.created"}
	if _, err := db.NewUsers(d).Create(ctx, "x@example.com", db.RoleAgent, "correct horse battery", ev); err == nil {
		t.Fatal("create succeeded although its audit event failed")
	}
	if _, err := db.NewUsers(d).ByEmail(ctx, "x@example.com"); err == nil {
		t.Error("the user exists although its audit event was not written")
	}
	if _, err := d.W.Exec(`DROP TRIGGER audit_fail`); err != nil {
		t.Fatal(err)
	}
	u, err := db.NewUsers(d).Create(ctx, "x@example.com", db.RoleAgent, "correct horse battery", ev)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.W.Exec(`CREATE TRIGGER audit_fail BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END`)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.NewUsers(d).Disable(ctx, u.ID, db.Event{Actor: db.Actor{Type: db.ActorCLI}, Action: "user.disabled"}); err == nil {
		t.Fatal("disable succeeded although its audit event failed")
	}
	got, err := db.NewUsers(d).Get(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Disabled() {
		t.Error("the user is disabled although its audit event was not written")
	}
}

// A clock stepping back never makes an event older than the one before it:
// the log's time filters rely on time rising with seq.
func TestAppendTimeNeverGoesBackwards(t *testing.T) {
	d := newTestDB(t)
	a := db.NewAudit(d)
	// Another database's events come between, as another process's would,
	// up to the same seq with an earlier time: the head's time is then
	// read from the log, not taken from the other's last append.
	other := db.NewAudit(newTestDB(t))
	later := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, at := range []time.Time{later, later.Add(-time.Hour), later.Add(time.Minute), later.Add(-2 * time.Hour)} {
		if i == 3 {
			for range 3 {
				if err := other.Record(context.Background(), db.Event{At: later.Add(-5 * time.Hour), Actor: db.Actor{Type: db.ActorSystem}, Action: "test.elsewhere"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := a.Record(context.Background(), db.Event{At: at, Actor: db.Actor{Type: db.ActorSystem}, Action: "test.clock"}); err != nil {
			t.Fatal(err)
		}
	}
	var got []time.Time
	for seq := int64(1); seq <= 4; seq++ {
		e, err := a.Get(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.At)
	}
	if !got[1].Equal(later) || !got[2].Equal(later.Add(time.Minute)) || !got[3].Equal(later.Add(time.Minute)) {
		t.Errorf("event times %v, want the second held at the first's %v, the fourth at the third's", got, later)
	}
	if v, err := a.Verify(context.Background()); err != nil || !v.OK() {
		t.Errorf("verify after a held time: %v, %v", v, err)
	}
}

// TestVerifyFindsARenumberedLog: someone who deletes an event, numbers
// the later ones down to close the hole and recomputes every hash leaves
// a chain that holds and has no gap; but each moved event's encoding
// still names the number it was written with.
func TestVerifyFindsARenumberedLog(t *testing.T) {
	d := newTestDB(t)
	appendEvents(t, d, 40)
	dropTriggers(t, d)
	for _, s := range []string{
		`DELETE FROM audit_events WHERE seq = 4`,
		`UPDATE audit_events SET seq = seq + 1000 WHERE seq > 4`,
		`UPDATE audit_events SET seq = seq - 1001 WHERE seq > 1000`,
	} {
		if _, err := d.W.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if n := rechain(t, d); n != 39 {
		t.Fatalf("%d events after the deletion, want 39", n)
	}
	v, err := db.NewAudit(d).Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v.BrokenAt != 4 || !strings.Contains(v.Problem, "sequence number") {
		t.Errorf("verification = broken at %d (%s), want seq 4, whose encoding names another number", v.BrokenAt, v.Problem)
	}
}

// rechain recomputes every stored hash over the stored encodings, as
// someone who edited the table would to make the chain hold again. It
// returns the number of events.
func rechain(t *testing.T, d *db.DB) int {
	t.Helper()
	rows, err := d.R.Query(`SELECT seq, canon FROM audit_events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	prev := make([]byte, 32)
	rechained := map[int64]string{}
	for rows.Next() {
		var seq int64
		var canon string
		if err := rows.Scan(&seq, &canon); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(append(prev, canon...))
		rechained[seq], prev = hex.EncodeToString(sum[:]), sum[:]
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for seq, h := range rechained {
		if _, err := d.W.Exec(`UPDATE audit_events SET hash = ? WHERE seq = ?`, h, seq); err != nil {
			t.Fatal(err)
		}
	}
	return len(rechained)
}
