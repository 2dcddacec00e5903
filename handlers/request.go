// Package handlers holds Payout Desk's HTTP handlers, one file per resource.
// Handlers are thin: parse the request, call a store or provider, render a
// view. Routes and middleware order live in package web.
package handlers

import (
	"context"
	"strconv"

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
func event(ctx context.Context, userAgent, action string) db.Event {
	ri := RequestInfoFrom(ctx)
	return db.Event{
		Actor:  actor(ctx),
		Action: action,
		Origin: db.Origin{IP: ri.IP, UserAgent: truncate(userAgent, 512), RequestID: ri.ID},
	}
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
