package db_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"payoutdesk/db"
)

func TestCheckpointSignAndFileRoundTrip(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	c := db.SignCheckpoint(key, 42, strings.Repeat("ab", 32), time.Now())
	if !c.Valid(pub) {
		t.Fatal("a fresh checkpoint does not verify")
	}
	var file bytes.Buffer
	file.Write(c.Line())
	file.WriteString("\n")
	other := db.SignCheckpoint(key, 43, strings.Repeat("cd", 32), time.Now())
	file.Write(other.Line())
	got, err := db.ReadCheckpoints(&file)
	if err != nil || len(got) != 2 || !got[0].Valid(pub) || got[1].Seq != 43 {
		t.Fatalf("read back %+v, %v", got, err)
	}
	tampered := c
	tampered.Seq = 41
	otherPub, _, _ := ed25519.GenerateKey(nil)
	if tampered.Valid(pub) || c.Valid(otherPub) {
		t.Error("a changed checkpoint or another key verifies")
	}
	if _, err := db.ReadCheckpoints(strings.NewReader("{not json}\n")); err == nil {
		t.Error("a malformed checkpoint file was accepted")
	}
}

// recompute rewrites every event's encoding and hash from seq on, as a
// tamperer who knows the format would after editing or renumbering rows.
func recompute(t *testing.T, d *db.DB, from int64) {
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
	type row struct {
		seq         int64
		canon, hash string
	}
	var updates []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.seq, &r.canon); err != nil {
			t.Fatal(err)
		}
		var fields []string
		if err := json.Unmarshal([]byte(r.canon), &fields); err != nil {
			t.Fatal(err)
		}
		fields[0] = strconv.FormatInt(r.seq, 10)
		canon, _ := json.Marshal(fields)
		prev, _ := hex.DecodeString(prevHex)
		sum := sha256.Sum256(append(prev, canon...))
		r.canon, r.hash = string(canon), hex.EncodeToString(sum[:])
		prevHex = r.hash
		updates = append(updates, r)
	}
	rows.Close()
	for _, u := range updates {
		if _, err := d.W.Exec(`UPDATE audit_events SET canon = ?, hash = ? WHERE seq = ?`, u.canon, u.hash, u.seq); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheckpointsCatchRewritesAndCutTails(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	ctx := context.Background()
	setup := func(t *testing.T) (*db.DB, []db.Checkpoint) {
		d := newTestDB(t)
		events := appendEvents(t, d, 12)
		// Checkpoints at 4 and 8, as the server makes every N events.
		var cps []db.Checkpoint
		for _, e := range []db.Event{events[3], events[7]} {
			c := db.SignCheckpoint(key, e.Seq, e.Hash, time.Now())
			if err := db.NewAudit(d).AddCheckpoint(ctx, c); err != nil {
				t.Fatal(err)
			}
			cps = append(cps, c)
		}
		return d, cps
	}
	// exec runs tampering statements, each of which must change something.
	exec := func(t *testing.T, d *db.DB, stmts ...string) {
		t.Helper()
		for _, q := range stmts {
			res, err := d.W.Exec(q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				t.Fatalf("%s changed nothing", q)
			}
		}
	}
	tests := []struct {
		name    string
		tamper  func(t *testing.T, d *db.DB)
		want    int64
		problem string
	}{
		{"untouched", func(*testing.T, *db.DB) {}, 0, ""},
		{"edited row, hashes recomputed", func(t *testing.T, d *db.DB) {
			exec(t, d, `UPDATE audit_events SET canon = replace(canon, 'hello', 'HELLO') WHERE seq = 6`)
			recompute(t, d, 6)
		}, 5, "rewritten"},
		{"deleted row, renumbered and recomputed", func(t *testing.T, d *db.DB) {
			exec(t, d, `DELETE FROM audit_events WHERE seq = 2`, `UPDATE audit_events SET seq = seq - 1 WHERE seq > 2`)
			recompute(t, d, 2)
		}, 1, "rewritten"},
		{"tail cut after the last checkpoint's seq", func(t *testing.T, d *db.DB) {
			exec(t, d, `DELETE FROM audit_events WHERE seq >= 7`)
		}, 7, "missing"},
		{"tail cut after the last checkpoint", func(t *testing.T, d *db.DB) {
			exec(t, d, `DELETE FROM audit_events WHERE seq >= 11`)
		}, 0, ""},
		{"edited row, hashes not recomputed", func(t *testing.T, d *db.DB) {
			exec(t, d, `UPDATE audit_events SET canon = json_set(canon, '$[5]', 'admin') WHERE seq = 10`)
		}, 10, "hash does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, cps := setup(t)
			dropTriggers(t, d)
			tt.tamper(t, d)
			v, err := db.NewAudit(d).VerifyWith(ctx, db.VerifyOptions{Checkpoints: cps, Keys: []ed25519.PublicKey{pub}})
			if err != nil {
				t.Fatal(err)
			}
			if v.BrokenAt != tt.want || !strings.Contains(v.Problem, tt.problem) {
				t.Errorf("verify = %v; want broken at %d (%s)", v, tt.want, tt.problem)
			}
			if tt.want == 0 && v.Checkpoints == 0 && tt.name == "untouched" {
				t.Error("no checkpoint was checked")
			}
		})
	}

	t.Run("checkpoint of the empty log", func(t *testing.T) {
		d, cps := setup(t)
		genesis := db.SignCheckpoint(key, 0, db.GenesisHash, time.Now())
		v, _ := db.NewAudit(d).VerifyWith(ctx, db.VerifyOptions{Checkpoints: append(cps, genesis), Keys: []ed25519.PublicKey{pub}})
		if !v.OK() || v.Checkpoints != 3 {
			t.Errorf("verify = %v; want ok with the genesis checkpoint among 3", v)
		}
		wrong := db.SignCheckpoint(key, 0, strings.Repeat("ab", 32), time.Now())
		if v, _ := db.NewAudit(d).VerifyWith(ctx, db.VerifyOptions{Checkpoints: append(cps, wrong), Keys: []ed25519.PublicKey{pub}}); v.OK() {
			t.Errorf("verify = %v; want a seq 0 checkpoint with another hash refused", v)
		}
	})

	t.Run("forged checkpoint", func(t *testing.T) {
		d, cps := setup(t)
		_, otherKey, _ := ed25519.GenerateKey(nil)
		forged := db.SignCheckpoint(otherKey, 12, cps[1].Hash, time.Now())
		forged.KeyID = cps[0].KeyID
		v, _ := db.NewAudit(d).VerifyWith(ctx, db.VerifyOptions{Checkpoints: append(cps, forged), Keys: []ed25519.PublicKey{pub}})
		if v.BrokenAt != 12 || !strings.Contains(v.Problem, "not validly signed") {
			t.Errorf("verify = %v; want the forged checkpoint named", v)
		}
	})
	t.Run("checkpoints of a replaced key", func(t *testing.T) {
		d, cps := setup(t)
		newPub, newKey, _ := ed25519.GenerateKey(nil)
		later := db.SignCheckpoint(newKey, cps[1].Seq, cps[1].Hash, time.Now())
		all := append(cps, later)
		v, _ := db.NewAudit(d).VerifyWith(ctx, db.VerifyOptions{Checkpoints: all, Keys: []ed25519.PublicKey{newPub, pub}})
		if !v.OK() || v.Checkpoints != 3 {
			t.Errorf("verify with both keys = %v; want ok, 3 checkpoints", v)
		}
		v, _ = db.NewAudit(d).VerifyWith(ctx, db.VerifyOptions{Checkpoints: all, Keys: []ed25519.PublicKey{newPub}})
		if v.BrokenAt != cps[0].Seq || !strings.Contains(v.Problem, "names key "+cps[0].KeyID+", which is not a trusted key ("+db.KeyID(newPub)+")") {
			t.Errorf("verify with the new key only = %v; want the old key's first checkpoint named untrusted", v)
		}

		// The old key retired after its first checkpoint: its second,
		// later one is what a leaked key would sign, and is refused.
		keys, retired := []ed25519.PublicKey{newPub, pub}, map[string]int64{cps[0].KeyID: cps[0].Seq}
		v, _ = db.NewAudit(d).VerifyWith(ctx, db.VerifyOptions{Checkpoints: all, Keys: keys, RetiredAfter: retired})
		if v.BrokenAt != cps[0].Seq+1 || !strings.Contains(v.Problem, "retired after seq "+strconv.FormatInt(cps[0].Seq, 10)) {
			t.Errorf("verify with the old key retired = %v; want its later checkpoint refused", v)
		}
		proper := []db.Checkpoint{cps[0], later}
		if v, _ = db.NewAudit(d).VerifyWith(ctx, db.VerifyOptions{Checkpoints: proper, Keys: keys, RetiredAfter: retired}); !v.OK() || v.Checkpoints != 2 {
			t.Errorf("verify of a proper key change = %v; want ok, 2 checkpoints", v)
		}
		// The new key's checkpoints dropped: the newest left is the
		// retired key's, and what followed is not proven.
		v, _ = db.NewAudit(d).VerifyWith(ctx, db.VerifyOptions{Checkpoints: cps[:1], Keys: keys, RetiredAfter: retired})
		if v.BrokenAt != cps[0].Seq+1 || !strings.Contains(v.Problem, "checkpoints of the key that replaced it are missing") {
			t.Errorf("verify without the new key's checkpoints = %v; want them missed", v)
		}
	})
	t.Run("a retired key's checkpoint just past its last seq", func(t *testing.T) {
		d, cps := setup(t)
		newPub, newKey, _ := ed25519.GenerateKey(nil)
		next, err := db.NewAudit(d).Get(ctx, cps[0].Seq+1)
		if err != nil {
			t.Fatal(err)
		}
		// A leaked old key signs the very next event: one seq is enough
		// to vouch for a history rewritten from there.
		leaked := db.SignCheckpoint(key, next.Seq, next.Hash, time.Now())
		later := db.SignCheckpoint(newKey, cps[1].Seq, cps[1].Hash, time.Now())
		keys, retired := []ed25519.PublicKey{newPub, pub}, map[string]int64{cps[0].KeyID: cps[0].Seq}
		v, _ := db.NewAudit(d).VerifyWith(ctx, db.VerifyOptions{Checkpoints: []db.Checkpoint{cps[0], leaked, later}, Keys: keys, RetiredAfter: retired})
		if v.BrokenAt != next.Seq || !strings.Contains(v.Problem, "retired after seq "+strconv.FormatInt(cps[0].Seq, 10)) {
			t.Errorf("verify = %v; want the checkpoint at seq %d refused as its key's retired", v, next.Seq)
		}
	})
	t.Run("stored checkpoints round trip", func(t *testing.T) {
		d, cps := setup(t)
		got, err := db.NewAudit(d).Checkpoints(ctx)
		if err != nil || len(got) != 2 || got[0].Seq != cps[0].Seq || !got[1].Valid(pub) {
			t.Errorf("stored checkpoints %+v, %v", got, err)
		}
		if last, err := db.NewAudit(d).LastCheckpoint(ctx); err != nil || last != got[1] {
			t.Errorf("last checkpoint %+v, %v; want %+v", last, err, got[1])
		}
		if _, err := db.NewAudit(newTestDB(t)).LastCheckpoint(ctx); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("last checkpoint of a new database: %v, want ErrNotFound", err)
		}
		if _, err := d.W.Exec(`UPDATE audit_checkpoints SET hash = 'x'`); err == nil {
			t.Error("a stored checkpoint was updated")
		}
	})
}
