package db

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Checkpoint is a signed statement of the audit chain's head: "at this time
// the event with sequence number Seq had hash Hash". Kept in the database
// and, more importantly, in a file outside it, a checkpoint lets anyone
// holding the public key prove that the history up to Seq was not
// rewritten, even by someone who recomputed every hash, and that no events
// after it were cut off.
type Checkpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	At        time.Time `json:"at"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"`
}

// KeyID names a public key: the first 16 hex digits of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// checkpointMessage is what a checkpoint's signature covers.
func checkpointMessage(seq int64, hash string, at time.Time) []byte {
	return fmt.Appendf(nil, "payoutdesk audit checkpoint v1\nseq=%d\nhash=%s\nat=%s\n", seq, hash, at.UTC().Format(TimeLayout))
}

// SignCheckpoint makes a checkpoint of the given head.
func SignCheckpoint(key ed25519.PrivateKey, seq int64, hash string, at time.Time) Checkpoint {
	at = at.UTC().Truncate(time.Microsecond)
	sig := ed25519.Sign(key, checkpointMessage(seq, hash, at))
	return Checkpoint{Seq: seq, Hash: hash, At: at, KeyID: KeyID(key.Public().(ed25519.PublicKey)),
		Signature: base64.StdEncoding.EncodeToString(sig)}
}

// Valid reports whether c is signed by pub.
func (c Checkpoint) Valid(pub ed25519.PublicKey) bool {
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	return err == nil && c.KeyID == KeyID(pub) && ed25519.Verify(pub, checkpointMessage(c.Seq, c.Hash, c.At), sig)
}

// Line encodes c as one line of a checkpoint file (JSON and a newline).
func (c Checkpoint) Line() []byte {
	b, _ := json.Marshal(c)
	return append(b, '\n')
}

// ReadCheckpoints parses a checkpoint file, one JSON checkpoint per line.
func ReadCheckpoints(r io.Reader) ([]Checkpoint, error) {
	var out []Checkpoint
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var c Checkpoint
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("db: checkpoint file line %d: %w", n, err)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// Head returns the newest event's sequence number and hash (0 and the
// genesis hash for an empty log). The event is on disk: a head signed into
// a checkpoint file, outside the database, must not be lost with a power
// cut that the database's own copy of it would not survive.
func (a *Audit) Head(ctx context.Context) (int64, string, error) {
	if err := a.db.Durable(ctx); err != nil && !errors.Is(err, ErrReadOnly) {
		return 0, "", fmt.Errorf("db: audit head: %w", err)
	}
	var seq int64
	hash := GenesisHash
	err := a.db.R.QueryRowContext(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("db: audit head: %w", err)
	}
	return seq, hash, nil
}

// AddCheckpoint stores a checkpoint.
func (a *Audit) AddCheckpoint(ctx context.Context, c Checkpoint) error {
	err := a.db.exec(ctx, `INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (seq) DO NOTHING`, c.Seq, c.Hash, formatTime(c.At), c.KeyID, c.Signature)
	if err != nil {
		return fmt.Errorf("db: add checkpoint %d: %w", c.Seq, err)
	}
	return nil
}

// LastCheckpoint returns the newest stored checkpoint, or ErrNotFound.
func (a *Audit) LastCheckpoint(ctx context.Context) (Checkpoint, error) {
	var c Checkpoint
	err := a.db.R.QueryRowContext(ctx, `SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).
		Scan(&c.Seq, &c.Hash, timeCol{&c.At}, &c.KeyID, &c.Signature)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("db: last checkpoint: %w", err)
	}
	return c, nil
}

// Checkpoints returns the stored checkpoints, oldest first.
func (a *Audit) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	rows, err := a.db.R.QueryContext(ctx, `SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("db: checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		if err := rows.Scan(&c.Seq, &c.Hash, timeCol{&c.At}, &c.KeyID, &c.Signature); err != nil {
			return nil, fmt.Errorf("db: checkpoints: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// VerifySince checks what a checkpoint of the event at seq to would vouch
// for beyond the checkpoint (seq from, hash): that the event at from still
// has that hash (the genesis hash is seq 0's), and that every event after
// it, up to to, chains from it. That is at most a checkpoint's worth of
// events, so it runs before each signature. The result names where the
// history breaks, if it does, and its Head is the hash at to.
func (a *Audit) VerifySince(ctx context.Context, from int64, hash string, to int64) (Verification, error) {
	v := Verification{Head: hash}
	if from > 0 {
		var stored string
		err := a.db.R.QueryRowContext(ctx, `SELECT hash FROM audit_events WHERE seq = ?`, from).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) {
			return v.broken(from, fmt.Sprintf("the event at seq %d is missing: it had hash %s", from, hash)), nil
		}
		if err != nil {
			return v, fmt.Errorf("db: verify audit chain after %d: %w", from, err)
		}
		if stored != hash {
			return v.broken(from, fmt.Sprintf("the event at seq %d was changed: it had hash %s", from, hash)), nil
		}
	} else if hash != GenesisHash {
		return v.broken(1, "the checkpoint of the empty log does not name the genesis hash"), nil
	}
	if to <= from {
		return v, nil
	}
	res, err := a.verifyRange(ctx, from+1, to, nil)
	if err != nil {
		return v, fmt.Errorf("db: verify audit chain after %d: %w", from, err)
	}
	v.Events, v.Head = res.verified-from, res.head
	if res.brokenAt != 0 {
		return v.broken(res.brokenAt, res.problem), nil
	}
	return v, nil
}
