package providers

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
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
	})
	t.Run("deadline after connecting: unknown", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, _, err := Do(ctx, http.DefaultClient, call(slow.URL))
		if !errors.Is(err, ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want outcome unknown", err)
		}
		if strings.Contains(err.Error(), slow.URL) {
			t.Errorf("error %q repeats the URL", err)
		}
	})
}

func TestClassify(t *testing.T) {
	tests := []struct {
		status    int
		outcome   Outcome
		retryable bool
	}{
		{400, OutcomeRejected, false},
		{401, OutcomeRejected, false},
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
	if OutcomeOf(errors.New("anything")) != OutcomeUnknown {
		t.Error("an unexplained error must count as an unknown outcome")
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
	if MaskAccount("123") != "•••" || MaskAccount("+23278000000") != "•••• 0000" {
		t.Errorf("MaskAccount: %q, %q", MaskAccount("123"), MaskAccount("+23278000000"))
	}
}
