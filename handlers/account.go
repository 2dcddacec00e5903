package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"payoutdesk/db"
	accountview "payoutdesk/views/account"
)

// PasswordChanger changes a user's own password.
type PasswordChanger interface {
	ChangePassword(ctx context.Context, id int64, current, password string, keep []byte, ev db.Event) error
}

// Account lets signed-in users look after their own account: an account
// made by an administrator starts with a password that administrator saw.
type Account struct {
	Log      *slog.Logger
	Users    PasswordChanger
	Logins   LoginThrottle
	Sessions *SessionStore
	// Limit counts wrong current passwords against the account, as failed
	// sign-ins are: a session left open is not a way to guess it.
	Limit db.ThrottlePolicy
	Now   func() time.Time

	gate loginGate
}

// PasswordForm shows the change-password form (GET /account/password).
func (h *Account) PasswordForm(w http.ResponseWriter, r *http.Request) {
	render(w, r, h.Log, http.StatusOK, accountview.Password(accountview.PasswordPage{MinLength: db.MinPasswordLength}))
}

// ChangePassword changes the signed-in user's password (POST
// /account/password), given the current one, and signs out their other
// sessions.
func (h *Account) ChangePassword(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r, 16<<10) {
		return
	}
	me, _ := UserFrom(r.Context())
	current, password := r.PostForm.Get("current"), r.PostForm.Get("password")
	page := accountview.PasswordPage{MinLength: db.MinPasswordLength, Errors: newPasswordErrors(current, password, r.PostForm.Get("confirm"))}
	if len(page.Errors) > 0 {
		render(w, r, h.Log, http.StatusUnprocessableEntity, accountview.Password(page))
		return
	}
	key := db.AccountThrottleKey(me.Email)
	// From the lock check to the failure counted, one attempt at a time,
	// shared with sign-ins to the same account.
	leave, err := h.gate.enter(r.Context(), key)
	if err != nil {
		ErrorPage(w, r, http.StatusServiceUnavailable)
		return
	}
	defer leave()
	now := h.Now()
	wait, err := h.Logins.Locked(r.Context(), now, key)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	if wait > 0 {
		h.refuse(w, r, page, wait, "")
		return
	}
	var keep []byte
	if c, err := r.Cookie(h.Sessions.CookieName()); err == nil {
		keep = hashID(c.Value)
	}
	err = h.Users.ChangePassword(r.Context(), me.ID, current, password, keep, event(r, "user.password_changed"))
	switch {
	case errors.Is(err, db.ErrBadCredentials):
		ev := event(r, "user.password_change_failed")
		ev.Outcome, ev.TargetType, ev.TargetID = db.OutcomeFailure, "user", strconv.FormatInt(me.ID, 10)
		ev.Details = map[string]any{"email": me.Email, "reason": "the current password did not match"}
		wait, err := h.Logins.Failed(r.Context(), now, []db.Limit{{Key: key, Policy: h.Limit}}, ev)
		if err != nil {
			serverError(w, r, h.Log, err)
			return
		}
		h.refuse(w, r, page, wait, "This is not your current password.")
		return
	case errors.Is(err, db.ErrChanged):
		page.Errors = map[string]string{"current": "Your password was changed meanwhile, elsewhere or by an administrator: type the one you have now."}
		render(w, r, h.Log, http.StatusConflict, accountview.Password(page))
		return
	case errors.Is(err, db.ErrActorDisabled), errors.Is(err, db.ErrActorDemoted):
		ErrorPage(w, r, http.StatusForbidden)
		return
	case err != nil:
		serverError(w, r, h.Log, err)
		return
	}
	if err := h.Logins.Succeeded(r.Context(), key); err != nil {
		h.Log.WarnContext(r.Context(), "clear login throttle", slog.Any("error", err))
	}
	s, err := h.Sessions.Session(r)
	if err == nil {
		AddFlash(s, "success", "Your password is changed. Your other sessions, if you had any, are signed out.")
		err = s.Save(r, w)
	}
	if err != nil {
		// Changed all the same: only the message is lost.
		h.Log.WarnContext(r.Context(), "flash", slog.Any("error", err))
	}
	redirect(w, r, "/")
}

// refuse answers a wrong current password (msg), or an account locked for
// wait after too many: 422, or 429 while locked.
func (h *Account) refuse(w http.ResponseWriter, r *http.Request, page accountview.PasswordPage, wait time.Duration, msg string) {
	status := http.StatusUnprocessableEntity
	if wait > 0 {
		status = http.StatusTooManyRequests
		msg = strings.TrimSpace(msg + fmt.Sprintf(" Too many wrong passwords: try again in %d s.", seconds(wait)))
		w.Header().Set("Retry-After", strconv.Itoa(seconds(wait)))
	}
	page.Errors = map[string]string{"current": msg}
	render(w, r, h.Log, status, accountview.Password(page))
}

// newPasswordErrors checks the change-password form before any password
// is compared: by field, what to put right.
func newPasswordErrors(current, password, confirm string) map[string]string {
	errs := map[string]string{}
	if current == "" {
		errs["current"] = "Enter your current password."
	}
	switch problem := db.PasswordProblem(password); {
	case password == "":
		errs["password"] = "Enter a new password."
	case problem != "":
		errs["password"] = upperFirst(problem) + "."
	case utf8.RuneCountInString(password) > 1024:
		errs["password"] = "Use at most 1024 characters."
	case password == current:
		errs["password"] = "Choose a password other than your current one."
	}
	if errs["password"] == "" && confirm != password {
		errs["confirm"] = "The two new passwords differ: type the same one twice."
	}
	return errs
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
