package web

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"payoutdesk/db"
)

// checkpointPaths returns where the signing key and the checkpoint file of
// the database at dbPath (absolute) live: as configured, else next to it.
func checkpointPaths(cfg Config, dbPath string) (key, file string) {
	key, file = cfg.CheckpointKey, cfg.CheckpointFile
	if key == "" {
		key = dbPath + ".checkpoint-key"
	}
	if file == "" {
		file = dbPath + ".checkpoints"
	}
	return key, file
}

// loadSigningKey reads the Ed25519 checkpoint key, creating it (mode 0600,
// with its public half beside it in KEY.pub) if it does not exist. The key
// never goes into the database: whoever can rewrite the database must not
// be able to sign a matching checkpoint.
func loadSigningKey(path string) (ed25519.PrivateKey, error) {
	key, _, err := readKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createSigningKey(path)
	}
	if err == nil && key == nil {
		err = fmt.Errorf("checkpoint key %s: a public key cannot sign", path)
	}
	return key, err
}

// readKey reads a checkpoint key file (PEM): a private key (PKCS#8), or a
// public key (PKIX), which only verifies and leaves key nil.
func readKey(path string) (key ed25519.PrivateKey, pub ed25519.PublicKey, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, nil, fmt.Errorf("checkpoint key %s: no PEM block", path)
	}
	var k any
	if block.Type == "PUBLIC KEY" {
		k, err = x509.ParsePKIXPublicKey(block.Bytes)
	} else {
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint key %s: %w", path, err)
	}
	switch k := k.(type) {
	case ed25519.PrivateKey:
		return k, k.Public().(ed25519.PublicKey), nil
	case ed25519.PublicKey:
		return nil, k, nil
	}
	return nil, nil, fmt.Errorf("checkpoint key %s: not an Ed25519 key", path)
}

func createSigningKey(path string) (ed25519.PrivateKey, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create checkpoint key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, fmt.Errorf("write checkpoint key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write checkpoint key: %w", err)
	}
	if err := writePublicKey(path+".pub", pub, os.O_TRUNC); err != nil {
		return nil, err
	}
	return key, nil
}

// writePublicKey writes pub as PEM to path, opened with flag added to
// create-and-write.
func writePublicKey(path string, pub ed25519.PublicKey, flag int) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|flag, 0o644)
	if err != nil {
		return fmt.Errorf("write checkpoint public key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PUBLIC KEY", Bytes: der}); err != nil {
		f.Close()
		return fmt.Errorf("write checkpoint public key: %w", err)
	}
	return f.Close()
}

// CopyCheckpoints writes, beside a backup at dest whose audit log ends at
// seq head, what proves it on its own: the checkpoints of the database at
// dbPath (absolute) that it covers, to DEST.checkpoints, and the public
// half of their key, to DEST.checkpoint-key.pub. The original's file grows
// with each checkpoint it signs after the backup, which would make the copy
// look cut short. It returns how many checkpoints it copied (0: no files).
func CopyCheckpoints(cfg Config, dbPath, dest string, head int64) (int, error) {
	keyPath, filePath := checkpointPaths(cfg, dbPath)
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
	_, pub, err := readKey(keyPath)
	if err != nil {
		return 0, err
	}
	if err := writePublicKey(dest+".checkpoint-key.pub", pub, os.O_EXCL); err != nil {
		return 0, err
	}
	if err := writeSynced(dest+".checkpoints", os.O_WRONLY|os.O_CREATE|os.O_EXCL, lines); err != nil {
		return 0, err
	}
	return n, nil
}

// checkpointer signs the audit chain's head every Every events and at
// least daily, storing each checkpoint in the database and appending it to
// the checkpoint file.
type checkpointer struct {
	audit *db.Audit
	key   ed25519.PrivateKey
	file  string
	every int64
	now   func() time.Time
}

// newCheckpointer returns the checkpointer of the open database d, with
// the key and file of cfg; the key is created if absent.
func newCheckpointer(cfg Config, d *db.DB, now func() time.Time) (*checkpointer, error) {
	keyPath, file := checkpointPaths(cfg, d.Path)
	key, err := loadSigningKey(keyPath)
	if err != nil {
		return nil, err
	}
	return &checkpointer{audit: db.NewAudit(d), key: key, file: file, every: max(cfg.CheckpointEvery, 1), now: now}, nil
}

// daily is the longest time between two checkpoints while events arrive.
const daily = 24 * time.Hour

// run makes a checkpoint if one is due, and reports 1 if it made one.
func (c *checkpointer) run(ctx context.Context) (int, error) {
	seq, hash, err := c.audit.Head(ctx)
	if err != nil || seq == 0 {
		return 0, err
	}
	last, err := c.audit.LastCheckpoint(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return 0, err
	}
	due := seq-last.Seq >= c.every || (seq > last.Seq && c.now().Sub(last.At) >= daily)
	if !due {
		return 0, nil
	}
	if _, err := c.sign(ctx, seq, hash); err != nil {
		return 0, err
	}
	return 1, nil
}

// sign signs the head (seq, hash), appends the checkpoint to the file and
// stores it.
func (c *checkpointer) sign(ctx context.Context, seq int64, hash string) (db.Checkpoint, error) {
	cp := db.SignCheckpoint(c.key, seq, hash, c.now())
	// The file is created with the first checkpoint only. After that a
	// missing file is lost or moved, and a new one in its place would hide
	// that from verification.
	last, err := c.audit.LastCheckpoint(ctx)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return cp, err
	}
	flags := os.O_WRONLY | os.O_APPEND
	if errors.Is(err, db.ErrNotFound) {
		flags |= os.O_CREATE
	}
	// The file first: a checkpoint in the database only is the weaker copy.
	if err := writeSynced(c.file, flags, cp.Line()); err != nil {
		if errors.Is(err, fs.ErrNotExist) && flags&os.O_CREATE == 0 {
			return cp, fmt.Errorf("the database holds checkpoints up to seq %d, but their file is missing; restore it: %w", last.Seq, err)
		}
		return cp, err
	}
	return cp, c.audit.AddCheckpoint(ctx, cp)
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

// writeSynced writes b to a file, opened with flags, and syncs it.
func writeSynced(path string, flags int, b []byte) error {
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return fmt.Errorf("checkpoint file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint file: %w", err)
	}
	return f.Close()
}

// VerifyAudit recomputes the audit chain of d and checks it against the
// checkpoints in the checkpoint file of cfg and in the database, with the
// public half of cfg's checkpoint key. A missing checkpoint file is an
// error once the database holds checkpoints; before the first, it means
// fewer checks, said in the returned note.
func VerifyAudit(ctx context.Context, d *db.DB, cfg Config) (v db.Verification, note string, err error) {
	keyPath, filePath := checkpointPaths(cfg, d.Path)
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
		return v, "", fmt.Errorf("the database holds signed checkpoints, the last at seq %d, but their file is missing: %w", stored[len(stored)-1].Seq, err)
	case errors.Is(err, fs.ErrNotExist):
		note = "no checkpoint file at " + filePath + " and none in the database: the chain is checked against itself only"
	case err != nil:
		return v, "", err
	default:
		o.Checkpoints = mergeCheckpoints(fromFile, stored)
	}
	if len(o.Checkpoints) > 0 {
		if _, o.PublicKey, err = readKey(keyPath); err != nil {
			return v, "", err
		}
	}
	v, err = audit.VerifyWith(ctx, o)
	return v, note, err
}

// CheckpointNow signs the audit chain's current head at once, with the key
// and file of cfg (the key is created if absent), whether or not one is due.
func CheckpointNow(ctx context.Context, d *db.DB, cfg Config) (db.Checkpoint, error) {
	c, err := newCheckpointer(cfg, d, time.Now)
	if err != nil {
		return db.Checkpoint{}, err
	}
	seq, hash, err := c.audit.Head(ctx)
	if err != nil {
		return db.Checkpoint{}, err
	}
	if seq == 0 {
		return db.Checkpoint{}, errors.New("the audit log is empty: there is nothing to sign yet")
	}
	return c.sign(ctx, seq, hash)
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
