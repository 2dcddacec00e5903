// Package views holds the templ components and pages of Payout Desk, and the
// request-wide values (current user, flash messages, navigation counts) that
// reach templates through typed context getters.
package views

//go:generate go tool templ generate
