package monime_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"payoutdesk/providers"
	"payoutdesk/providers/sandbox"
)

func TestSandboxCancel(t *testing.T) {
	// A long step keeps the payout pending for the whole test.
	env, c := start(t, sandbox.Config{Step: time.Hour})
	p := payout(150, "+23276123456")
	res, err := submit(t, c, p, 5*time.Second)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	ref := providers.Ref{ProviderID: res.ProviderID}
	got, err := c.Cancel(context.Background(), ref)
	if err != nil || got.Status != providers.StatusCancelled || len(got.Exchanges) != 1 {
		t.Fatalf("Cancel: got %q with %d exchanges, %v, want cancelled", got.Status, len(got.Exchanges), err)
	}
	if n := env.Sandbox.Count(providers.Monime, "payout deleted"); n != 1 {
		t.Errorf("got %d deleted, want 1", n)
	}
	_, err = c.Cancel(context.Background(), ref)
	wantError(t, err, providers.OutcomeRejected, 404, "not_found")
	_, err = c.Lookup(context.Background(), ref)
	wantError(t, err, providers.OutcomeRejected, 404, "not_found")
	// Any conflict on the keyed create settles nothing (see payoutCall).
	_, err = submit(t, c, p, 5*time.Second)
	wantError(t, err, providers.OutcomeUnknown, 409, "idempotency_conflict")
}

func TestSandboxCancelTooLate(t *testing.T) {
	env, c := start(t, sandbox.Config{Step: 200 * time.Millisecond})
	res, err := submit(t, c, payout(150, "+23276123456"), 5*time.Second)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	updates(t, env, c, 2) // created, processing
	_, err = c.Cancel(context.Background(), providers.Ref{ProviderID: res.ProviderID})
	wantError(t, err, providers.OutcomeRejected, 409, "failed_precondition")
}

func TestSandboxLookupUnknown(t *testing.T) {
	_, c := start(t, sandbox.Config{})
	res, err := c.Lookup(context.Background(), providers.Ref{ProviderID: "pyt-nope"})
	wantError(t, err, providers.OutcomeRejected, 404, "not_found")
	if len(res.Exchanges) != 1 {
		t.Errorf("got %d exchanges, want 1", len(res.Exchanges))
	}
}

func TestSandboxWebhookFaults(t *testing.T) {
	tests := []struct {
		name   string
		leones int64
		want   []providers.Status
		// sameEvent: the last delivery repeats the one before it.
		sameEvent bool
	}{
		{"duplicate", 222, []providers.Status{"processing", "processing", "paid", "paid"}, true},
		{"out of order", 333, []providers.Status{"processing", "processing", "paid", "processing"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, c := start(t, sandbox.Config{})
			if _, err := submit(t, c, payout(tt.leones, "+23276123456"), 5*time.Second); err != nil {
				t.Fatalf("Submit: %v", err)
			}
			us := updates(t, env, c, 4)
			if got := toStrings(statuses(us)); strings.Join(got, ",") != strings.Join(toStrings(tt.want), ",") {
				t.Errorf("got statuses %v, want %v", got, tt.want)
			}
			if same := us[3].EventID == us[2].EventID; same != tt.sameEvent {
				t.Errorf("got last two event ids %q %q, want equal: %v", us[2].EventID, us[3].EventID, tt.sameEvent)
			}
			if us[3].EventID == us[1].EventID {
				t.Errorf("stale delivery reuses event id %q", us[1].EventID)
			}
		})
	}
}
