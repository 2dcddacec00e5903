package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"payoutdesk/db"
	"payoutdesk/views/components"
	usersview "payoutdesk/views/users"
)

// UserStore manages accounts.
type UserStore interface {
	List(ctx context.Context) ([]db.User, error)
	Create(ctx context.Context, email, role, password string, ev db.Event) (db.User, error)
	Disable(ctx context.Context, id int64, ev db.Event) error
	ResetPassword(ctx context.Context, id, seen int64, password string, ev db.Event) (wasDisabled bool, err error)
	ChangeRole(ctx context.Context, id, seen int64, role string, ev db.Event) (before string, err error)
	Get(ctx context.Context, id int64) (db.User, error)
}

// Users is the administrators' user management.
type Users struct {
	Log      *slog.Logger
	Store    UserStore
	Sessions *SessionStore
}

type newUserForm struct {
	Email string `form:"email" label:"Email" validate:"required,email,max=254"`
	Role  string `form:"role" label:"Role" validate:"required,oneof=agent manager admin"`
}

// List shows every user and the form to add one (GET /users).
func (h *Users) List(w http.ResponseWriter, r *http.Request) {
	h.renderList(w, r, http.StatusOK, usersview.NewForm{Role: db.RoleAgent})
}

func (h *Users) renderList(w http.ResponseWriter, r *http.Request, status int, form usersview.NewForm) {
	list, err := h.Store.List(r.Context())
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	me, _ := UserFrom(r.Context())
	p := usersview.ListPage{Form: form, Roles: grantableRoles(me.Role)}
	for _, u := range list {
		p.Users = append(p.Users, usersview.Row{ID: u.ID, Email: u.Email, Role: u.Role, Created: u.CreatedAt, Disabled: u.Disabled(), Self: u.ID == me.ID,
			Version: u.Version})
	}
	render(w, r, h.Log, status, usersview.List(p))
}

// grantableRoles lists the roles a user of role may grant: those it holds
// itself or below.
func grantableRoles(role string) []components.Option {
	var out []components.Option
	for _, r := range db.Roles {
		if db.RoleRank(r) <= db.RoleRank(role) {
			out = append(out, components.Option{Value: r, Label: r})
		}
	}
	return out
}

// Create adds a user with a random password shown once (POST /users).
func (h *Users) Create(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r, 16<<10) {
		return
	}
	f := newUserForm{Email: strings.TrimSpace(r.PostForm.Get("email")), Role: r.PostForm.Get("role")}
	errs := fieldErrors(f)
	me, _ := UserFrom(r.Context())
	if problem := db.EmailLookAlike(f.Email); errs == nil && problem != "" {
		errs = map[string]string{"email": "The email " + problem + ": type it again in plain characters."}
	}
	if errs == nil && db.RoleRank(f.Role) > db.RoleRank(me.Role) {
		errs = map[string]string{"role": "You can only grant roles you hold yourself."}
	}
	form := usersview.NewForm{Email: f.Email, Role: f.Role, Errors: errs}
	if errs != nil {
		h.renderList(w, r, http.StatusUnprocessableEntity, form)
		return
	}
	password := db.GeneratePassword()
	u, err := h.Store.Create(r.Context(), f.Email, f.Role, password, event(r, "user.created"))
	if errors.Is(err, db.ErrDuplicate) {
		form.Errors = map[string]string{"email": "A user with this email already exists."}
		h.renderList(w, r, http.StatusUnprocessableEntity, form)
		return
	}
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	// The password is shown in this response only; it is not stored or
	// redirected through a flash message.
	render(w, r, h.Log, http.StatusOK, usersview.Created(usersview.CreatedPage{Email: u.Email, Role: u.Role, Password: password}))
}

// Disable disables a user and revokes its sessions at once
// (POST /users/{id}/disable).
func (h *Users) Disable(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		NotFound(w, r)
		return
	}
	if me, _ := UserFrom(r.Context()); id == me.ID {
		h.flashBack(w, r, "error", "You cannot disable your own account.")
		return
	}
	u, ok := h.account(w, r, id)
	if !ok {
		return
	}
	err := h.Store.Disable(r.Context(), id, event(r, "user.disabled"))
	switch {
	case errors.Is(err, db.ErrNotFound):
		// The account is there (read above): another admin, or a second
		// click, disabled it first.
		h.flashBack(w, r, "info", u.Email+" is already disabled; nothing was changed.")
	case errors.Is(err, db.ErrLastAdmin):
		h.flashBack(w, r, "error", "That is the last active admin: add another admin before disabling this one.")
	case err != nil: // a disabled admin's change too: see serverError
		serverError(w, r, h.Log, err)
	default:
		h.flashBack(w, r, "success", u.Email+" is disabled. Their sessions have ended.")
	}
}

// ResetPassword gives a user a new random password, shown once, ends their
// sessions and enables them if they were disabled (POST
// /users/{id}/password): for a forgotten password, a suspected leak, or
// bringing back a disabled account without its old password. The form
// carries the account's version as the page showed it: a second click, or
// a change by another admin since (disabling it, say), is refused rather
// than undone or shown with a password that no longer works.
func (h *Users) ResetPassword(w http.ResponseWriter, r *http.Request) {
	id, seen, ok := accountForm(w, r)
	if !ok {
		return
	}
	if me, _ := UserFrom(r.Context()); id == me.ID {
		h.flashBack(w, r, "error", "You cannot reset your own password here: ask another admin, or run payoutdesk user reset-password.")
		return
	}
	u, ok := h.account(w, r, id)
	if !ok {
		return
	}
	password := db.GeneratePassword()
	wasDisabled, err := h.Store.ResetPassword(r.Context(), id, seen, password, event(r, "user.password_reset"))
	switch {
	case errors.Is(err, db.ErrChanged):
		h.flashBack(w, r, "warning", changedMeanwhile(u.Email))
		return
	case err != nil: // a disabled admin's reset too: see serverError
		serverError(w, r, h.Log, err)
		return
	}
	render(w, r, h.Log, http.StatusOK, usersview.Created(usersview.CreatedPage{Email: u.Email, Role: u.Role, Password: password,
		Reset: true, Enabled: wasDisabled}))
}

// ChangeRole gives another user a new role (POST /users/{id}/role): an
// admin grants only roles it holds itself, never changes its own, and
// never takes the admin role from the last active admin. The form carries
// the account's version as the page showed it, as a new password's does.
// The new role applies from the user's next request.
func (h *Users) ChangeRole(w http.ResponseWriter, r *http.Request) {
	id, seen, ok := accountForm(w, r)
	if !ok {
		return
	}
	me, _ := UserFrom(r.Context())
	role := r.PostForm.Get("role")
	switch {
	case id == me.ID:
		h.flashBack(w, r, "error", "You cannot change your own role: ask another admin.")
		return
	case db.RoleRank(role) == 0:
		h.flashBack(w, r, "error", "Choose agent, manager or admin.")
		return
	case db.RoleRank(role) > db.RoleRank(me.Role):
		h.flashBack(w, r, "error", "You can only grant roles you hold yourself.")
		return
	}
	u, ok := h.account(w, r, id)
	if !ok {
		return
	}
	before, err := h.Store.ChangeRole(r.Context(), id, seen, role, event(r, "user.role_changed"))
	switch {
	case errors.Is(err, db.ErrChanged):
		h.flashBack(w, r, "warning", changedMeanwhile(u.Email))
	case errors.Is(err, db.ErrLastAdmin):
		h.flashBack(w, r, "error", u.Email+" is the last active admin: make another user admin first.")
	case err != nil: // a disabled admin's change too: see serverError
		serverError(w, r, h.Log, err)
	case before == role:
		h.flashBack(w, r, "info", u.Email+" is already "+role+"; nothing was changed.")
	case u.Disabled():
		h.flashBack(w, r, "success", u.Email+" is now "+role+" (was "+before+"). The account is disabled: the role applies once a new password enables it.")
	default:
		h.flashBack(w, r, "success", u.Email+" is now "+role+" (was "+before+"), from their next page.")
	}
}

// accountForm reads the account a form acts on, from the path, and the
// version of it the page showed; ok is false once it has answered.
func accountForm(w http.ResponseWriter, r *http.Request) (id, seen int64, ok bool) {
	id, ok = pathID(r, "id")
	if !ok {
		NotFound(w, r)
		return 0, 0, false
	}
	if !parseForm(w, r, 4<<10) {
		return 0, 0, false
	}
	seen, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if err != nil || seen < 0 {
		// Not a form of ours: no account is at a negative version other
		// than AnyVersion, so it is refused as changed.
		seen = db.AnyVersion - 1
	}
	return id, seen, true
}

// account reads the user a form acts on; ok is false once it has answered.
func (h *Users) account(w http.ResponseWriter, r *http.Request, id int64) (u db.User, ok bool) {
	u, err := h.Store.Get(r.Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		NotFound(w, r)
		return u, false
	}
	if err != nil {
		serverError(w, r, h.Log, err)
		return u, false
	}
	return u, true
}

// changedMeanwhile is the message for a form drawn before the account changed.
func changedMeanwhile(email string) string {
	return email + " changed since the page was shown (a second click, or another admin's change): nothing was done. Check the list and try again."
}

// flashBack shows the users page again with a message.
func (h *Users) flashBack(w http.ResponseWriter, r *http.Request, kind, msg string) {
	s, err := h.Sessions.Session(r)
	if err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	AddFlash(s, kind, msg)
	if err := s.Save(r, w); err != nil {
		serverError(w, r, h.Log, err)
		return
	}
	redirect(w, r, "/users")
}
