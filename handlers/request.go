// Package handlers holds Payout Desk's HTTP handlers, one file per resource.
// Handlers are thin: parse the request, call a store or provider, render a
// view. Routes and middleware order live in package web.
package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"unicode/utf8"

	"payoutdesk/db"
)

// RequestInfo is what every handler may need to know about the request
// beyond its body: its id (also in logs and audit events) and the client's IP.
type RequestInfo struct {
	ID string
	IP string
}

type requestInfoKey struct{}
type userKey struct{}

// WithRequestInfo returns ctx carrying ri.
func WithRequestInfo(ctx context.Context, ri RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, ri)
}

// RequestInfoFrom returns the request's info.
func RequestInfoFrom(ctx context.Context) RequestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(RequestInfo)
	return ri
}

// WithUser returns ctx carrying the signed-in user.
func WithUser(ctx context.Context, u db.User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the signed-in user, if any.
func UserFrom(ctx context.Context) (db.User, bool) {
	u, ok := ctx.Value(userKey{}).(db.User)
	return u, ok && u.ID != 0
}

// actor returns the audit actor for the request: the signed-in user, or an
// anonymous visitor.
func actor(ctx context.Context) db.Actor {
	if u, ok := UserFrom(ctx); ok {
		return db.Actor{Type: db.ActorUser, ID: strconv.FormatInt(u.ID, 10), Email: u.Email, Role: u.Role}
	}
	return db.Actor{Type: db.ActorAnonymous}
}

// event starts an audit event for the request: actor and origin filled in.
func event(r *http.Request, action string) db.Event {
	return db.Event{Actor: actor(r.Context()), Action: action, Origin: origin(r)}
}

// origin is where the request came from, as audit events record it.
func origin(r *http.Request) db.Origin {
	ri := RequestInfoFrom(r.Context())
	return db.Origin{IP: ri.IP, UserAgent: truncate(r.UserAgent(), 512), RequestID: ri.ID}
}

// parseForm reads a form body of at most limit bytes into r.PostForm. When
// it returns false it has answered: 413 for a body over the limit, 400 for
// one it cannot read.
func parseForm(w http.ResponseWriter, r *http.Request, limit int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	err := r.ParseForm()
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		ErrorPage(w, r, http.StatusRequestEntityTooLarge)
	case err != nil:
		ErrorPage(w, r, http.StatusBadRequest)
	}
	return err == nil
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// pathID reads the positive id in the request path's wildcard name, written
// as the app writes it: "+1" and "01" are not other names for 1, so that
// each record has one address (and one line in the access logs).
func pathID(r *http.Request, name string) (int64, bool) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != v {
		return 0, false
	}
	return id, true
}

// addressKey is what limits per client address count under: the IP, or
// for IPv6 its /64, since one host is commonly given a whole /64 and could
// otherwise take a fresh address for every attempt. An IPv4 address
// written as IPv6 (::ffff:a.b.c.d) is the IPv4 address, and a zone is
// dropped; what does not parse is its own key.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
