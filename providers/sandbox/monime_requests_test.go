package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"payoutdesk/providers"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
)

// TestMonimeChecksRequests sends hand-made requests, proving the simulated
// Monime catches what a buggy client would send.
func TestMonimeChecksRequests(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{})
	valid := `{"amount": {"currency": "SLE", "value": 15000}, "destination": {"providerCode": "m17", "accountId": "+23276123456"}}`
	with := func(old, new string) string { return strings.Replace(valid, old, new, 1) }
	md := func(n, valueLen int) string {
		m := make(map[string]string)
		for i := range n {
			m[string(rune('A'+i%26))+string(rune('a'+i/26))] = strings.Repeat("v", valueLen)
		}
		b, _ := json.Marshal(m)
		return with(`}}`, `}, "metadata": `+string(b)+`}`)
	}
	creds := env.Credentials
	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string // replaces the valid headers' values; "" deletes
		body       string
		wantStatus int
		wantReason string
	}{
		{"valid", "POST", "/payouts", nil, valid, 200, ""},
		{"usd", "POST", "/payouts", nil, with(`"SLE"`, `"USD"`), 200, ""},
		{"bank", "POST", "/payouts", nil, with(`"m17", "accountId": "+23276123456"`, `"slb007", "accountId": "0012345678"`), 200, ""},
		{"with source", "POST", "/payouts", nil, with(`}}`, `}, "source": {"financialAccountId": "fac-1"}}`), 200, ""},
		// The legacy spec makes financialAccountId nullable: Monime then
		// pays from the space's main account, as with no source at all.
		{"source account null", "POST", "/payouts", nil, with(`}}`, `}, "source": {"financialAccountId": null}}`), 200, ""},
		{"source without account", "POST", "/payouts", nil, with(`}}`, `}, "source": {}}`), 200, ""},
		{"no token", "POST", "/payouts", map[string]string{"Authorization": ""}, valid, 401, "unauthenticated"},
		{"basic auth", "POST", "/payouts", map[string]string{"Authorization": "Basic " + creds.MonimeToken}, valid, 401, "unauthenticated"},
		{"no space", "POST", "/payouts", map[string]string{"Monime-Space-Id": ""}, valid, 400, "invalid_request"},
		{"no idempotency key", "POST", "/payouts", map[string]string{"Idempotency-Key": ""}, valid, 400, "invalid_request"},
		{"idempotency key too long", "POST", "/payouts", map[string]string{"Idempotency-Key": strings.Repeat("k", 65)}, valid, 400, "invalid_request"},
		{"form encoded", "POST", "/payouts", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, valid, 415, "unsupported_media_type"},
		{"not json", "POST", "/payouts", nil, `{"amount":`, 400, "invalid_request"},
		{"unknown field", "POST", "/payouts", nil, with(`}}`, `}, "recipient": "x"}`), 400, "invalid_request"},
		{"newer api destination", "POST", "/payouts", nil, with(`"providerCode"`, `"providerId"`), 400, "invalid_request"},
		{"value as string", "POST", "/payouts", nil, with(`15000`, `"15000"`), 422, "validation_failed"},
		{"value in major units", "POST", "/payouts", nil, with(`15000`, `150.00`), 422, "validation_failed"},
		{"zero value", "POST", "/payouts", nil, with(`15000`, `0`), 422, "validation_failed"},
		{"xof", "POST", "/payouts", nil, with(`"SLE"`, `"XOF"`), 422, "validation_failed"},
		{"unknown provider", "POST", "/payouts", nil, with(`"m17"`, `"m99"`), 422, "validation_failed"},
		{"local phone", "POST", "/payouts", nil, with(`+23276123456`, `076123456`), 422, "validation_failed"},
		{"no destination", "POST", "/payouts", nil, `{"amount": {"currency": "SLE", "value": 1}}`, 422, "validation_failed"},
		{"metadata value too long", "POST", "/payouts", nil, md(1, 101), 422, "validation_failed"},
		{"metadata too many", "POST", "/payouts", nil, md(65, 1), 422, "validation_failed"},
		{"metadata at the limit", "POST", "/payouts", nil, md(64, 100), 200, ""},
		{"get without token", "GET", "/payouts/pyt-1", map[string]string{"Authorization": "Bearer nope"}, "", 401, "unauthenticated"},
		{"delete in another space", "DELETE", "/payouts/pyt-1", map[string]string{"Monime-Space-Id": "spc-other"}, "", 403, "permission_denied"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, env.BaseURL(providers.Monime)+tt.path, bytes.NewBufferString(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", fmt.Sprintf("raw-%d", i))
			req.Header.Set("Authorization", "Bearer "+creds.MonimeToken)
			req.Header.Set("Monime-Space-Id", creds.MonimeSpaceID)
			for k, v := range tt.header {
				req.Header.Del(k)
				if v != "" {
					req.Header.Set(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var env struct {
				Success bool `json:"success"`
				Result  struct {
					ID string `json:"id"`
				} `json:"result"`
				Error struct {
					Code   int    `json:"code"`
					Reason string `json:"reason"`
				} `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			if resp.StatusCode != tt.wantStatus || env.Error.Reason != tt.wantReason {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, env.Error.Reason, tt.wantStatus, tt.wantReason)
			}
			if ok := tt.wantStatus == 200; env.Success != ok || (ok && env.Result.ID == "") || (!ok && env.Error.Code != tt.wantStatus) {
				t.Errorf("got envelope %+v, want success %v with the matching result or error", env, ok)
			}
		})
	}
}
