package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"payoutdesk/db"
	"payoutdesk/views"
	authview "payoutdesk/views/auth"
)

// Authenticator checks credentials.
type Authenticator interface {
	Authenticate(ctx context.Context, email, password string) (db.User, error)
}

// LoginThrottle counts failed logins per account and per IP.
type LoginThrottle interface {
	Locked(ctx context.Context, now time.Time, keys ...string) (time.Duration, error)
	Failed(ctx context.Context, now time.Time, limits []db.Limit, ev db.Event) (time.Duration, error)
	Succeeded(ctx context.Context, key string) error
}

// Auth signs users in and out.
type Auth struct {
	Log   *slog.Logger
	Users Authenticator
	// Passwords changes a signed-in user's own password.
	Passwords PasswordChanger
	Logins    LoginThrottle
	Sessions  *SessionStore
	// Account and IP limit failed logins per email and per client IP.
	Account, IP db.ThrottlePolicy
	Now         func() time.Time

	gate loginGate
}

type loginForm struct {
	Email    string `form:"email" validate:"required,email,max=254"`
	Password string `form:"password" validate:"required,max=1024"`
	Next     string `form:"next"`
}

// LoginForm shows the sign-in page (GET /login).
func (h *Auth) LoginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := UserFrom(r.Context()); ok {
		redirect(w, r, "/")
		return
	}
	q := r.URL.Query()
	chrome := views.ChromeFrom(r.Context())
	switch {
	case q.Get("unsent") == "1":
		chrome.Flashes = append(chrome.Flashes, views.Flash{Kind: "warning", Message: "Your session had ended, so what you just sent was not done. Sign in again, then send it once more."})
	case q.Get("expired") == "1":
		chrome.Flashes = append(chrome.Flashes, views.Flash{Kind: "info", Message: "Your session expired. Sign in again to continue."})
	case q.Get("signed_out") == "1":
		chrome.Flashes = append(chrome.Flashes, views.Flash{Kind: "success", Message: "You have signed out."})
	}
	render(w, r, h.Log, http.StatusOK, authview.Login(authview.LoginPage{Next: safeNext(q.Get("next"))}))
}

// Login checks the credentials (POST /login). Every failure gets the same
// message, whether the email exists or not.
func (h *Auth) Login(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r, 16<<10) {
		return
	}
	f := loginForm{
		Email:    truncate(strings.TrimSpace(r.PostForm.Get("email")), 320),
		Password: r.PostForm.Get("password"),
		Next:     safeNext(r.PostForm.Get("next")),
	}
	page := authview.LoginPage{Email: f.Email, Next: f.Next}
	if errs := fieldErrors(f); errs != nil {
		page.Error = "Enter your email address and your password."
		if m := errs["email"]; m != "" && f.Email != "" {
			page.Error = "Enter a valid email address."
		}
		render(w, r, h.Log, http.StatusUnprocessableEntity, authview.Login(page))
		return
	}
	ri := RequestInfoFrom(r.Context())
	accountKey, ipKey := db.AccountThrottleKey(f.Email), "ip:"+addressKey(ri.IP)
	// From the lock check to the failure counted, one attempt at a time
	// per account and per IP.
	leave, err := h.gate.enter(r.Context(), accountKey, ipKey)
	if err != nil {
		ErrorPage(w, r, http.StatusServiceUnavailable)
		return
	}
	defer leave()
	now := h.Now()
	wait, err := h.Logins.Locked(r.Context(), now, accountKey, ipKey)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	if wait > 0 {
		h.Log.InfoContext(r.Context(), "login throttled", "ip", ri.IP)
		page.Error = fmt.Sprintf("Too many failed sign-in attempts. Try again in %d s.", seconds(wait))
		w.Header().Set("Retry-After", strconv.Itoa(seconds(wait)))
		render(w, r, h.Log, http.StatusTooManyRequests, authview.Login(page))
		return
	}
	u, err := h.Users.Authenticate(r.Context(), f.Email, f.Password)
	if errors.Is(err, db.ErrBadCredentials) {
		ev := event(r, "auth.login.failed")
		ev.Outcome = db.OutcomeFailure
		ev.Details = map[string]any{"email": truncate(f.Email, 254)}
		wait, err := h.Logins.Failed(r.Context(), now, []db.Limit{{Key: accountKey, Policy: h.Account}, {Key: ipKey, Policy: h.IP}}, ev)
		if err != nil {
			serverError(w, r, h.Log, err)
			return
		}
		page.Error = "Email or password is incorrect."
		status := http.StatusUnprocessableEntity
		if wait > 0 {
			page.Error += fmt.Sprintf(" Too many failed attempts: try again in %d s.", seconds(wait))
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", strconv.Itoa(seconds(wait)))
		}
		render(w, r, h.Log, status, authview.Login(page))
		return
	}
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	ev := event(r.WithContext(WithUser(r.Context(), u)), "auth.login.succeeded")
	ev.TargetType, ev.TargetID = "user", strconv.FormatInt(u.ID, 10)
	if err := h.Sessions.Login(w, r, u, ev); err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	if err := h.Logins.Succeeded(r.Context(), accountKey); err != nil {
		h.Log.WarnContext(r.Context(), "clear login throttle", slog.Any("error", err))
	}
	next := f.Next
	if next == "" {
		next = "/"
	}
	redirect(w, r, next)
}

// Logout ends the session (POST /logout).
func (h *Auth) Logout(w http.ResponseWriter, r *http.Request) {
	ev := event(r, "auth.logout")
	if u, ok := UserFrom(r.Context()); ok {
		ev.TargetType, ev.TargetID = "user", strconv.FormatInt(u.ID, 10)
	}
	if err := h.Sessions.Logout(w, r, ev); err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	redirect(w, r, "/login?signed_out=1")
}

// safeNext keeps a post-login destination only if it is a local path, so
// the login form cannot be used to send people to another site.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/login") {
		return ""
	}
	return next
}

func seconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }
