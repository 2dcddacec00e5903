package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestDoOutcomes(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	okSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte(`{"card":{"number":"4111111111111111"},"msg":"hi"}`))
	}))
	defer okSrv.Close()
	// cut answers 200 and promises a body it never finishes: the provider
	// had the request and began its answer.
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"id":"po_1",`))
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer cut.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closedURL := "http://" + ln.Addr().String()
	ln.Close()

	call := func(url string) Call {
		return Call{Provider: Monime, Op: "create payout", Method: http.MethodPost, URL: url,
			Header:        http.Header{"Authorization": {"Bearer sk_secret"}, "Content-Type": {"application/json"}},
			Body:          []byte(`{"destination":{"accountId":"+23278123456"}}`),
			SecretHeaders: []string{"authorization"}, MaskKeys: []string{"accountId", "number"}}
	}

	t.Run("answer of any status is returned", func(t *testing.T) {
		resp, ex, err := Do(context.Background(), http.DefaultClient, call(okSrv.URL))
		if err != nil || resp.Status != http.StatusTeapot {
			t.Fatalf("Do = %d, %v; want 418 and no error", resp.Status, err)
		}
		if ex.RequestHeader["Authorization"] != "[redacted]" {
			t.Errorf("recorded Authorization = %q, want it redacted", ex.RequestHeader["Authorization"])
		}
		if strings.Contains(ex.RequestBody, "23278123456") || !strings.Contains(ex.RequestBody, "•••• 3456") {
			t.Errorf("recorded request body %s: want the account masked", ex.RequestBody)
		}
		if strings.Contains(ex.ResponseBody, "4111111111111111") || ex.Status != http.StatusTeapot {
			t.Errorf("recorded answer %d %s: want the card number masked", ex.Status, ex.ResponseBody)
		}
	})
	t.Run("nothing listening: not sent", func(t *testing.T) {
		_, ex, err := Do(context.Background(), http.DefaultClient, call(closedURL))
		if !errors.Is(err, ErrNotSent) || OutcomeOf(err) != OutcomeNotSent {
			t.Fatalf("err = %v, want not sent", err)
		}
		if ex.Error == "" || strings.Contains(err.Error(), "sk_secret") {
			t.Errorf("exchange error %q / err %v: want the cause, never the secret", ex.Error, err)
		}
		if got := Describe(err); !strings.HasPrefix(got, "Monime, “create payout”: ") || !strings.Contains(got, "connection refused") || strings.Contains(got, "(not sent)") {
			t.Errorf("described as %q", got)
		}
	})
	t.Run("answer cut off: unknown", func(t *testing.T) {
		_, ex, err := Do(context.Background(), http.DefaultClient, call(cut.URL))
		if !errors.Is(err, ErrOutcomeUnknown) || OutcomeOf(err) != OutcomeUnknown {
			t.Fatalf("err = %v, want outcome unknown: the provider began to answer", err)
		}
		if ex.Status != http.StatusOK || ex.Error == "" {
			t.Errorf("exchange status %d, error %q; want the 200 begun and the cause", ex.Status, ex.Error)
		}
	})
	t.Run("deadline after connecting: unknown", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, ex, err := Do(ctx, http.DefaultClient, call(slow.URL))
		if !errors.Is(err, ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want outcome unknown", err)
		}
		if ex.Error != "timed out" {
			t.Errorf("exchange error %q, want %q", ex.Error, "timed out")
		}
		if strings.Contains(err.Error(), slow.URL) {
			t.Errorf("error %q repeats the URL", err)
		}
		if got := Describe(err); got != "Monime did not answer “create payout” in time." {
			t.Errorf("described as %q", got)
		}
	})
	t.Run("stopped after connecting: unknown", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, ex, err := Do(ctx, http.DefaultClient, call(slow.URL))
		if !errors.Is(err, ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want outcome unknown", err)
		}
		if ex.Error != "stopped before an answer came" {
			t.Errorf("exchange error %q, want %q", ex.Error, "stopped before an answer came")
		}
	})
	t.Run("client timeout: timed out", func(t *testing.T) {
		_, ex, err := Do(context.Background(), &http.Client{Timeout: 100 * time.Millisecond}, call(slow.URL))
		if !errors.Is(err, ErrOutcomeUnknown) || ex.Error != "timed out" {
			t.Errorf("err = %v, exchange error %q; want outcome unknown, timed out", err, ex.Error)
		}
	})
}

func TestClassify(t *testing.T) {
	tests := []struct {
		status    int
		outcome   Outcome
		retryable bool
	}{
		{100, OutcomeUnknown, false},
		{200, OutcomeRejected, false}, // a 2xx whose body refuses
		{399, OutcomeUnknown, false},
		{302, OutcomeUnknown, false},
		{304, OutcomeUnknown, false},
		{307, OutcomeUnknown, false},
		{400, OutcomeRejected, false},
		{401, OutcomeRejected, false},
		{404, OutcomeRejected, false},
		{408, OutcomeUnknown, false},
		{422, OutcomeRejected, false},
		{429, OutcomeRejected, true},
		{500, OutcomeUnknown, false},
		{503, OutcomeUnknown, false},
	}
	for _, tt := range tests {
		e := Classify(FedaPay, "create payout", tt.status, "code", "message", nil)
		if e.Outcome != tt.outcome || e.Retryable != tt.retryable {
			t.Errorf("Classify(%d) = %v retryable %v, want %v %v", tt.status, e.Outcome, e.Retryable, tt.outcome, tt.retryable)
		}
	}
	if got := Describe(Classify(FedaPay, "create payout", 500, "E1", "Internal error", nil)); got != "FedaPay answered HTTP 500 to “create payout”: E1: Internal error." {
		t.Errorf("a 500 described as %q", got)
	}
	if got := Describe(fmt.Errorf("send: %w", Classify(FedaPay, "start payout", 503, "", "", nil))); got != "FedaPay answered HTTP 503 to “start payout”." {
		t.Errorf("a bare 503 described as %q", got)
	}
	fields := &Error{Provider: FedaPay, Op: "create payout", Outcome: OutcomeRejected, HTTPStatus: 422, Message: "Invalid",
		Fields: map[string][]string{"phone": {"invalid"}, "amount": {"too large", "not whole"}}}
	if got := Describe(fields); got != "FedaPay answered HTTP 422 to “create payout”: Invalid: amount: too large; amount: not whole; phone: invalid." {
		t.Errorf("field errors described as %q", got)
	}
	if got := Describe(errors.New("anything")); got != "anything" {
		t.Errorf("another error described as %q", got)
	}
	if OutcomeOf(errors.New("anything")) != OutcomeUnknown {
		t.Error("an unexplained error must count as an unknown outcome")
	}
}

// TestDoNeverFollowsRedirects: a payout POST answered by a 307 is not sent
// again to the redirect's target, even with a client that follows
// redirects, and the 3xx leaves the outcome unknown.
func TestDoNeverFollowsRedirects(t *testing.T) {
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.Write([]byte(`{"id":"p-1"}`))
	}))
	defer target.Close()
	var got atomic.Int32
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		http.Redirect(w, r, target.URL+"/payouts", http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()

	follows := &http.Client{Timeout: 5 * time.Second} // the default policy follows up to 10
	for _, hc := range []*http.Client{nil, follows, http.DefaultClient} {
		resp, ex, err := Do(context.Background(), hc, Call{Provider: Kibramoa, Op: "create payout session", Method: http.MethodPost,
			URL: redirecting.URL + "/payouts", Header: http.Header{"X-Api-Key": {"secret"}}, Body: []byte(`{"amount":"150.00"}`)})
		if err != nil || resp.Status != http.StatusTemporaryRedirect || ex.Status != http.StatusTemporaryRedirect {
			t.Fatalf("Do = %d (recorded %d), %v; want the 307 itself and no error", resp.Status, ex.Status, err)
		}
		if e := Classify(Kibramoa, "create payout session", resp.Status, "", "", nil); e.Outcome != OutcomeUnknown || e.Retryable {
			t.Errorf("Classify(307) = %v retryable %v, want unknown, not retryable", e.Outcome, e.Retryable)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("redirect target got %d requests, want none", n)
	}
	if n := got.Load(); n != 3 {
		t.Errorf("provider got %d requests, want one per call (3)", n)
	}
	if follows.CheckRedirect != nil {
		t.Error("Do changed the caller's client")
	}
}

func TestStripSeparators(t *testing.T) {
	for in, want := range map[string]string{
		" +229 (97) 80-80.80 ": "+22997808080",
		"0012\t3456":           "00123456",
		"SL12-ab":              "SL12ab",
		"":                     "",
	} {
		if got := StripSeparators(in); got != want {
			t.Errorf("StripSeparators(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBodyEventID(t *testing.T) {
	// sha256 of "{}", as computed by sha256sum.
	const want = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
	if got := BodyEventID([]byte("{}")); got != want {
		t.Errorf("BodyEventID({}) = %s, want %s", got, want)
	}
	if BodyEventID([]byte("{} ")) == want {
		t.Error("two different bodies share an event id")
	}
}

func TestMaskJSON(t *testing.T) {
	if got := MaskJSON([]byte(`not json`), "iban"); strings.Contains(got, "not json") {
		t.Errorf("MaskJSON of a non-JSON body with keys = %q, want it withheld", got)
	}
	got := MaskJSON([]byte(`{"a":[{"IBAN":"BE68539007547034"}],"n":1.50}`), "iban")
	if got != `{"a":[{"IBAN":"•••• 7034"}],"n":1.50}` {
		t.Errorf("MaskJSON = %s", got)
	}
	for in, want := range map[string]string{
		"123": "•••", "+23278000000": "•••• 0000",
		// The same number typed with separators masks the same way, and a
		// masked value stays as it is.
		"97 80 80 80": "•••• 8080", "BE68 5390 0754 7034": "•••• 7034", "•••• 8080": "•••• 8080",
	} {
		if got := MaskAccount(in); got != want {
			t.Errorf("MaskAccount(%q) = %q, want %q", in, got, want)
		}
	}
}

// A create carrying an idempotency key, whose reused connection drops
// before the answer, is not sent again behind our back by net/http: every
// send is one recorded exchange, and the outcome is left unknown.
func TestKeyedPostNeverResentUnseen(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if posts.Add(1) == 2 {
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}
			return
		}
		w.Write([]byte("{}"))
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{}}
	call := Call{Provider: Monime, Op: "create payout", Method: http.MethodPost, URL: srv.URL, Body: []byte("{}"), Header: http.Header{"Idempotency-Key": {"k1"}}}
	if _, _, err := Do(context.Background(), hc, call); err != nil {
		t.Fatal(err)
	}
	_, _, err := Do(context.Background(), hc, call)
	if OutcomeOf(err) != OutcomeUnknown {
		t.Errorf("a dropped keyed create: %v, want an unknown outcome", err)
	}
	if n := posts.Load(); n != 2 {
		t.Errorf("the provider saw %d POSTs for 2 calls", n)
	}
}
