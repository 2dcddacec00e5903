package smartglocal

import (
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"payoutdesk/providers"
)

func addSeedFiles(f *testing.F, add func([]byte)) {
	for _, name := range []string{"seed_response_ok.txt", "seed_response_ok_repaired.json", "seed_response_error.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

var fuzzBodies = []string{
	``, `null`, `[]`, `{}`, `"ok"`, `{"status":"ok"}`, `{"status":"ok","session":null}`,
	createdOK, startedOK, serverErr, readyHook,
	`{"status":"error","error":{"code":[1,{"code":"x"}],"description":{"a":[null]},"reject_reasons":[[["deep"]]]}}`,
	`{"status":"ok","session":{"id":"ps_1","status":"in_progress","payments":[{"id":"po_1","status":"pending","amount_details":{"amount":1e400,"currency":"usd"}}]}}`,
	`{"status":"ok","session":{"id":"ps_1","status":"in_progress","payments":[{"id":"po_1","status":"pending","payment_method":{"type":"card","card":null,"amount_details":{"amount":"99999999999999999999","currency":"USD"}}}]}}`,
	`{"type":"payment_finished","session":{"id":"ps_1","status":"error","payments":[{"id":"po_1","status":"failed","error":null}]}}`,
}

func FuzzParseAnswer(f *testing.F) {
	addSeedFiles(f, func(b []byte) {
		f.Add(200, b)
		f.Add(400, b)
	})
	for _, b := range fuzzBodies {
		f.Add(200, []byte(b))
		f.Add(503, []byte(b))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		snap, err := parseAnswer("fuzz", status, body)
		if err != nil {
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %T %v, want *providers.Error", err, err)
			}
			return
		}
		if snap.SessionID == "" || snap.SessionStatus == "" {
			t.Fatalf("accepted a session without id or status: %+v", snap)
		}
		if snap.Amount != nil && snap.Amount.Minor < 0 {
			t.Fatalf("accepted a negative amount: %+v", snap.Amount)
		}
	})
}

func FuzzWebhook(f *testing.F) {
	addSeedFiles(f, func(b []byte) { f.Add(b, "") })
	for _, b := range fuzzBodies {
		f.Add([]byte(b), "c2lnbmF0dXJl")
	}
	f.Add([]byte(readyHook), "%%")
	_, provider, _ := testKeys(f)
	c := New(Config{ProviderKey: &provider.PublicKey})
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		// A random signature never verifies: every error must be a
		// signature error.
		if _, err := c.Webhook(http.Header{"X-Partner-Sign": {sig}}, body, time.Now()); !errors.Is(err, providers.ErrSignature) {
			t.Fatalf("unsigned body: got %v, want ErrSignature", err)
		}
		u, err := ParseWebhook(body)
		if err != nil {
			if !errors.Is(err, providers.ErrPayload) {
				t.Fatalf("got %v, want ErrPayload", err)
			}
			return
		}
		if u.ProviderID == "" || len(u.EventID) != 64 {
			t.Fatalf("accepted an update without session id or event id: %+v", u)
		}
	})
}

func FuzzParseKeys(f *testing.F) {
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, err := ParsePublicKey(b); err == nil && k == nil {
			t.Fatal("nil public key without error")
		}
		if k, err := ParsePrivateKey(b); err == nil && k == nil {
			t.Fatal("nil private key without error")
		}
	})
}
