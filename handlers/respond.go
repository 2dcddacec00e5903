package handlers

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"payoutdesk/db"
	errorsview "payoutdesk/views/errors"
)

// render writes c with the given status; with fragments, only those parts
// of c (the answer to an htmx request). It renders into a buffer first, so
// a template failure becomes a clean 500 rather than half a page.
func render(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, c templ.Component, fragments ...any) {
	var buf bytes.Buffer
	var err error
	if len(fragments) > 0 {
		err = templ.RenderFragments(r.Context(), &buf, c, fragments...)
	} else {
		err = c.Render(r.Context(), &buf)
	}
	if err != nil {
		serverError(w, r, log, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// serverError logs err with the request's method, path and id, and renders
// a generic 500 page that reveals nothing of it; a change refused because
// its user was disabled meanwhile gets a 403 page that says so.
func serverError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	req := slog.Group("request", "method", r.Method, "path", r.URL.Path, "id", RequestInfoFrom(r.Context()).ID)
	if errors.Is(err, db.ErrActorDisabled) {
		// Not the server's fault: the account was disabled while this
		// request was under way, and its change was refused, its audit
		// event with it; the log keeps the attempt.
		log.WarnContext(r.Context(), "change by a disabled account refused", slog.Any("error", err), req)
		errorPage(w, r, http.StatusForbidden, "Refused: your account is disabled",
			"Your account was disabled while this was being done, so nothing was changed. Ask an administrator if this is a mistake.")
		return
	}
	if errors.Is(err, db.ErrActorDemoted) {
		log.WarnContext(r.Context(), "change by a demoted account refused", slog.Any("error", err), req)
		errorPage(w, r, http.StatusForbidden, "Refused: your role changed",
			"An administrator changed your role while this was being done, so nothing was changed. Reload the page to see what you can do now.")
		return
	}
	log.ErrorContext(r.Context(), "server error", slog.Any("error", err), req)
	ErrorPage(w, r, http.StatusInternalServerError)
}

// CSP is the Content-Security-Policy of every response: only the app's own
// scripts, styles and forms, no inline script, no framing. formTargets are
// further origins that a page's forms may be sent or redirected to.
func CSP(formTargets ...string) string {
	return "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; " +
		"form-action " + strings.Join(append([]string{"'self'"}, formTargets...), " ") + "; frame-ancestors 'none'"
}

var errorTexts = map[int][2]string{
	http.StatusBadRequest:            {"Bad request", "The request could not be understood. Check the address or the form and try again."},
	http.StatusForbidden:             {"Not allowed", "Your role does not give access to this page or action. Ask a manager or an administrator if you need it."},
	http.StatusNotFound:              {"Page not found", "There is nothing at this address. It may have moved, or the link may be wrong."},
	http.StatusMethodNotAllowed:      {"Method not allowed", "This address does not accept that kind of request."},
	http.StatusRequestEntityTooLarge: {"Request too large", "The form sent was too large."},
	http.StatusInternalServerError:   {"Something went wrong", "The server failed to handle this request. Nothing was changed unless a page says so. Try again, and give the reference below to support if it keeps happening."},
	http.StatusServiceUnavailable:    {"Unavailable", "The service is not ready. Try again in a moment."},
}

// ErrorPage renders the friendly page for an HTTP error status.
func ErrorPage(w http.ResponseWriter, r *http.Request, status int) {
	t, ok := errorTexts[status]
	if !ok {
		t = [2]string{http.StatusText(status), ""}
	}
	errorPage(w, r, status, t[0], t[1])
}

func errorPage(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	t := [2]string{title, message}
	var buf bytes.Buffer
	p := errorsview.ErrorPage{Status: status, Title: t[0], Message: t[1], RequestID: RequestInfoFrom(r.Context()).ID}
	if err := errorsview.Page(p).Render(r.Context(), &buf); err != nil {
		http.Error(w, http.StatusText(status), status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// NotFound renders the 404 page.
func NotFound(w http.ResponseWriter, r *http.Request) { ErrorPage(w, r, http.StatusNotFound) }

// Forbidden renders the 403 page.
func Forbidden(w http.ResponseWriter, r *http.Request) { ErrorPage(w, r, http.StatusForbidden) }

// CrossOrigin renders the 403 page of a form sent from another site (or
// by a browser that says so): nothing to do with the user's role.
func CrossOrigin(w http.ResponseWriter, r *http.Request) {
	errorPage(w, r, http.StatusForbidden, "Refused: sent from another site",
		"This form was not sent from a Payout Desk page, so nothing was done. Open Payout Desk, go back to the page and send the form from there.")
}

// redirect sends a 303 to a local path; with htmx it asks for a full-page
// navigation instead, since a fragment swap of a whole page would nest it.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
