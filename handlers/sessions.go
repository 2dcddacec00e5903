package handlers

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/sessions"

	"payoutdesk/db"
	"payoutdesk/views"
)

// SessionDB is the storage the session store needs.
type SessionDB interface {
	Get(ctx context.Context, idHash []byte) (db.Session, error)
	Save(ctx context.Context, s db.Session) error
	Touch(ctx context.Context, idHash []byte, at time.Time) error
	Delete(ctx context.Context, idHash []byte) error
	Login(ctx context.Context, oldHash []byte, s db.Session, ev db.Event) error
	End(ctx context.Context, idHash []byte, ev db.Event) (bool, error)
}

// SessionStore is a gorilla/sessions Store that keeps sessions in SQLite.
// The cookie carries only a random 256-bit id; the row is keyed by its
// SHA-256. Sessions end at logout, when their user is disabled, after Idle
// without a request and Absolute after sign-in, whichever comes first.
type SessionStore struct {
	DB       SessionDB
	Idle     time.Duration
	Absolute time.Duration
	// Secure marks the cookie Secure and gives it the __Host- prefix.
	Secure bool
	Now    func() time.Time
}

// sessionKey types the values the store itself puts in Session.Values; they
// describe the row and are never written to it.
type sessionKey int

const (
	keyUser sessionKey = iota
	keyExpired
)

// gorilla keeps flash messages as []any, which gob must know by name to
// read sessions stored by earlier versions (see decodeValues).
func init() { gob.Register([]any{}) }

// touchEvery limits last-seen writes to one a minute per session, so that
// browsing does not cost a durable commit per request; a shorter idle limit
// shortens it (see touchAfter).
const touchEvery = time.Minute

// touchAfter is how stale last-seen may be before a request writes it
// again: touchEvery, or a tenth of the idle limit when that is shorter, so
// that nobody active is signed out for want of a write.
func (st *SessionStore) touchAfter() time.Duration {
	return min(touchEvery, st.Idle/10)
}

// CookieName returns the session cookie's name.
func (st *SessionStore) CookieName() string {
	if st.Secure {
		return "__Host-payoutdesk"
	}
	return "payoutdesk_session"
}

func (st *SessionStore) options() *sessions.Options {
	return &sessions.Options{Path: "/", HttpOnly: true, Secure: st.Secure, SameSite: http.SameSiteLaxMode}
}

// Session returns the request's session.
func (st *SessionStore) Session(r *http.Request) (*sessions.Session, error) {
	return st.Get(r, st.CookieName())
}

// Get returns the request's session, loading it once per request.
func (st *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(st, name)
}

// New loads the session named by the request's cookie, or returns a new one.
// An expired signed-in session is ended (with its audit event) and replaced by
// a new session marked expired.
func (st *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	s := sessions.NewSession(st, name)
	s.Options = st.options()
	s.IsNew = true
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) != 43 {
		return s, nil
	}
	hash := hashID(c.Value)
	row, err := st.DB.Get(r.Context(), hash)
	if errors.Is(err, db.ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	now := st.Now()
	if now.Sub(row.LastSeenAt) > st.Idle || now.Sub(row.CreatedAt) > st.Absolute || row.User.Disabled() {
		if row.UserID == 0 {
			return s, st.DB.Delete(r.Context(), hash)
		}
		ev := db.ExpiryEvent(row.UserID, row.User.Email, row.CreatedAt.Format(db.TimeLayout), row.LastSeenAt.Format(db.TimeLayout))
		ev.Origin = origin(r)
		if _, err := st.DB.End(r.Context(), hash, ev); err != nil {
			return s, err
		}
		s.Values[keyExpired] = true
		return s, nil
	}
	if err := decodeValues(row.Data, s.Values); err != nil {
		return s, fmt.Errorf("session data: %w", err)
	}
	s.ID, s.IsNew = c.Value, false
	if row.UserID != 0 {
		s.Values[keyUser] = row.User
	}
	// A page polling by itself is no sign that anyone is there.
	if now.Sub(row.LastSeenAt) >= st.touchAfter() && r.Header.Get(views.BackgroundHeader) == "" {
		if err := st.DB.Touch(r.Context(), hash, now); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Save writes the session's values and sets the cookie; MaxAge < 0 deletes
// the session. A new session with no values is not stored at all, so
// visitors who never sign in leave no rows behind.
func (st *SessionStore) Save(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	if s.Options != nil && s.Options.MaxAge < 0 {
		if s.ID != "" {
			if err := st.DB.Delete(r.Context(), hashID(s.ID)); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(s.Name(), "", st.expiredOptions()))
		return nil
	}
	data, n, err := encodeValues(s.Values)
	if err != nil {
		return err
	}
	now := st.Now()
	row := db.Session{Data: data, LastSeenAt: now}
	if s.ID == "" {
		if n == 0 {
			return nil
		}
		s.ID = newSessionID()
		row.CreatedAt = now
	}
	row.IDHash = hashID(s.ID)
	if err := st.DB.Save(r.Context(), row); err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(s.Name(), s.ID, st.options()))
	return nil
}

// Login starts a new session for u, replacing the request's session if it
// had one (its id never survives sign-in), and records ev with it.
func (st *SessionStore) Login(w http.ResponseWriter, r *http.Request, u db.User, ev db.Event) error {
	var old []byte
	if c, err := r.Cookie(st.CookieName()); err == nil && c.Value != "" {
		old = hashID(c.Value)
	}
	id, row, err := st.fresh(u, st.Now(), nil)
	if err != nil {
		return err
	}
	if err := st.DB.Login(r.Context(), old, row, ev); err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(st.CookieName(), id, st.options()))
	return nil
}

// fresh makes a new signed-in session for u, holding values: a new id
// (for the cookie, once the row is stored) and its row. It is how sign-in
// starts one, and how a password change replaces the request's, with its
// flash message in values.
func (st *SessionStore) fresh(u db.User, now time.Time, values map[any]any) (id string, row db.Session, err error) {
	data, _, err := encodeValues(values)
	if err != nil {
		return "", db.Session{}, err
	}
	id = newSessionID()
	return id, db.Session{IDHash: hashID(id), UserID: u.ID, Data: data, CreatedAt: now, LastSeenAt: now}, nil
}

// Logout ends the request's session, recording ev, and clears the cookie.
func (st *SessionStore) Logout(w http.ResponseWriter, r *http.Request, ev db.Event) error {
	http.SetCookie(w, sessions.NewCookie(st.CookieName(), "", st.expiredOptions()))
	c, err := r.Cookie(st.CookieName())
	if err != nil || c.Value == "" {
		return nil
	}
	_, err = st.DB.End(r.Context(), hashID(c.Value), ev)
	return err
}

func (st *SessionStore) expiredOptions() *sessions.Options {
	o := st.options()
	o.MaxAge = -1
	return o
}

// SessionUser returns the user signed in to s, if any.
func SessionUser(s *sessions.Session) (db.User, bool) {
	u, ok := s.Values[keyUser].(db.User)
	return u, ok
}

// SessionExpired reports whether the request's session had just expired.
func SessionExpired(s *sessions.Session) bool {
	v, _ := s.Values[keyExpired].(bool)
	return v
}

func newSessionID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// encodeValues encodes the values set by handlers (string keys) as JSON,
// leaving out the store's own. It also returns how many values were
// encoded. The values are flash messages ([]any of strings), which JSON
// gives back as they were; gob would compile its decoder for every request.
func encodeValues(values map[any]any) ([]byte, int, error) {
	out := make(map[string]any)
	for k, v := range values {
		if ks, ok := k.(string); ok {
			out[ks] = v
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, 0, fmt.Errorf("encode session: %w", err)
	}
	return b, len(out), nil
}

func decodeValues(data []byte, into map[any]any) error {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		// Stored by an earlier version, in gob: such sessions are gone
		// within the absolute session lifetime of an upgrade.
		m = nil
		if gerr := gob.NewDecoder(bytes.NewReader(data)).Decode(&m); gerr != nil {
			return err
		}
	}
	for k, v := range m {
		into[k] = v
	}
	return nil
}

// Flash kinds are stored as gorilla flash keys.
var flashKinds = []string{"success", "error", "info", "warning"}

// flashKey is the session value that holds the flash messages of kind.
func flashKey(kind string) string { return "_flash_" + kind }

// AddFlash queues a one-time message for the next page the user sees.
func AddFlash(s *sessions.Session, kind, message string) {
	s.AddFlash(message, flashKey(kind))
}

// PopFlashes removes and returns the queued messages by kind, in order.
func PopFlashes(s *sessions.Session) (kinds, messages []string) {
	for _, k := range flashKinds {
		for _, m := range s.Flashes(flashKey(k)) {
			if ms, ok := m.(string); ok {
				kinds, messages = append(kinds, k), append(messages, ms)
			}
		}
	}
	return kinds, messages
}
