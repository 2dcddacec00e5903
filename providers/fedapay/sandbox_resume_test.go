package fedapay_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
	"payoutdesk/providers/fedapay"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
)

// failOnce fails the first request whose method and path suffix match,
// before anything is sent.
type failOnce struct {
	method, suffix string
	done           atomic.Bool
}

func (f *failOnce) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == f.method && strings.HasSuffix(r.URL.Path, f.suffix) && f.done.CompareAndSwap(false, true) {
		return nil, errors.New("injected network failure")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func failingStart(cfg *fedapay.Config) {
	cfg.HTTPClient = &http.Client{Transport: &failOnce{method: http.MethodPut, suffix: "/payouts/start"}}
}

func TestSandboxResumeCreatedNotStarted(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{})
	c := newClient(env, failingStart)
	p := newPayout(5000, "97808080")
	first, err := c.Submit(context.Background(), p, providers.Ref{})
	if !errors.Is(err, providers.ErrNotSent) || first.ProviderID == "" {
		t.Fatalf("first Submit: got %v with id %q, want not sent with the created payout's id", err, first.ProviderID)
	}
	pending, err := c.Lookup(context.Background(), providers.Ref{ProviderID: first.ProviderID})
	if err != nil || pending.RawStatus != "pending" {
		t.Fatalf("Lookup: got %q, %v; want pending", pending.RawStatus, err)
	}

	prev := providers.Ref{ProviderID: first.ProviderID, Reference: p.Reference}
	second, err := c.Submit(context.Background(), p, prev)
	if err != nil {
		t.Fatalf("resumed Submit: %v", err)
	}
	if diff := cmp.Diff([]string{"look up payout", "start payout"}, ops(second)); diff != "" {
		t.Errorf("resume ops mismatch (-want +got):\n%s", diff)
	}
	if second.ProviderID != first.ProviderID || second.RawStatus != "started" {
		t.Errorf("resumed: got %s/%s, want %s/started", second.ProviderID, second.RawStatus, first.ProviderID)
	}

	third, err := c.Submit(context.Background(), p, prev)
	if err != nil {
		t.Fatalf("third Submit: %v", err)
	}
	if diff := cmp.Diff([]string{"look up payout"}, ops(third)); diff != "" {
		t.Errorf("third ops mismatch (-want +got):\n%s", diff)
	}
	checkCount(t, env, "payout created", 1)
	checkCount(t, env, "payout started", 1)
	if final := updates(t, env, c, 3)[2]; final.Status != providers.StatusPaid {
		t.Errorf("final: got %q, want paid", final.Status)
	}
}

func TestSandboxResumeByReference(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{})
	byRef := func(cfg *fedapay.Config) { cfg.LookupByReference = true; cfg.Timeout = 300 * time.Millisecond }
	c := newClient(env, byRef)

	p := newPayout(408, "97808080")
	_, err := c.Submit(context.Background(), p, providers.Ref{})
	if !errors.Is(err, providers.ErrOutcomeUnknown) {
		t.Fatalf("timed-out Submit: got %v, want unknown outcome", err)
	}
	found, err := c.Lookup(context.Background(), providers.Ref{Reference: p.Reference})
	if err != nil || found.RawStatus != "pending" {
		t.Fatalf("Lookup by reference: got %q, %v; want pending", found.RawStatus, err)
	}
	res, err := c.Submit(context.Background(), p, providers.Ref{Reference: p.Reference})
	if err != nil {
		t.Fatalf("resumed Submit: %v", err)
	}
	if diff := cmp.Diff([]string{"find payout by reference", "start payout"}, ops(res)); diff != "" {
		t.Errorf("ops mismatch (-want +got):\n%s", diff)
	}
	checkCount(t, env, "payout created", 1)

	fresh := newPayout(5000, "97808080")
	res, err = c.Submit(context.Background(), fresh, providers.Ref{Reference: fresh.Reference})
	if err != nil {
		t.Fatalf("Submit after a first attempt that never arrived: %v", err)
	}
	if diff := cmp.Diff([]string{"find payout by reference", "create payout", "start payout"}, ops(res)); diff != "" {
		t.Errorf("ops mismatch (-want +got):\n%s", diff)
	}
	checkCount(t, env, "payout created", 2)
}

func TestSandboxCancel(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{})
	allow := func(cfg *fedapay.Config) { cfg.AllowCancel = true }

	if _, err := newClient(env).Cancel(context.Background(), providers.Ref{ProviderID: "1"}); !errors.Is(err, providers.ErrUnsupported) {
		t.Errorf("Cancel without AllowCancel: got %v, want ErrUnsupported", err)
	}

	c := newClient(env, allow, failingStart)
	p := newPayout(5000, "97808080")
	created, _ := c.Submit(context.Background(), p, providers.Ref{})
	res, err := c.Cancel(context.Background(), providers.Ref{ProviderID: created.ProviderID})
	if err != nil || res.Status != providers.StatusCancelled {
		t.Fatalf("Cancel: got %q, %v; want cancelled", res.Status, err)
	}
	resumed, err := c.Submit(context.Background(), p, providers.Ref{ProviderID: created.ProviderID})
	if err != nil || resumed.Status != providers.StatusCancelled {
		t.Errorf("Submit of a cancelled payout: got %q, %v; want cancelled, nothing started", resumed.Status, err)
	}
	checkCount(t, env, "payout started", 0)

	started, err := newClient(env, allow).Submit(context.Background(), newPayout(5000, "97808080"), providers.Ref{})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	_, err = c.Cancel(context.Background(), providers.Ref{ProviderID: started.ProviderID})
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Outcome != providers.OutcomeRejected || pe.HTTPStatus != http.StatusUnprocessableEntity {
		t.Errorf("Cancel of a started payout: got %v, want rejected 422", err)
	}
}
