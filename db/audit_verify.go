package db

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"zombiezen.com/go/sqlite"
)

// Verification is the result of recomputing the audit chain.
type Verification struct {
	// Events is how many events were checked.
	Events int64
	// Head is the hash of the last event that checked out.
	Head string
	// Checkpoints is how many signed checkpoints were checked.
	Checkpoints int
	// BrokenAt is the sequence number where the history first breaks, 0 if
	// it does not; Problem says how.
	BrokenAt int64
	Problem  string
}

// OK reports whether the whole chain checked out.
func (v Verification) OK() bool { return v.BrokenAt == 0 }

func (v Verification) String() string {
	if v.OK() {
		s := fmt.Sprintf("ok: %d events, head %s", v.Events, v.Head)
		if v.Checkpoints > 0 {
			s += fmt.Sprintf(", %d signed checkpoints match", v.Checkpoints)
		}
		return s
	}
	return fmt.Sprintf("broken at seq %d: %s", v.BrokenAt, v.Problem)
}

// VerifyOptions adds signed checkpoints to a verification.
type VerifyOptions struct {
	// Checkpoints, typically from the checkpoint file outside the database
	// and from the database, are each checked against the chain.
	Checkpoints []Checkpoint
	// Keys are the trusted public keys: each checkpoint must be validly
	// signed by the one its KeyID names. There are several once a key has
	// been replaced, lost or rotated on purpose.
	Keys []ed25519.PublicKey
	// RetiredAfter holds, for each key replaced by another, the last seq
	// its checkpoints may name: a retired key that leaked must not vouch
	// for a history rewritten after it. When a key is retired, the newest
	// checkpoint must be signed by a key that is not.
	RetiredAfter map[string]int64
}

// ErrCannotVerify marks a verification that could not run because a file it
// needs (the checkpoint file, a key) is missing, unreadable or malformed.
// That is a finding for whoever asked, not a fault of the server, and not
// proof of a broken history either.
var ErrCannotVerify = errors.New("db: the audit verification could not run")

// CannotVerify marks err as a verification that could not run, keeping its
// message: errors.Is(CannotVerify(err), ErrCannotVerify) holds.
func CannotVerify(err error) error {
	if err == nil {
		return nil
	}
	return cannotVerify{err}
}

type cannotVerify struct{ err error }

func (e cannotVerify) Error() string   { return e.err.Error() }
func (e cannotVerify) Unwrap() []error { return []error{e.err, ErrCannotVerify} }

// Verify recomputes the hash chain. See VerifyWith.
func (a *Audit) Verify(ctx context.Context) (Verification, error) {
	return a.VerifyWith(ctx, VerifyOptions{})
}

// VerifyWith recomputes the hash chain and checks it against signed
// checkpoints. It names the first sequence number where the history
// breaks: an edited row, or one inserted or swapped in (its hash does not
// match), a deleted row (its number is missing), a history rewritten with
// recomputed hashes (a checkpoint's hash does not match), or a cut tail (a
// checkpoint names an event that is gone).
//
// Each event's stored hash is checked against its predecessor's stored
// hash, so the work splits into ranges checked in parallel; every event
// matching means the chain recomputed from the start matches too.
func (a *Audit) VerifyWith(ctx context.Context, o VerifyOptions) (Verification, error) {
	var lo, hi sql.NullInt64
	// Two subqueries: min and max together would make SQLite scan an index.
	if err := a.db.R.QueryRowContext(ctx, `SELECT (SELECT min(seq) FROM audit_events), (SELECT max(seq) FROM audit_events)`).Scan(&lo, &hi); err != nil {
		return Verification{}, fmt.Errorf("db: verify audit chain: %w", err)
	}
	v := Verification{Head: GenesisHash}
	if lo.Valid && lo.Int64 < 1 {
		return v.broken(1, fmt.Sprintf("unexpected sequence number %d", lo.Int64)), nil
	}
	marks := map[int64]bool{}
	for _, c := range o.Checkpoints {
		marks[c.Seq] = true
	}
	var last int64
	// Seq 0 is the genesis: a checkpoint of the empty log names its hash.
	hashes := map[int64]string{0: GenesisHash}
	if hi.Valid {
		res, err := a.verifyParallel(ctx, hi.Int64, marks)
		if err != nil {
			return Verification{}, fmt.Errorf("db: verify audit chain: %w", err)
		}
		if res.brokenAt != 0 {
			v = v.broken(res.brokenAt, res.problem)
		}
		last = res.verified
		for seq, h := range res.marked {
			hashes[seq] = h
		}
		v.Events, v.Head = res.verified, res.head
	}
	return checkCheckpoints(v, last, hashes, o), nil
}

// checkCheckpoints compares the chain, valid up to seq last, with the
// checkpoints, keeping the earliest break found.
func checkCheckpoints(v Verification, last int64, hashes map[int64]string, o VerifyOptions) Verification {
	cps := append([]Checkpoint(nil), o.Checkpoints...)
	sort.Slice(cps, func(i, j int) bool { return cps[i].Seq < cps[j].Seq })
	keys := map[string]ed25519.PublicKey{}
	for _, k := range o.Keys {
		keys[KeyID(k)] = k
	}
	prev := int64(0)
	for _, c := range cps {
		var seq int64
		var problem string
		key, known := keys[c.KeyID]
		upTo, retired := o.RetiredAfter[c.KeyID]
		switch {
		case !known:
			seq, problem = c.Seq, fmt.Sprintf("the checkpoint at seq %d names key %s, which is not a trusted key (%s): it is forged, or its key's public half is missing from the key ring", c.Seq, c.KeyID, keyIDs(o.Keys))
		case !c.Valid(key):
			seq, problem = c.Seq, fmt.Sprintf("the checkpoint at seq %d is not validly signed by key %s (forged or damaged)", c.Seq, c.KeyID)
		case retired && c.Seq > upTo:
			seq, problem = upTo+1, fmt.Sprintf("the checkpoint at seq %d is signed by key %s, which was retired after seq %d: it is forged", c.Seq, c.KeyID, upTo)
		case c.Seq > last && v.OK():
			seq, problem = last+1, fmt.Sprintf("events after seq %d are missing: a signed checkpoint records seq %d with hash %s", last, c.Seq, c.Hash)
		case c.Seq > last:
			continue
		case hashes[c.Seq] != c.Hash:
			seq, problem = prev+1, fmt.Sprintf("history between seq %d and %d was rewritten: the hash at seq %d is not the signed checkpoint's %s", prev+1, c.Seq, c.Seq, c.Hash)
		default:
			v.Checkpoints++
			prev = c.Seq
			continue
		}
		if v.OK() || seq < v.BrokenAt {
			v = v.broken(seq, problem)
		}
	}
	// A key is retired by the first checkpoint of the key after it: if
	// the newest checkpoint is still a retired key's, the newer ones are
	// gone, and with them the proof of what followed.
	if n := len(cps); n > 0 {
		newest := cps[n-1]
		if upTo, retired := o.RetiredAfter[newest.KeyID]; retired && newest.Seq <= upTo {
			seq := upTo + 1
			problem := fmt.Sprintf("the newest checkpoint, at seq %d, is signed by key %s, which was retired after seq %d: the checkpoints of the key that replaced it are missing", newest.Seq, newest.KeyID, upTo)
			if v.OK() || seq < v.BrokenAt {
				v = v.broken(seq, problem)
			}
		}
	}
	return v
}

// keyIDs lists the IDs of keys, for messages.
func keyIDs(keys []ed25519.PublicKey) string {
	if len(keys) == 0 {
		return "none given"
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = KeyID(k)
	}
	return strings.Join(ids, ", ")
}

func (v Verification) broken(seq int64, problem string) Verification {
	v.BrokenAt, v.Problem = seq, problem
	return v
}

type rangeResult struct {
	// verified is the last seq checked before any break; head its hash.
	verified int64
	head     string
	brokenAt int64
	problem  string
	marked   map[int64]string
}

// parallelFrom is the log size from which verification splits the work:
// below it, starting goroutines costs more than it saves.
var parallelFrom int64 = 50_000

// verifyWorkers is how many ranges verification runs at once.
var verifyWorkers = runtime.NumCPU

// verifyParallel checks seqs 1..hi in ranges, one per CPU.
func (a *Audit) verifyParallel(ctx context.Context, hi int64, marks map[int64]bool) (rangeResult, error) {
	workers := min(int64(max(verifyWorkers(), 2)), hi)
	if hi < parallelFrom {
		workers = 1
	}
	results := make([]rangeResult, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		// Never empty: there are no more workers than events.
		from, to := w*hi/workers+1, (w+1)*hi/workers
		wg.Go(func() { results[w], errs[w] = a.verifyRange(ctx, from, to, marks) })
	}
	wg.Wait()
	out := rangeResult{head: GenesisHash, marked: map[int64]string{}}
	for w := range results {
		if errs[w] != nil {
			return out, errs[w]
		}
		r := results[w]
		for k, h := range r.marked {
			out.marked[k] = h
		}
		if out.brokenAt != 0 {
			continue
		}
		out.verified, out.head = max(out.verified, r.verified), r.head
		if r.brokenAt != 0 {
			out.brokenAt, out.problem = r.brokenAt, r.problem
		}
	}
	return out, nil
}

// verifyRange checks the events from..to against their predecessors'
// stored hashes. It reads only seq, canon and hash: the readable columns are
// generated from canon, so checking canon checks them.
//
// It reads through a read-only connection of its own, outside database/sql
// (zombiezen.com/go/sqlite, over the same SQLite library as the driver):
// the driver copies every value of every row into a new Go string, and at
// a million events that copying and its garbage took half of the time.
// Here each row is read into buffers the loop reuses.
func (a *Audit) verifyRange(ctx context.Context, from, to int64, marks map[int64]bool) (rangeResult, error) {
	conn, err := sqlite.OpenConn(a.db.Path, sqlite.OpenReadOnly)
	if err != nil {
		return rangeResult{}, err
	}
	defer conn.Close()
	// As the readers of Open wait for a lock, rather than until the
	// context ends: a verification from the command line has no deadline.
	conn.SetBusyTimeout(busyTimeout)
	conn.SetInterrupt(ctx.Done())
	res := rangeResult{verified: from - 1, head: GenesisHash, marked: map[int64]string{}}
	prev := make([]byte, sha256.Size)
	if from > 1 {
		h, ok, err := storedHash(conn, from-1)
		if err != nil {
			return res, stepError(ctx, err)
		}
		if !ok {
			// The range before reports the missing event; nothing to add here.
			return rangeResult{verified: from - 1, marked: res.marked}, nil
		}
		if prev, err = decodeHash(h); err != nil {
			return rangeResult{verified: from - 1, marked: res.marked}, nil
		}
		res.head = h
	}
	stmt, err := conn.Prepare(`SELECT seq, canon, hash FROM audit_events WHERE seq BETWEEN ? AND ? ORDER BY seq`)
	if err != nil {
		return res, stepError(ctx, err)
	}
	defer stmt.Reset()
	stmt.BindInt64(1, from)
	stmt.BindInt64(2, to)
	// The loop runs once per event: it reuses its buffers rather than
	// allocating, which at millions of events is most of the cost.
	var (
		canon  = make([]byte, 0, 1024)
		stored = make([]byte, 2*sha256.Size+1)
		h      = sha256.New()
		sum    = make([]byte, 0, sha256.Size)
		hash   = make([]byte, sha256.Size)
		prefix []byte
		want   = res.verified + 1
	)
	// setHead records the last verified hash as the range's head, once
	// the range has verified any event (prev holds it).
	setHead := func() {
		if res.verified >= from {
			res.head = hex.EncodeToString(prev)
		}
	}
	fail := func(seq int64, problem string) (rangeResult, error) {
		setHead()
		return res.stop(seq, problem), nil
	}
	for {
		row, err := stmt.Step()
		if err != nil {
			return res, stepError(ctx, err)
		}
		if !row {
			break
		}
		seq := stmt.ColumnInt64(0)
		if seq != want {
			if seq > want {
				return fail(want, fmt.Sprintf("event missing (next stored event is %d)", seq))
			}
			return fail(want, fmt.Sprintf("sequence out of order (found %d)", seq))
		}
		if n := stmt.ColumnLen(1); n > cap(canon) {
			canon = make([]byte, n)
		}
		canon = canon[:stmt.ColumnBytes(1, canon[:cap(canon)])]
		// The encoding names its own seq: a row renumbered without
		// re-encoding is out of place.
		prefix = append(strconv.AppendInt(append(prefix[:0], `["`...), seq, 10), `",`...)
		if !bytes.HasPrefix(canon, prefix) {
			return fail(seq, "the event's encoding does not carry its sequence number")
		}
		h.Reset()
		h.Write(prev)
		h.Write(canon)
		sum = h.Sum(sum[:0])
		// One byte more than a hash holds, to see a longer one.
		if stmt.ColumnBytes(2, stored) != 2*sha256.Size {
			return fail(seq, "hash does not match the event's contents or its predecessor")
		}
		if _, err := hex.Decode(hash, stored[:2*sha256.Size]); err != nil || !bytes.Equal(sum, hash) {
			return fail(seq, "hash does not match the event's contents or its predecessor")
		}
		prev, hash = hash, prev
		res.verified = seq
		if marks[seq] {
			res.marked[seq] = string(stored[:2*sha256.Size])
		}
		want++
	}
	setHead()
	if res.verified < to {
		return fail(res.verified+1, fmt.Sprintf("event missing (the log ends at %d)", res.verified))
	}
	return res, nil
}

// storedHash reads the hash stored for seq, if that event is there.
func storedHash(conn *sqlite.Conn, seq int64) (string, bool, error) {
	stmt, err := conn.Prepare(`SELECT hash FROM audit_events WHERE seq = ?`)
	if err != nil {
		return "", false, err
	}
	defer stmt.Reset()
	stmt.BindInt64(1, seq)
	row, err := stmt.Step()
	if err != nil || !row {
		return "", false, err
	}
	return stmt.ColumnText(0), true, nil
}

// stepError is the context's error when it interrupted the read, so that
// a cancelled verification says so rather than naming an SQLite error.
func stepError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (r rangeResult) stop(seq int64, problem string) rangeResult {
	r.brokenAt, r.problem = seq, problem
	return r
}

func decodeHash(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("malformed hash %q", s)
	}
	return b, nil
}
