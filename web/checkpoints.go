package web

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"payoutdesk/db"
)

// checkpointPaths returns where the signing key, its key ring and the
// checkpoint file of the database at dbPath (absolute) live: as
// configured, else next to it (the ring next to the key).
func checkpointPaths(cfg Config, dbPath string) (key, ring, file string) {
	key, ring, file = cfg.CheckpointKey, cfg.CheckpointKeyRing, cfg.CheckpointFile
	if key == "" {
		key = dbPath + ".checkpoint-key"
	}
	if ring == "" {
		ring = key + ".pub"
	}
	if file == "" {
		file = dbPath + ".checkpoints"
	}
	return key, ring, file
}

// The public half of every key that has signed a database's checkpoints
// is kept in the key ring KEY.pub, one PEM block each, so that checkpoints
// signed before the key was replaced (lost, or moved away to rotate it)
// are still proven. A key that is replaced while the database holds
// checkpoints is an audit event.

// loadSigningKey reads the Ed25519 checkpoint key, creating it (mode 0600)
// if it does not exist; created reports that. The key never goes into the
// database: whoever can rewrite the database must not be able to sign a
// matching checkpoint.
func loadSigningKey(path string) (key ed25519.PrivateKey, created bool, err error) {
	key, _, err = readKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createSigningKey(path)
		return key, err == nil, err
	}
	if err == nil && key == nil {
		err = fmt.Errorf("checkpoint key %s: a public key cannot sign", path)
	}
	return key, false, err
}

// keyRing is what a key file holds: public keys and, for each key retired
// (replaced by another), the last seq its checkpoints may name. A retired
// key that leaked must not vouch for a history rewritten after it.
type keyRing struct {
	keys    []ed25519.PublicKey
	retired map[string]int64
}

// retiredHeader marks a ring's block of a retired key with its last seq.
const retiredHeader = "Retired-After-Seq"

// index returns where the key with the given ID is in the ring, or -1.
func (r keyRing) index(id string) int {
	return slices.IndexFunc(r.keys, func(k ed25519.PublicKey) bool { return db.KeyID(k) == id })
}

// has reports whether the ring holds the key with the given ID.
func (r keyRing) has(id string) bool { return r.index(id) >= 0 }

// add adds what more holds to r.
func (r *keyRing) add(more keyRing) {
	for _, k := range more.keys {
		if !r.has(db.KeyID(k)) {
			r.keys = append(r.keys, k)
		}
	}
	for id, seq := range more.retired {
		r.retire(id, seq)
	}
}

// retire records that key id signs nothing after seq; the lowest such seq
// holds.
func (r *keyRing) retire(id string, seq int64) {
	if r.retired == nil {
		r.retired = map[string]int64{}
	}
	if cur, ok := r.retired[id]; !ok || seq < cur {
		r.retired[id] = seq
	}
}

// encode writes the ring as PEM, one block per key, retired keys with
// their last seq.
func (r keyRing) encode() ([]byte, error) {
	var b []byte
	for _, k := range r.keys {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return nil, err
		}
		block := &pem.Block{Type: "PUBLIC KEY", Bytes: der}
		if seq, ok := r.retired[db.KeyID(k)]; ok {
			block.Headers = map[string]string{retiredHeader: strconv.FormatInt(seq, 10)}
		}
		b = append(b, pem.EncodeToMemory(block)...)
	}
	return b, nil
}

// readKey reads a checkpoint key file (PEM): a private key (PKCS#8), or a
// key ring of public keys (PKIX), which only verify and leave key nil.
// ring holds the private key's public half, or the ring. Anything in the
// file that is not a whole key is refused: a ring is only ever appended
// to, so that is damage.
func readKey(path string) (key ed25519.PrivateKey, ring keyRing, err error) {
	rest, err := os.ReadFile(path)
	if err != nil {
		return nil, ring, fmt.Errorf("checkpoint key: %w", err)
	}
	damaged := func(what string) (ed25519.PrivateKey, keyRing, error) {
		return nil, keyRing{}, fmt.Errorf("checkpoint key %s: %s", path, what)
	}
	for len(bytes.TrimSpace(rest)) > 0 {
		block, after := pem.Decode(rest)
		// pem.Decode skips text before a block, and a block it cannot
		// read up to the next one: the bytes it took must be one block.
		took := bytes.TrimSpace(rest[:len(rest)-len(after)])
		if block == nil || !bytes.HasPrefix(took, []byte("-----BEGIN ")) || bytes.Count(took, []byte("-----BEGIN ")) != 1 {
			return damaged("it holds something that is not a whole key")
		}
		rest = after
		var k any
		if block.Type == "PUBLIC KEY" {
			k, err = x509.ParsePKIXPublicKey(block.Bytes)
		} else {
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		}
		if err != nil {
			return nil, keyRing{}, fmt.Errorf("checkpoint key %s: %w", path, err)
		}
		switch k := k.(type) {
		case ed25519.PrivateKey:
			if key != nil || len(ring.keys) > 0 {
				return damaged("a private key must be alone in its file")
			}
			key = k
			ring.keys = append(ring.keys, k.Public().(ed25519.PublicKey))
		case ed25519.PublicKey:
			if key != nil {
				return damaged("a private key must be alone in its file")
			}
			ring.add(keyRing{keys: []ed25519.PublicKey{k}})
			if v, ok := block.Headers[retiredHeader]; ok {
				seq, err := strconv.ParseInt(v, 10, 64)
				if err != nil || seq < 0 {
					return damaged(fmt.Sprintf("%s %q is not a sequence number", retiredHeader, v))
				}
				ring.retire(db.KeyID(k), seq)
			}
		default:
			return damaged("not an Ed25519 key")
		}
	}
	if len(ring.keys) == 0 {
		return damaged("no PEM block")
	}
	return key, ring, nil
}

// trustedKeys returns the key ring that verifies checkpoints: the keys of
// the key file at path and of the key ring at ringPath (none if it is
// path itself). One of the two may be missing, so that the key ring alone
// verifies; both missing is an error wrapping fs.ErrNotExist.
func trustedKeys(path, ringPath string) (keyRing, error) {
	_, ring, err := readKey(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return keyRing{}, err
	}
	if ringPath == path {
		return ring, err
	}
	_, more, ringErr := readKey(ringPath)
	switch {
	case errors.Is(ringErr, fs.ErrNotExist) && err != nil:
		return keyRing{}, err
	case ringErr != nil && !errors.Is(ringErr, fs.ErrNotExist):
		return keyRing{}, ringErr
	}
	ring.add(more)
	return ring, nil
}

func createSigningKey(path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := writeSynced(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600, b); err != nil {
		return nil, fmt.Errorf("create checkpoint key: %w", err)
	}
	return key, nil
}

// addToKeyRing appends pub to the key ring at path, creating it, unless
// the ring holds it already.
func addToKeyRing(path string, pub ed25519.PublicKey) error {
	_, ring, err := readKey(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if ring.has(db.KeyID(pub)) {
		return nil
	}
	b, err := keyRing{keys: []ed25519.PublicKey{pub}}.encode()
	if err != nil {
		return err
	}
	return writeSynced(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644, b)
}

// retireInKeyRing records in the key ring at path that key id signs
// nothing after seq, by appending its block again with that seq. A ring
// without the key (lost) or that already says so is left as it is.
func retireInKeyRing(path, id string, seq int64) error {
	_, ring, err := readKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	i := ring.index(id)
	if cur, ok := ring.retired[id]; ok && cur <= seq || i < 0 {
		return nil
	}
	b, err := keyRing{keys: ring.keys[i : i+1], retired: map[string]int64{id: seq}}.encode()
	if err != nil {
		return err
	}
	return writeSynced(path, os.O_WRONLY|os.O_APPEND, 0o644, b)
}

// CopyCheckpoints writes, beside a backup at dest whose audit log ends at
// seq head, what proves it on its own: the checkpoints of the database at
// dbPath (absolute) that it covers, to DEST.checkpoints, and the public
// halves of the trusted keys, to DEST.checkpoint-key.pub. The original's file grows
// with each checkpoint it signs after the backup, which would make the copy
// look cut short. It returns how many checkpoints it copied (0: no files).
func CopyCheckpoints(cfg Config, dbPath, dest string, head int64) (int, error) {
	keyPath, ringPath, filePath := checkpointPaths(cfg, dbPath)
	all, err := readCheckpointFile(filePath)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var lines []byte
	n := 0
	for _, c := range all {
		if c.Seq <= head {
			lines = append(lines, c.Line()...)
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	keys, err := trustedKeys(keyPath, ringPath)
	if err != nil {
		return 0, err
	}
	ring, err := keys.encode()
	if err != nil {
		return 0, err
	}
	if err := writeSynced(dest+".checkpoint-key.pub", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644, ring); err != nil {
		return 0, err
	}
	if err := writeSynced(dest+".checkpoints", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644, lines); err != nil {
		return 0, err
	}
	return n, nil
}

// checkpointer signs the audit chain's head every Every events and at
// least daily, storing each checkpoint in the database and appending it to
// the checkpoint file.
type checkpointer struct {
	audit   *db.Audit
	log     *slog.Logger
	key     ed25519.PrivateKey
	keyID   string
	keyPath string
	ring    string // the key ring, KEY.pub
	file    string
	every   int64
	now     func() time.Time
	// reported is the last refusal reported, so that each is reported once.
	reported string
	// seenSeq and seenHash are the head when run last found the log
	// intact: events after the last checkpoint are signed by nothing yet,
	// but a running server notices if one it saw is changed or cut off.
	seenSeq  int64
	seenHash string
	// trusted is the last checkpoint whose signature was checked.
	trusted db.Checkpoint
	// fileLast is the newest checkpoint in the file: read at start, then
	// the one signed last. The database's rows are the weaker copy, and
	// with them deleted the next checkpoint would otherwise be reckoned
	// from the genesis and vouch for a history rewritten meanwhile.
	fileLast db.Checkpoint
	// refused is set from a refusal until the next checkpoint is signed,
	// for the metrics: a break in the log is something to be woken for.
	refused atomic.Bool
}

// newCheckpointer returns the checkpointer of the open database d, with
// the key and file of cfg: the key is created if absent, and its public
// half added to the key ring. If the database's last checkpoint names
// another key, the change is audited; warnings, for the log, say what it
// means for verification.
func newCheckpointer(ctx context.Context, cfg Config, d *db.DB, log *slog.Logger, now func() time.Time) (c *checkpointer, warnings []string, err error) {
	keyPath, ringPath, file := checkpointPaths(cfg, d.Path)
	key, created, err := loadSigningKey(keyPath)
	if err != nil {
		return nil, nil, err
	}
	pub := key.Public().(ed25519.PublicKey)
	id := db.KeyID(pub)
	c = &checkpointer{audit: db.NewAudit(d), log: log, key: key, keyID: id, keyPath: keyPath, ring: ringPath, file: file, every: max(cfg.CheckpointEvery, 1), now: now}
	// A key mounted read-only, from a secret store say, must still sign:
	// its checkpoints are then verified with the key itself.
	if err := addToKeyRing(c.ring, pub); err != nil {
		warnings = append(warnings, fmt.Sprintf("checkpoint key %s is not in the key ring: %v", id, err))
	}
	// A file that cannot be read is for verification to report; signing
	// goes on, from the database's checkpoints.
	switch inFile, err := readCheckpointFile(file); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		warnings = append(warnings, fmt.Sprintf("checkpoint file: %v", err))
	default:
		for _, cp := range inFile {
			if cp.Seq >= c.fileLast.Seq {
				c.fileLast = cp
			}
		}
	}
	last, err := c.lastCheckpoint(ctx)
	if err != nil {
		return nil, nil, err
	}
	if last.KeyID == "" || last.KeyID == id {
		return c, warnings, nil
	}
	// A damaged ring must not stop payouts: verification will say it.
	ring, err := trustedKeys(keyPath, ringPath)
	if err != nil {
		warnings = append(warnings, fmt.Sprintf("checkpoint key ring: %v", err))
	}
	kept := ring.has(last.KeyID)
	err = c.audit.Record(ctx, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "audit.checkpoint_key_changed",
		TargetType: "checkpoint_key", TargetID: id, Details: map[string]any{
			"previous_key_id": last.KeyID, "last_checkpoint_seq": last.Seq, "key_file_was_missing": created, "previous_key_in_ring": kept}})
	if err != nil {
		return nil, nil, err
	}
	msg := fmt.Sprintf("checkpoint key changed: checkpoints up to seq %d were signed by key %s, new ones by %s", last.Seq, last.KeyID, id)
	if created {
		msg += " (the key file was missing, so a new key was made)"
	}
	if !kept {
		msg += fmt.Sprintf("; key %s is not in the key ring %s, so its checkpoints cannot be proven until its public half is added there", last.KeyID, ringPath)
	}
	return c, append(warnings, msg), nil
}

// daily is the longest time between two checkpoints while events arrive.
const daily = 24 * time.Hour

// run makes a checkpoint if one is due, and reports 1 if it made one.
func (c *checkpointer) run(ctx context.Context) (int, error) {
	seq, hash, err := c.audit.Head(ctx)
	if err != nil {
		return 0, err
	}
	last, err := c.lastCheckpoint(ctx)
	if err != nil {
		return 0, err
	}
	if c.seenSeq > 0 {
		v, err := c.audit.VerifySince(ctx, c.seenSeq, c.seenHash, c.seenSeq)
		if err != nil {
			return 0, err
		}
		if !v.OK() {
			return 0, c.refuse(ctx, last, refusal{seq: v.BrokenAt, problem: v.Problem})
		}
	}
	// The next checkpoint is reckoned from the last: one inserted by
	// hand, at a seq far ahead say, must not stop the signing unnoticed.
	if err := c.trust(last); err != nil {
		return 0, c.refuse(ctx, last, err)
	}
	if seq == 0 {
		return 0, nil
	}
	c.seenSeq, c.seenHash = seq, hash
	// A new key signs at once, so that the change is itself proven. A
	// head behind the last checkpoint is checked at once, and refused.
	renewed := last.KeyID != "" && last.KeyID != c.keyID
	due := seq-last.Seq >= c.every || seq < last.Seq || (seq > last.Seq && c.now().Sub(last.At) >= daily) || renewed
	if !due {
		return 0, nil
	}
	if err := c.check(ctx, last, seq, hash); err != nil {
		return 0, c.refuse(ctx, last, err)
	}
	if _, err := c.sign(ctx, seq, hash, last); err != nil {
		return 0, err
	}
	c.refused.Store(false)
	return 1, nil
}

// ErrCheckpointRefused marks a head the checkpointer would not sign: the
// history since the last checkpoint does not descend from it.
var ErrCheckpointRefused = errors.New("checkpoint refused")

// refusal is why a head was not signed: the seq where the history breaks,
// and how. It names nothing that changes as events are appended, so that
// the same break is reported once.
type refusal struct {
	seq     int64
	problem string
}

func (r refusal) Error() string {
	return fmt.Sprintf("checkpoint refused: the audit log is broken at seq %d: %s", r.seq, r.problem)
}

func (r refusal) Unwrap() error { return ErrCheckpointRefused }

// check makes sure that the head (seq, hash) descends from last, the
// newest checkpoint: a checkpoint signed without looking would vouch for
// whatever the database holds, a tail rewritten with recomputed hashes or
// cut off and appended to again included.
func (c *checkpointer) check(ctx context.Context, last db.Checkpoint, seq int64, hash string) error {
	if err := c.trust(last); err != nil {
		return err
	}
	from, fromHash := last.Seq, last.Hash
	if last.KeyID == "" {
		from, fromHash = 0, db.GenesisHash
	}
	v, err := c.audit.VerifySince(ctx, from, fromHash, seq)
	switch {
	case err != nil:
		return err
	case !v.OK():
		return refusal{seq: v.BrokenAt, problem: v.Problem}
	case v.Head != hash:
		return refusal{seq: seq, problem: "the head's hash changed while it was checked"}
	}
	return nil
}

// trust checks that last, the newest checkpoint of the database's and the
// file's (none if it has no KeyID), is validly signed by a key of the key
// ring, or by the signing key, that was not retired before its seq: the
// database is what this guards against, so a row in it proves nothing by
// itself.
func (c *checkpointer) trust(last db.Checkpoint) error {
	if last.KeyID == "" || last == c.trusted {
		return nil
	}
	// A damaged ring still leaves the signing key to check with.
	ring, ringErr := trustedKeys(c.keyPath, c.ring)
	ring.add(keyRing{keys: []ed25519.PublicKey{c.key.Public().(ed25519.PublicKey)}})
	if seq, problem := (db.VerifyOptions{Keys: ring.keys, RetiredAfter: ring.retired}).Distrust(last); problem != "" {
		if ringErr != nil {
			problem += fmt.Sprintf(" (the key ring: %v)", ringErr)
		}
		return refusal{seq: seq, problem: "the last checkpoint cannot be trusted: " + problem}
	}
	c.trusted = last
	return nil
}

// refuse reports a refused checkpoint, once for each cause: in the log and
// as a failed audit event, which the audit log shows (the event is
// appended after the break and changes nothing the check looked at). It
// returns err unless it is a refusal reported here.
func (c *checkpointer) refuse(ctx context.Context, last db.Checkpoint, err error) error {
	var r refusal
	if !errors.As(err, &r) {
		return err
	}
	c.refused.Store(true)
	if r.Error() == c.reported {
		return nil
	}
	c.log.ErrorContext(ctx, "audit checkpoint refused", "broken_at", r.seq, "problem", r.problem, "last_checkpoint_seq", last.Seq)
	err = c.audit.Record(ctx, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "audit.checkpoint_refused", Outcome: db.OutcomeFailure,
		TargetType: "audit_event", TargetID: strconv.FormatInt(r.seq, 10),
		Details: map[string]any{"broken_at": r.seq, "problem": r.problem, "last_checkpoint_seq": last.Seq}})
	if err != nil {
		return fmt.Errorf("%w (and it could not be audited: %w)", r, err)
	}
	c.reported = r.Error()
	return nil
}

// lastCheckpoint returns the newest checkpoint, of the database's and the
// file's; a zero one (no KeyID) when there is none yet.
func (c *checkpointer) lastCheckpoint(ctx context.Context) (db.Checkpoint, error) {
	last, err := c.audit.LastCheckpoint(ctx)
	switch {
	case errors.Is(err, db.ErrNotFound):
		last = db.Checkpoint{}
	case err != nil:
		return last, err
	}
	if c.fileLast.Seq > last.Seq {
		return c.fileLast, nil
	}
	return last, nil
}

// sign signs the head (seq, hash), appends the checkpoint to the file and
// stores it; last is the newest checkpoint so far (see lastCheckpoint).
func (c *checkpointer) sign(ctx context.Context, seq int64, hash string, last db.Checkpoint) (db.Checkpoint, error) {
	cp := db.SignCheckpoint(c.key, seq, hash, c.now())
	// The file is created with the first checkpoint only. After that a
	// missing file is lost or moved, and a new one in its place would hide
	// that from verification.
	flags := os.O_WRONLY | os.O_APPEND
	if last.KeyID == "" {
		flags |= os.O_CREATE
	}
	// The first checkpoint of a new key retires the old one: from now on
	// it vouches for nothing after its last checkpoint, which last is.
	// Before the new checkpoint is anywhere: once it is in the file, the
	// next start reckons from it and would not retire the old key again,
	// whereas a stop in between just retires it again (a no-op) and signs.
	// Not fatal, as a ring on a read-only mount must not stop the signing.
	var retireErr error
	if last.KeyID != "" && last.KeyID != cp.KeyID {
		if err := retireInKeyRing(c.ring, last.KeyID, last.Seq); err != nil {
			retireErr = fmt.Errorf("checkpoint at seq %d signed, but key %s could not be marked retired in the key ring: %w", seq, last.KeyID, err)
		}
	}
	// The file first: a checkpoint in the database only is the weaker copy.
	if err := writeSynced(c.file, flags, 0o644, cp.Line()); err != nil {
		if errors.Is(err, fs.ErrNotExist) && flags&os.O_CREATE == 0 {
			return cp, fmt.Errorf("the database holds checkpoints up to seq %d, but their file is missing; restore it: %w", last.Seq, err)
		}
		return cp, err
	}
	// Signed here: the next run need not check its signature from disk.
	c.fileLast, c.trusted = cp, cp
	return cp, errors.Join(c.audit.AddCheckpoint(ctx, cp), retireErr)
}

// readCheckpointFile reads the checkpoints of a checkpoint file; a missing
// file's error is fs.ErrNotExist.
func readCheckpointFile(path string) ([]db.Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return db.ReadCheckpoints(f)
}

// writeSynced writes b to a file, opened with flags (and perm, if created),
// and syncs it.
func writeSynced(path string, flags int, perm fs.FileMode, b []byte) error {
	f, err := os.OpenFile(path, flags, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}

// VerifyAudit recomputes the audit chain of d and checks it against the
// checkpoints in the checkpoint file of cfg and in the database, with the
// public half of cfg's checkpoint key. A missing checkpoint file is an
// error once the database holds checkpoints; before the first, it means
// fewer checks, said in the returned note.
func VerifyAudit(ctx context.Context, d *db.DB, cfg Config) (v db.Verification, note string, err error) {
	keyPath, ringPath, filePath := checkpointPaths(cfg, d.Path)
	audit := db.NewAudit(d)
	var o db.VerifyOptions
	stored, err := audit.Checkpoints(ctx)
	if err != nil {
		return v, "", err
	}
	o.Checkpoints = stored
	fromFile, err := readCheckpointFile(filePath)
	switch {
	case errors.Is(err, fs.ErrNotExist) && len(stored) > 0:
		// Every checkpoint reaches the file before the database, so the
		// file went missing: a history rewritten along with the database's
		// own checkpoints would pass without it.
		return v, "", db.CannotVerify(fmt.Errorf("the database holds signed checkpoints, the last at seq %d, but their file is missing: %w", stored[len(stored)-1].Seq, err))
	case errors.Is(err, fs.ErrNotExist):
		note = "no checkpoint file at " + filePath + " and none in the database: the chain is checked against itself only"
	case err != nil:
		return v, "", db.CannotVerify(err)
	default:
		o.Checkpoints = mergeCheckpoints(fromFile, stored)
	}
	if len(o.Checkpoints) > 0 {
		ring, err := trustedKeys(keyPath, ringPath)
		if err != nil {
			return v, "", db.CannotVerify(err)
		}
		o.Keys, o.RetiredAfter = ring.keys, ring.retired
	}
	v, err = audit.VerifyWith(ctx, o)
	return v, note, err
}

// CheckpointNow signs the audit chain's current head at once, with the key
// and file of cfg (the key is created if absent), whether or not one is due.
// warnings say whether the key changed since the last checkpoint, and what
// that means for verification.
func CheckpointNow(ctx context.Context, d *db.DB, cfg Config) (cp db.Checkpoint, warnings []string, err error) {
	c, warnings, err := newCheckpointer(ctx, cfg, d, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		return cp, nil, err
	}
	seq, hash, err := c.audit.Head(ctx)
	if err != nil {
		return cp, warnings, err
	}
	if seq == 0 {
		return cp, warnings, errors.New("the audit log is empty: there is nothing to sign yet")
	}
	last, err := c.lastCheckpoint(ctx)
	if err != nil {
		return cp, warnings, err
	}
	if err := c.check(ctx, last, seq, hash); err != nil {
		// Audited, and returned for the caller to show.
		return cp, warnings, cmp.Or(c.refuse(ctx, last, err), err)
	}
	cp, err = c.sign(ctx, seq, hash, last)
	return cp, warnings, err
}

// mergeCheckpoints joins the file's checkpoints and the database's. Both
// are checked: one the file lacks is still signed and binding, and one
// that differs between them fails its own check.
func mergeCheckpoints(fromFile, stored []db.Checkpoint) []db.Checkpoint {
	seen := map[db.Checkpoint]bool{}
	var out []db.Checkpoint
	for _, c := range append(fromFile, stored...) {
		c.At = c.At.UTC()
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}
