package web

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"payoutdesk/db"
)

// checkpointDB opens a fresh database for the checkpointer's tests and
// returns a function that records n events.
func checkpointDB(t *testing.T) (*db.DB, func(n int)) {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	audit := db.NewAudit(d)
	return d, func(n int) {
		t.Helper()
		for range n {
			err := audit.Record(ctx, db.Event{Actor: db.Actor{Type: db.ActorUser, ID: "2", Email: "m@example.com", Role: db.RoleManager},
				Action: "payout.approved", TargetType: "payout", TargetID: "9"})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// tamper runs statements on the database behind the application's back,
// as someone with write access to the file (but not the key) would.
func tamper(t *testing.T, d *db.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := d.W.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// rechain recomputes every event's hash from seq from on, as someone who
// edited or deleted rows would, so that the chain checks out by itself.
func rechain(t *testing.T, d *db.DB, from int64) {
	t.Helper()
	prevHex := db.GenesisHash
	if from > 1 {
		if err := d.R.QueryRow(`SELECT hash FROM audit_events WHERE seq = ?`, from-1).Scan(&prevHex); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := d.R.Query(`SELECT seq, canon FROM audit_events WHERE seq >= ? ORDER BY seq`, from)
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	for rows.Next() {
		var seq int64
		var canon string
		if err := rows.Scan(&seq, &canon); err != nil {
			t.Fatal(err)
		}
		var fields []string
		if err := json.Unmarshal([]byte(canon), &fields); err != nil {
			t.Fatal(err)
		}
		fields[0] = strconv.FormatInt(seq, 10)
		b, _ := json.Marshal(fields)
		prev, _ := hex.DecodeString(prevHex)
		sum := sha256.Sum256(append(prev, b...))
		prevHex = hex.EncodeToString(sum[:])
		stmts = append(stmts, `UPDATE audit_events SET canon = '`+strings.ReplaceAll(string(b), `'`, `''`)+`', hash = '`+prevHex+`' WHERE seq = `+strconv.FormatInt(seq, 10))
	}
	rows.Close()
	tamper(t, d, append([]string{`DROP TRIGGER IF EXISTS audit_events_no_update`}, stmts...)...)
}

// refusals returns the audited refusals to sign, oldest first.
func refusals(t *testing.T, d *db.DB) []db.Event {
	t.Helper()
	evs, err := db.NewAudit(d).Search(context.Background(), db.AuditFilter{Action: "audit.checkpoint_refused"})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

// TestCheckpointRefusesRewrittenTail: a checkpoint is signed only for a
// head that descends from the last checkpoint. A tail edited after it, a
// history rewritten from the checkpointed event on (hashes recomputed), or
// cut there (and appended to again, or not) is refused and audited, with
// the seq where it breaks, and the last checkpoint stays the newest.
func TestCheckpointRefusesRewrittenTail(t *testing.T) {
	tests := []struct {
		name         string
		tamper       func(t *testing.T, d *db.DB, record func(int))
		wantBrokenAt int64
	}{
		{"an event after the checkpoint edited", func(t *testing.T, d *db.DB, _ func(int)) {
			tamper(t, d, `DROP TRIGGER audit_events_no_update`,
				`UPDATE audit_events SET canon = replace(canon, 'm@example.com', 'cfo@example.com') WHERE seq = 4`)
		}, 4},
		{"rewritten from the checkpointed event, hashes recomputed", func(t *testing.T, d *db.DB, _ func(int)) {
			tamper(t, d, `DROP TRIGGER audit_events_no_update`,
				`UPDATE audit_events SET canon = replace(canon, 'm@example.com', 'cfo@example.com') WHERE seq = 3`)
			rechain(t, d, 3)
		}, 3},
		{"cut at the checkpointed event and appended to again", func(t *testing.T, d *db.DB, record func(int)) {
			tamper(t, d, `DROP TRIGGER audit_events_no_delete`, `DELETE FROM audit_events WHERE seq >= 3`)
			record(3)
		}, 3},
		{"cut below the checkpoint", func(t *testing.T, d *db.DB, _ func(int)) {
			tamper(t, d, `DROP TRIGGER audit_events_no_delete`, `DELETE FROM audit_events WHERE seq >= 3`)
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			d, record := checkpointDB(t)
			cfg := DefaultConfig()
			record(3)
			first, _, err := CheckpointNow(ctx, d, cfg)
			if err != nil || first.Seq != 3 {
				t.Fatalf("first checkpoint %+v, %v", first, err)
			}
			record(2)
			tt.tamper(t, d, record)

			cp, _, err := CheckpointNow(ctx, d, cfg)
			if !errors.Is(err, ErrCheckpointRefused) {
				t.Fatalf("checkpoint of the tampered log: %+v, %v; want it refused", cp, err)
			}
			if last, err := db.NewAudit(d).LastCheckpoint(ctx); err != nil || last != first {
				t.Errorf("last checkpoint %+v, %v; want still %+v", last, err, first)
			}
			got := refusals(t, d)
			if len(got) != 1 || got[0].Outcome != db.OutcomeFailure || got[0].Details["broken_at"] != float64(tt.wantBrokenAt) ||
				got[0].Details["problem"] == "" || got[0].Details["last_checkpoint_seq"] != float64(3) {
				t.Errorf("refusals audited: %+v; want one, broken at %d", got, tt.wantBrokenAt)
			}
		})
	}
}

// checkpointedAtFive returns a database whose checkpointer, due every 5
// events, has signed its first checkpoint, at seq 5, into the file and the
// database.
func checkpointedAtFive(t *testing.T) (*db.DB, func(n int), Config) {
	t.Helper()
	d, record := checkpointDB(t)
	cfg := DefaultConfig()
	cfg.CheckpointEvery = 5
	c, _, err := newCheckpointer(context.Background(), cfg, d, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	record(5)
	if n, err := c.run(context.Background()); err != nil || n != 1 {
		t.Fatalf("first checkpoint: %d, %v", n, err)
	}
	return d, record, cfg
}

// restartAndRun starts a new checkpointer on d, as a restarted server
// does, and runs it once.
func restartAndRun(t *testing.T, d *db.DB, cfg Config) (int, error) {
	t.Helper()
	c, _, err := newCheckpointer(context.Background(), cfg, d, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return c.run(context.Background())
}

// TestRestartedCheckpointerRefusesARewrittenHistory: the server's
// checkpointer, newly started, has seen no head yet; a history rewritten
// from the last checkpoint's event on while the server was down (hashes
// recomputed, events appended since) is still refused when the next
// checkpoint falls due, and not signed.
func TestRestartedCheckpointerRefusesARewrittenHistory(t *testing.T) {
	ctx := context.Background()
	d, record, cfg := checkpointedAtFive(t)
	// The server is down: the checkpointed event is rewritten, the chain
	// recomputed, and events added to make the next checkpoint due.
	tamper(t, d, `DROP TRIGGER audit_events_no_update`,
		`UPDATE audit_events SET canon = replace(canon, 'm@example.com', 'cfo@example.com') WHERE seq = 5`)
	rechain(t, d, 5)
	record(5)
	if n, err := restartAndRun(t, d, cfg); err != nil || n != 0 {
		t.Errorf("run after the restart: %d, %v; want nothing signed, and no error", n, err)
	}
	if last, err := db.NewAudit(d).LastCheckpoint(ctx); err != nil || last.Seq != 5 {
		t.Errorf("last checkpoint %+v, %v; want still the one at seq 5", last, err)
	}
	if got := refusals(t, d); len(got) != 1 || got[0].Details["broken_at"] != float64(5) {
		t.Errorf("refusals audited: %+v; want one, at seq 5", got)
	}
}

// TestCheckpointerReckonsFromTheFileToo: with the database's checkpoint
// rows deleted as well, a restarted checkpointer reckons from the newest
// checkpoint in the file, not from the genesis, and so refuses a history
// rewritten while the server was down rather than signing it.
func TestCheckpointerReckonsFromTheFileToo(t *testing.T) {
	ctx := context.Background()
	d, record, cfg := checkpointedAtFive(t)
	tamper(t, d, `DROP TRIGGER audit_events_no_update`,
		`UPDATE audit_events SET canon = replace(canon, 'm@example.com', 'cfo@example.com') WHERE seq = 3`,
		`DROP TRIGGER audit_checkpoints_no_delete`, `DELETE FROM audit_checkpoints`)
	rechain(t, d, 3)
	record(5)
	if n, err := restartAndRun(t, d, cfg); err != nil || n != 0 {
		t.Errorf("run after the restart: %d, %v; want nothing signed, and no error", n, err)
	}
	if _, err := db.NewAudit(d).LastCheckpoint(ctx); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("a checkpoint was stored (%v); want none: the rewritten history must not be signed", err)
	}
	// The break shows at the checkpointed event, whose hash changed.
	if got := refusals(t, d); len(got) != 1 || got[0].Details["broken_at"] != float64(5) || got[0].Details["last_checkpoint_seq"] != float64(5) {
		t.Errorf("refusals audited: %+v; want one, at seq 5, reckoned from the file's checkpoint there", got)
	}

	// Left alone, the history checks out against the file's checkpoint:
	// signing goes on from it, and the database gets its rows again.
	d2, record2, _ := checkpointedAtFive(t)
	tamper(t, d2, `DROP TRIGGER audit_checkpoints_no_delete`, `DELETE FROM audit_checkpoints`)
	record2(5)
	if n, err := restartAndRun(t, d2, cfg); err != nil || n != 1 {
		t.Errorf("run on an intact history: %d, %v; want a checkpoint signed", n, err)
	}
	if last, err := db.NewAudit(d2).LastCheckpoint(ctx); err != nil || last.Seq != 10 {
		t.Errorf("last checkpoint %+v, %v; want one at seq 10", last, err)
	}
}

// TestKeyChangeRetiresTheOldKeyFirst: a new key's first checkpoint is
// written only after the old key is marked retired in the key ring. Once
// that checkpoint is in the file, a restart reckons from it and would not
// retire the old key again; so a stop at any point leaves either the old
// key retired or no new checkpoint. Here the file write fails (the file
// was moved away), and the old key is already retired; with the file
// back, signing goes on and the log verifies.
func TestKeyChangeRetiresTheOldKeyFirst(t *testing.T) {
	ctx := context.Background()
	d, record, cfg := checkpointedAtFive(t)
	keyPath, ringPath, file := checkpointPaths(cfg, d.Path)
	old, err := db.NewAudit(d).LastCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The key is moved away: the next start makes a new one, which signs
	// at once; the file is away too, so that signing stops short.
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file, file+".away"); err != nil {
		t.Fatal(err)
	}
	record(5)
	if n, err := restartAndRun(t, d, cfg); err == nil || n != 0 {
		t.Fatalf("signing without the checkpoint file: %d, %v; want it refused", n, err)
	}
	retired := func() {
		t.Helper()
		ring, err := trustedKeys(keyPath, ringPath)
		if err != nil {
			t.Fatal(err)
		}
		if upTo, ok := ring.retired[old.KeyID]; !ok || upTo != old.Seq {
			t.Errorf("old key %s retired after %d (%v); want retired after its last checkpoint, seq %d", old.KeyID, upTo, ok, old.Seq)
		}
	}
	retired()

	if err := os.Rename(file+".away", file); err != nil {
		t.Fatal(err)
	}
	if n, err := restartAndRun(t, d, cfg); err != nil || n != 1 {
		t.Fatalf("signing with the file back: %d, %v; want a checkpoint", n, err)
	}
	retired()
	if v, _, err := VerifyAudit(ctx, d, cfg); err != nil || !v.OK() || v.Checkpoints != 2 {
		t.Errorf("verify after the key change = %+v, %v; want ok with both checkpoints", v, err)
	}
}

// TestCheckpointerNoticesChangedUnsignedEvents: events after the last
// checkpoint are signed by nothing yet, and a rewrite of them with
// recomputed hashes chains from it as well as the truth does. The running
// server's checkpointer remembers the head it last saw, so a rewrite or cut
// of events it saw is refused, logged and audited once, not signed.
func TestCheckpointerNoticesChangedUnsignedEvents(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, d *db.DB, record func(int))
	}{
		{"rewritten, hashes recomputed", func(t *testing.T, d *db.DB, _ func(int)) {
			tamper(t, d, `DROP TRIGGER audit_events_no_update`,
				`UPDATE audit_events SET canon = replace(canon, 'm@example.com', 'cfo@example.com') WHERE seq = 6`)
			rechain(t, d, 6)
		}},
		{"cut and appended to again", func(t *testing.T, d *db.DB, record func(int)) {
			tamper(t, d, `DROP TRIGGER audit_events_no_delete`, `DELETE FROM audit_events WHERE seq >= 6`)
			record(1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			d, record := checkpointDB(t)
			cfg := DefaultConfig()
			cfg.CheckpointEvery = 5
			var logs bytes.Buffer
			c, _, err := newCheckpointer(ctx, cfg, d, slog.New(slog.NewTextHandler(&logs, nil)), time.Now)
			if err != nil {
				t.Fatal(err)
			}
			record(5)
			if n, err := c.run(ctx); err != nil || n != 1 {
				t.Fatalf("first checkpoint: %d, %v", n, err)
			}
			record(2)
			if n, err := c.run(ctx); err != nil || n != 0 {
				t.Fatalf("run before a checkpoint is due: %d, %v", n, err)
			}
			if c.refused.Load() {
				t.Error("the refusal metric is set before any tampering")
			}
			tt.tamper(t, d, record)
			record(5)
			for range 2 {
				if n, err := c.run(ctx); err != nil || n != 0 {
					t.Errorf("run after the tampering: %d, %v; want nothing signed, and no error", n, err)
				}
			}
			if last, err := db.NewAudit(d).LastCheckpoint(ctx); err != nil || last.Seq != 5 {
				t.Errorf("last checkpoint %+v, %v; want still the one at seq 5", last, err)
			}
			got := refusals(t, d)
			if len(got) != 1 || got[0].Details["broken_at"] != float64(7) {
				t.Errorf("refusals audited: %+v; want one, at seq 7, the head last seen", got)
			}
			if !strings.Contains(logs.String(), `level=ERROR msg="audit checkpoint refused" broken_at=7`) {
				t.Errorf("no error logged:\n%s", logs.String())
			}
			if !c.refused.Load() {
				t.Error("the refusal metric is not set")
			}
		})
	}
}

// TestCheckpointRefusesBogusStoredCheckpoint: the next checkpoint is
// reckoned from the newest row of audit_checkpoints, which anyone with
// write access to the database can insert. One that no trusted key signed
// (a junk signature far ahead, which would make no checkpoint due ever
// again, or a valid signature by a key not in the key ring) is refused,
// logged and audited at once, rather than trusted.
func TestCheckpointRefusesBogusStoredCheckpoint(t *testing.T) {
	_, otherKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		row          func(head int64, hash string, now time.Time) db.Checkpoint
		wantBrokenAt int64
		wantProblem  string
	}{
		{"a junk signature far ahead", func(_ int64, _ string, now time.Time) db.Checkpoint {
			return db.Checkpoint{Seq: 1_000_000_000, Hash: db.GenesisHash, At: now, Signature: "AAAA"}
		}, 1_000_000_000, "is not validly signed"},
		{"signed by a key not in the key ring", func(head int64, hash string, now time.Time) db.Checkpoint {
			return db.SignCheckpoint(otherKey, head, hash, now)
		}, 6, "which is not a trusted key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			d, record := checkpointDB(t)
			now := time.Now()
			cfg := DefaultConfig()
			cfg.CheckpointEvery = 5
			var logs bytes.Buffer
			c, _, err := newCheckpointer(ctx, cfg, d, slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return now })
			if err != nil {
				t.Fatal(err)
			}
			record(5)
			if n, err := c.run(ctx); err != nil || n != 1 {
				t.Fatalf("first checkpoint: %d, %v", n, err)
			}
			record(1)
			head, hash, err := c.audit.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			row := tt.row(head, hash, now)
			if row.KeyID == "" {
				row.KeyID = c.keyID
			}
			if err := c.audit.AddCheckpoint(ctx, row); err != nil {
				t.Fatal(err)
			}
			record(50)
			now = now.Add(3 * 24 * time.Hour)
			for range 2 {
				if n, err := c.run(ctx); err != nil || n != 0 {
					t.Errorf("run after the bogus checkpoint: %d, %v; want nothing signed, and no error", n, err)
				}
			}
			if last, err := c.audit.LastCheckpoint(ctx); err != nil || last.Signature != row.Signature {
				t.Errorf("last checkpoint %+v, %v; want still the bogus one, nothing signed after it", last, err)
			}
			got := refusals(t, d)
			if len(got) != 1 || got[0].Details["broken_at"] != float64(tt.wantBrokenAt) || !strings.Contains(got[0].Details["problem"].(string), tt.wantProblem) {
				t.Errorf("refusals audited: %+v; want one, at seq %d, saying %q", got, tt.wantBrokenAt, tt.wantProblem)
			}
			if !strings.Contains(logs.String(), `level=ERROR msg="audit checkpoint refused"`) {
				t.Errorf("no error logged:\n%s", logs.String())
			}
		})
	}
}
