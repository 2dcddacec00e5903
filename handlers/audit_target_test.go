package handlers

import (
	"testing"

	"payoutdesk/db"
)

// TestTargetName: an account is named by its email wherever its event
// tells it, its own sign-in included, and nothing else borrows one.
func TestTargetName(t *testing.T) {
	agent := db.Actor{Type: db.ActorUser, ID: "3", Email: "agent@example.com", Role: db.RoleAgent}
	tests := []struct {
		name string
		e    db.Event
		want string
	}{
		{"account created", db.Event{Actor: db.Actor{Type: db.ActorCLI}, TargetType: "user", TargetID: "4",
			Details: map[string]any{"email": "new@example.com"}}, "user 4 (new@example.com)"},
		{"signing in", db.Event{Actor: agent, TargetType: "user", TargetID: "3"}, "user 3 (agent@example.com)"},
		{"another account, no email told", db.Event{Actor: agent, TargetType: "user", TargetID: "5"}, "user 5"},
		{"a payout", db.Event{Actor: agent, TargetType: "payout", TargetID: "3", Details: map[string]any{"email": "x@example.com"}}, "payout 3"},
	}
	for _, tt := range tests {
		if got := targetName(tt.e); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
