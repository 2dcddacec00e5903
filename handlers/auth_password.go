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

	"github.com/gorilla/sessions"

	"payoutdesk/db"
	accountview "payoutdesk/views/account"
)

// PasswordChanger changes a user's own password.
type PasswordChanger interface {
	ChangePassword(ctx context.Context, id int64, current, password string, old []byte, next db.Session, ev db.Event) error
}

// maxPasswordLength bounds a typed password, in characters, as sign-in's
// form does.
const maxPasswordLength = 1024

// PasswordForm shows the form that changes the user's own password (GET
// /account/password): an account made by an administrator starts with a
// password that administrator saw.
func (h *Auth) PasswordForm(w http.ResponseWriter, r *http.Request) {
	render(w, r, h.Log, http.StatusOK, accountview.Password(accountview.PasswordPage{MinLength: db.MinPasswordLength, MaxLength: maxPasswordLength}))
}

// ChangePassword changes the signed-in user's password (POST
// /account/password), given the current one. A wrong one counts against
// the account as a failed sign-in does: a session left open is no way to
// guess it. The user goes on in a new session (the old id, stolen or not,
// no longer works) and their other sessions end.
func (h *Auth) ChangePassword(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r, 16<<10) {
		return
	}
	me, _ := UserFrom(r.Context())
	current, password := r.PostForm.Get("current"), r.PostForm.Get("password")
	page := accountview.PasswordPage{MinLength: db.MinPasswordLength, MaxLength: maxPasswordLength, Errors: newPasswordErrors(current, password, r.PostForm.Get("confirm"))}
	if len(page.Errors) > 0 {
		render(w, r, h.Log, http.StatusUnprocessableEntity, accountview.Password(page))
		return
	}
	c, err := r.Cookie(h.Sessions.CookieName())
	if err != nil || c.Value == "" {
		// Signed in without a cookie: nothing to renew (cannot happen).
		ErrorPage(w, r, http.StatusUnauthorized)
		return
	}
	key := db.AccountThrottleKey(me.Email)
	// One attempt at a time per account, sign-ins to it included, from
	// the lock check to the failure counted.
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
		h.refusePassword(w, r, page, wait, "")
		return
	}
	flash := map[any]any{flashKey("success"): []any{"Your password is changed. Your other sessions, if you had any, are signed out."}}
	id, next, err := h.Sessions.fresh(me, now, flash)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	err = h.Passwords.ChangePassword(r.Context(), me.ID, current, password, hashID(c.Value), next, event(r, "user.password_changed"))
	switch {
	case errors.Is(err, db.ErrBadCredentials):
		ev := event(r, "user.password_change_failed")
		ev.Outcome, ev.TargetType, ev.TargetID = db.OutcomeFailure, "user", strconv.FormatInt(me.ID, 10)
		ev.Details = map[string]any{"email": me.Email, "reason": "the current password did not match"}
		wait, err := h.Logins.Failed(r.Context(), now, []db.Limit{{Key: key, Policy: h.Account}}, ev)
		if err != nil {
			serverError(w, r, h.Log, err)
			return
		}
		h.refusePassword(w, r, page, wait, "This is not your current password.")
		return
	case errors.Is(err, db.ErrChanged):
		page.Errors = map[string]string{"current": "Your password was changed meanwhile, elsewhere or by an administrator, so nothing was changed now."}
		render(w, r, h.Log, http.StatusConflict, accountview.Password(page))
		return
	case err != nil:
		// A disabled or demoted account included: serverError says so.
		serverError(w, r, h.Log, err)
		return
	}
	if err := h.Logins.Succeeded(r.Context(), key); err != nil {
		h.Log.WarnContext(r.Context(), "clear login throttle", slog.Any("error", err))
	}
	http.SetCookie(w, sessions.NewCookie(h.Sessions.CookieName(), id, h.Sessions.options()))
	redirect(w, r, "/")
}

// refusePassword answers a wrong current password (msg), or an account
// locked for wait after too many wrong passwords, its own or sign-ins':
// 422, or 429 while locked.
func (h *Auth) refusePassword(w http.ResponseWriter, r *http.Request, page accountview.PasswordPage, wait time.Duration, msg string) {
	status := http.StatusUnprocessableEntity
	if wait > 0 {
		h.Log.InfoContext(r.Context(), "password change throttled", "ip", RequestInfoFrom(r.Context()).IP)
		status = http.StatusTooManyRequests
		msg = strings.TrimSpace(msg + fmt.Sprintf(" Too many wrong passwords for this account: try again in %d s.", seconds(wait)))
		w.Header().Set("Retry-After", strconv.Itoa(seconds(wait)))
	}
	page.Errors = map[string]string{"current": msg}
	render(w, r, h.Log, status, accountview.Password(page))
}

// newPasswordErrors checks the change-password form before any password
// is compared: by field, what to put right.
func newPasswordErrors(current, password, confirm string) map[string]string {
	errs := map[string]string{}
	switch {
	case current == "":
		errs["current"] = "Enter your current password."
	case utf8.RuneCountInString(current) > maxPasswordLength:
		errs["current"] = fmt.Sprintf("Use at most %d characters.", maxPasswordLength)
	}
	switch problem := db.PasswordProblem(password); {
	case password == "":
		errs["password"] = "Enter a new password."
	case problem != "":
		errs["password"] = upperFirst(problem) + "."
	case utf8.RuneCountInString(password) > maxPasswordLength:
		errs["password"] = fmt.Sprintf("Use at most %d characters.", maxPasswordLength)
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
