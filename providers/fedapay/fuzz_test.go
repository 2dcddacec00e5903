package fedapay

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"payoutdesk/providers"
)

var fuzzBodies = []string{
	`{"id": 1, "status": "pending"}`,
	`{"v1/payout": {"id": "1", "status": "sent", "amount": "1e3"}}`,
	`{"v1/payout": null}`,
	`{"v1/payouts": [null, 1, "x", {"id": 1, "status": "started"}]}`,
	`[{"id": 9223372036854775807, "status": "x", "amount": 99999999999999999999}]`,
	`{"id": 1, "status": "failed", "deleted_at": {}, "currency": [1]}`,
	`{"message": null, "errors": {"a": [[["b"]]]}}`,
	`{`, `null`, `""`, `0`, ``,
}

func FuzzDecodePayout(f *testing.F) {
	for _, name := range []string{"create_response.json", "create_response_bare.json", "payout_failed.json"} {
		f.Add(readTestdata(f, name))
	}
	for _, b := range fuzzBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodePayout(body)
		if err == nil && (p.ID <= 0 || p.Status == "" || p.Amount < 0) {
			t.Errorf("accepted %q as %+v", body, p)
		}
	})
}

func FuzzDecodeStarted(f *testing.F) {
	for _, name := range []string{"start_response.json", "start_response_bare.json"} {
		f.Add(readTestdata(f, name), int64(1))
	}
	for _, b := range fuzzBodies {
		f.Add([]byte(b), int64(1))
	}
	f.Fuzz(func(t *testing.T, body []byte, id int64) {
		p, err := decodeStarted(body, id)
		if err == nil && p.ID != id {
			t.Errorf("asked for payout %d, got %d", id, p.ID)
		}
	})
}

func FuzzParseError(f *testing.F) {
	f.Add(readTestdata(f, "error_422.json"))
	for _, b := range fuzzBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, fields := parseError(body)
		for k, v := range fields {
			if len(v) == 0 {
				t.Errorf("field %q with no message", k)
			}
		}
	})
}

func FuzzWebhook(f *testing.F) {
	sample := readTestdata(f, "webhook_payout_sent.json")
	f.Add(sample, Sign(testWebhookSecret, sample, testNow), true)
	f.Add(sample, "t=1772446504,s=00", false)
	f.Add([]byte(`{"object":"payout","entity":{"id":1,"status":"sent"}}`), "", true)
	f.Add([]byte(`{"object":"transaction","entity":{}}`), "t=,s=,=,,", true)
	for _, b := range fuzzBodies {
		f.Add([]byte(b), "t=1,s=1", true)
	}
	c := New(Config{WebhookSecret: testWebhookSecret})
	f.Fuzz(func(t *testing.T, body []byte, header string, resign bool) {
		if resign {
			// Exercise the parser behind a valid signature too.
			header = Sign(testWebhookSecret, body, testNow)
		}
		h := http.Header{}
		h.Set(SignatureHeader, header)
		u, err := c.Webhook(h, body, testNow)
		if err != nil {
			if !errors.Is(err, providers.ErrSignature) && !errors.Is(err, providers.ErrPayload) && !errors.Is(err, providers.ErrIgnored) {
				t.Errorf("error %v is neither ErrSignature, ErrPayload nor ErrIgnored", err)
			}
			return
		}
		if _, perr := strconv.ParseInt(u.ProviderID, 10, 64); perr != nil || u.EventID == "" {
			t.Errorf("accepted update without ids: %+v", u)
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add("t=1772446504,s=abcd", []byte("{}"), int64(0))
	f.Add("t=-1,s=", []byte(""), int64(-1<<62))
	f.Add(",,,t==,s==,", []byte("x"), int64(1<<62))
	f.Add(Sign(testWebhookSecret, []byte("{}"), testNow), []byte("{}"), int64(time.Minute))
	f.Fuzz(func(t *testing.T, header string, body []byte, skew int64) {
		now := testNow.Add(time.Duration(skew))
		if now.Unix() > 0 {
			// Our own signature round-trips, and covers every byte of the body.
			good := Sign(testWebhookSecret, body, now)
			if err := Verify(testWebhookSecret, good, body, now, DefaultTolerance); err != nil {
				t.Errorf("own signature %q refused: %v", good, err)
			}
			if err := Verify(testWebhookSecret, good, append(body[:len(body):len(body)], 'x'), now, DefaultTolerance); !errors.Is(err, providers.ErrSignature) {
				t.Errorf("signature accepted for a longer body: %v", err)
			}
		}
		err := Verify(testWebhookSecret, header, body, now, DefaultTolerance)
		if err != nil && !errors.Is(err, providers.ErrSignature) {
			t.Errorf("error %v is not ErrSignature", err)
		}
		// Whatever verifies holds the secret's MAC: another secret refuses it.
		if err == nil && Verify("wh_other", header, body, now, DefaultTolerance) == nil {
			t.Errorf("header %q verifies under two secrets", header)
		}
	})
}

func FuzzFormatPhone(f *testing.F) {
	f.Add("+229 97 80 80 80", "bj")
	f.Add("00228-90.00.00.00", "tg")
	f.Add("00", "tg")
	f.Add("+", "")
	f.Fuzz(func(t *testing.T, raw, country string) {
		got := map[PhoneFormat]string{}
		for _, format := range []PhoneFormat{PhoneLocal, PhoneInternational, PhoneAsTyped} {
			n, err := formatPhone(raw, country, format)
			if err != nil {
				if err.Error() == "" {
					t.Errorf("%s: empty error message", format)
				}
				continue
			}
			if d := strings.TrimPrefix(n, "+"); d == "" || strings.Trim(d, "0123456789") != "" {
				t.Errorf("%s(%q) = %q, want digits after an optional +", format, raw, n)
			}
			got[format] = n
		}
		local, okLocal := got[PhoneLocal]
		intl, okIntl := got[PhoneInternational]
		if okLocal != okIntl {
			t.Fatalf("%q in %q: local %q (%v) and international %q (%v) disagree", raw, country, local, okLocal, intl, okIntl)
		}
		if okIntl {
			// International is always + and the country's calling code
			// before the local number, which never carries a +.
			ct, _ := countryByCode(country)
			if intl != "+"+ct.CallingCode+local || strings.HasPrefix(local, "+") {
				t.Errorf("%q in %q: international %q, local %q; want +%s and the local number", raw, country, intl, local, ct.CallingCode)
			}
		}
	})
}
