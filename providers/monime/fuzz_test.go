package monime

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"
	"unicode/utf8"

	"payoutdesk/providers"
)

// addSeeds adds the seed document's examples and edge cases to f.
func addSeeds(f *testing.F, extra ...string) {
	for _, name := range []string{"seed_response.json", "error_response_3p.json", "seed_request.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range append([]string{
		``, `null`, `[]`, `{}`, `"x"`, `{"result": null}`, `{"result": []}`,
		`{"success": true, "result": {"id": "pyt-1", "status": "pending", "amount": {"currency": "SLE", "value": 9223372036854775808}}}`,
		`{"success": true, "result": {"id": "pyt-1", "status": "failed", "failureDetail": {"code": 1, "message": ["a"]}}}`,
		`{"error": {"code": "x", "details": [null, 1, "s", {"field": 2}]}}`,
		`{"messages": "not a list", "message": ["a", {"message": "b"}]}`,
	}, extra...) {
		f.Add([]byte(s))
	}
}

func FuzzParsePayoutResponse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parsePayoutResponse(body)
		if err != nil {
			return
		}
		if p.ID == "" || p.Status == "" {
			t.Errorf("parsed a payout without id or status: %+v", p)
		}
		r := p.result(DefaultDestinations)
		if r.Status == providers.StatusFailed && r.ErrorCode != p.FailureCode {
			t.Errorf("failed result lost its code: %+v", r)
		}
	})
}

func FuzzParseErrorResponse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, status := range []int{400, 401, 409, 422, 429, 500} {
			a := parseError(status, body)
			if a.Message == "" {
				t.Errorf("status %d: no message at all for %q", status, body)
			}
		}
	})
}

func FuzzParseDeleteResponse(f *testing.F) {
	addSeeds(f, `{"success": false}`, `{"success": "false"}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		// The 2xx status is what counts: only an explicit success false in
		// a JSON answer casts doubt on it.
		if err := parseDeleteResponse(body); err != nil && (!json.Valid(body) || !bytes.Contains(body, []byte("false"))) {
			t.Errorf("got %v for %q, want nil: it says nothing against the deletion", err, body)
		}
	})
}

func FuzzWebhook(f *testing.F) {
	addSeeds(f, completedDelivery,
		`{"event": {"id": "evt-3", "name": "payout.failed"}, "object": {"id": "pyt-3"}}`,
		`{"object": {"id": "pyt-1"}, "data": {"id": "pyt-2"}}`)
	c := New(Config{WebhookSecret: testSecret})
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := c.Webhook(WebhookHeaders("", testSecret), body, time.Now())
		if err != nil {
			if !errors.Is(err, providers.ErrPayload) && !errors.Is(err, providers.ErrIgnored) {
				t.Errorf("got error %v, want ErrPayload or ErrIgnored", err)
			}
			return
		}
		if u.ProviderID == "" || u.EventID == "" || !u.HintOnly {
			t.Errorf("accepted an update without ids or as trusted: %+v", u)
		}
		if _, err := c.Webhook(WebhookHeaders("", "wrong"), body, time.Now()); !errors.Is(err, providers.ErrSignature) {
			t.Errorf("wrong secret: got error %v, want ErrSignature", err)
		}
	})
}

func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{"", "a=b", "a=b\nc=d", "=", "x", "a=1\na=2", ReferenceKey + "=1", "é=\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		md, problems := ParseMetadata(text)
		if len(problems) > 0 {
			return
		}
		if len(md) >= MaxMetadataEntries {
			t.Errorf("accepted %d entries", len(md))
		}
		for k, v := range md {
			if k == "" || k == ReferenceKey || utf8.RuneCountInString(k) > MaxMetadataKeyLen || utf8.RuneCountInString(v) > MaxMetadataValueLen {
				t.Errorf("accepted entry %q=%q", k, v)
			}
		}
	})
}
