package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"payoutdesk/providers"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
	"payoutdesk/providers/smartglocal"
)

type sgAnswer struct {
	Status  string `json:"status"`
	Session *struct {
		ID         string `json:"id"`
		Status     string `json:"status"`
		NextAction string `json:"next_action"`
		Payments   []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"payments"`
	} `json:"session"`
	Error *struct {
		Code        string `json:"code"`
		Description string `json:"description"`
	} `json:"error"`
}

// sgPost sends a raw signed request to the simulated Smart Glocal.
func sgPost(t *testing.T, env *sandboxtest.Env, method, body string, header map[string]string) (int, sgAnswer) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, env.BaseURL(providers.SmartGlocal)+"/"+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := smartglocal.Sign(env.Credentials.SmartGlocalPartnerKey, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(smartglocal.HeaderProject, env.Credentials.SmartGlocalProject)
	req.Header.Set(smartglocal.HeaderSignature, sig)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a sgAnswer
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&a); err != nil {
		t.Fatalf("answer %s is not JSON: %v", raw, err)
	}
	return resp.StatusCode, a
}

func sgSession(t *testing.T, env *sandboxtest.Env, body string) string {
	t.Helper()
	status, a := sgPost(t, env, "session/create", body, nil)
	if status != 200 || a.Session == nil || !strings.HasPrefix(a.Session.ID, "ps_") || a.Session.Status != "created" {
		t.Fatalf("session/create: got %d %+v, want 200 and a created ps_ session", status, a)
	}
	return a.Session.ID
}

const (
	sgMethod  = `"payment_method":{"type":"bank_account","bank_account":{"system_type":"global","global":{"iban":"BE71096123456769"}}}`
	sgAmount  = `"amount_details":{"amount":15000,"currency":"eur"}`
	sgPeople  = `"participant_details":{"recipient":{"first_name":"John","last_name":"Johnson","country_iso3":"BEL"}}`
	sgCardPM  = `"payment_method":{"type":"card","card":{"type":"bank_card","bank_card":{"number":"4111111111111111"}}}`
	sgCardWho = `"participant_details":{"recipient":{"full_name":"Ann Lee"}}`
)

func TestSmartGlocalStartValidation(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{})
	tests := []struct {
		name       string
		body       string // after {"session_id":"…",
		wantStatus int
		wantCode   string
	}{
		{"valid bank payout", sgMethod + `,` + sgAmount + `,` + sgPeople + `}`, 200, ""},
		{"valid card payout", sgCardPM + `,` + sgAmount + `,` + sgCardWho + `}`, 200, ""},
		{"missing payment_method", sgAmount + `,` + sgPeople + `}`, 400, "validation_error"},
		{"missing amount_details", sgMethod + `,` + sgPeople + `}`, 400, "validation_error"},
		{"zero amount", sgMethod + `,"amount_details":{"amount":0,"currency":"eur"},` + sgPeople + `}`, 400, "validation_error"},
		{"amount as a string", sgMethod + `,"amount_details":{"amount":"15000","currency":"eur"},` + sgPeople + `}`, 400, "validation_error"},
		{"fractional amount", sgMethod + `,"amount_details":{"amount":150.5,"currency":"eur"},` + sgPeople + `}`, 400, "validation_error"},
		{"unknown currency", sgMethod + `,"amount_details":{"amount":100,"currency":"eux"},` + sgPeople + `}`, 400, "validation_error"},
		{"unknown payment method", `"payment_method":{"type":"wallet"},` + sgAmount + `,` + sgPeople + `}`, 400, "validation_error"},
		{"unsupported system type", `"payment_method":{"type":"bank_account","bank_account":{"system_type":"ru"}},` + sgAmount + `,` + sgPeople + `}`, 400, "validation_error"},
		{"IBAN with spaces", `"payment_method":{"type":"bank_account","bank_account":{"system_type":"global","global":{"iban":"BE71 0961 2345 6769"}}},` + sgAmount + `,` + sgPeople + `}`, 400, "validation_error"},
		{"bank payout without last name", sgMethod + `,` + sgAmount + `,"participant_details":{"recipient":{"first_name":"John"}}}`, 400, "validation_error"},
		{"card payout without full name", sgCardPM + `,` + sgAmount + `,` + sgPeople + `}`, 400, "validation_error"},
		{"short card number", `"payment_method":{"type":"card","card":{"type":"bank_card","bank_card":{"number":"4111"}}},` + sgAmount + `,` + sgCardWho + `}`, 400, "validation_error"},
		{"lowercase country", sgMethod + `,` + sgAmount + `,"participant_details":{"recipient":{"first_name":"J","last_name":"J","country_iso3":"bel"}}}`, 400, "validation_error"},
		{"misspelt field", sgMethod + `,` + sgAmount + `,` + sgPeople + `,"metdata":{}}`, 400, "invalid_request"},
		{"not JSON", `nope`, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := sgSession(t, env, `{}`)
			status, a := sgPost(t, env, "session/start/payout", `{"session_id":"`+id+`",`+tt.body, nil)
			if status != tt.wantStatus {
				t.Fatalf("got %d %+v, want %d", status, a.Error, tt.wantStatus)
			}
			if tt.wantCode == "" {
				if a.Status != "ok" || a.Session == nil || len(a.Session.Payments) != 1 || a.Session.Payments[0].Status != "in_progress" || a.Session.Status != "in_progress" {
					t.Errorf("got %+v, want an in_progress session with one in_progress payout", a)
				}
				return
			}
			if a.Status != "error" || a.Error == nil || a.Error.Code != tt.wantCode || a.Error.Description == "" {
				t.Errorf("got %+v, want status error with code %s and a description", a, tt.wantCode)
			}
		})
	}
}

func TestSmartGlocalSessionErrors(t *testing.T) {
	// No status advances during the test: the session stays before ready_to_confirm.
	env := sandboxtest.Start(t, sandbox.Config{Step: time.Hour})
	started := sgSession(t, env, `{`+sgMethod+`,`+sgAmount+`,`+sgPeople+`}`)
	if status, a := sgPost(t, env, "session/start/payout", `{"session_id":"`+started+`"}`, nil); status != 200 {
		t.Fatalf("start with the payout data given at create: got %d %+v, want 200", status, a.Error)
	}
	tests := []struct {
		name, method, body string
		header             map[string]string
		wantStatus         int
		wantCode           string
	}{
		{"start twice", "session/start/payout", `{"session_id":"` + started + `"}`, nil, 400, "invalid_session_status"},
		{"confirm before ready", "session/confirm", `{"session_id":"` + started + `"}`, nil, 400, "invalid_session_status"},
		{"status of an unknown session", "session/status", `{"session_id":"ps_nope"}`, nil, 404, "session_not_found"},
		{"confirm an unknown session", "session/confirm", `{"session_id":"ps_nope"}`, nil, 404, "session_not_found"},
		{"no project", "session/status", `{"session_id":"` + started + `"}`, map[string]string{smartglocal.HeaderProject: ""}, 401, "invalid_project"},
		{"no signature", "session/status", `{"session_id":"` + started + `"}`, map[string]string{smartglocal.HeaderSignature: ""}, 401, "invalid_signature"},
		{"signature of another body", "session/status", `{"session_id":"` + started + `"}`, map[string]string{smartglocal.HeaderSignature: "c2ln"}, 401, "invalid_signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, a := sgPost(t, env, tt.method, tt.body, tt.header)
			if status != tt.wantStatus || a.Status != "error" || a.Error == nil || a.Error.Code != tt.wantCode {
				t.Errorf("got %d %+v, want %d with code %s", status, a.Error, tt.wantStatus, tt.wantCode)
			}
		})
	}
	if got := env.Sandbox.Count(providers.SmartGlocal, "payout created"); got != 1 {
		t.Errorf("got %d payouts created, want 1", got)
	}
}

// Every Smart Glocal request is sent as application/json; one without that
// Content-Type is refused as an invalid request and changes nothing.
func TestSmartGlocalNeedsJSONContentType(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{Step: time.Hour})
	id := sgSession(t, env, `{}`)
	start := `{"session_id":"` + id + `",` + sgMethod + `,` + sgAmount + `,` + sgPeople + `}`
	tests := []struct {
		name, method, body, contentType string
	}{
		{"create without Content-Type", "session/create", `{}`, ""},
		{"create as text", "session/create", `{}`, "text/plain"},
		{"start without Content-Type", "session/start/payout", start, ""},
		{"status without Content-Type", "session/status", `{"session_id":"` + id + `"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, a := sgPost(t, env, tt.method, tt.body, map[string]string{"Content-Type": tt.contentType})
			if status != http.StatusBadRequest || a.Status != "error" || a.Error == nil || a.Error.Code != "invalid_request" || a.Error.Description == "" {
				t.Errorf("got %d %+v, want 400 with code invalid_request and a description", status, a.Error)
			}
		})
	}
	if got := env.Sandbox.Count(providers.SmartGlocal, "session created"); got != 1 {
		t.Errorf("got %d sessions created, want 1", got)
	}
	if got := env.Sandbox.Count(providers.SmartGlocal, "payout created"); got != 0 {
		t.Errorf("got %d payouts created, want 0", got)
	}
	if status, a := sgPost(t, env, "session/start/payout", start, map[string]string{"Content-Type": "application/json; charset=utf-8"}); status != 200 {
		t.Errorf("start with a charset: got %d %+v, want 200", status, a.Error)
	}
}

func TestSmartGlocalIdempotentCreate(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{})
	key := map[string]string{smartglocal.DefaultIdempotencyHeader: "key-1"}
	_, first := sgPost(t, env, "session/create", `{}`, key)
	_, second := sgPost(t, env, "session/create", `{}`, key)
	_, other := sgPost(t, env, "session/create", `{}`, map[string]string{smartglocal.DefaultIdempotencyHeader: "key-2"})
	if first.Session == nil || second.Session == nil || other.Session == nil {
		t.Fatalf("got %+v %+v %+v, want three sessions", first, second, other)
	}
	if first.Session.ID != second.Session.ID || first.Session.ID == other.Session.ID {
		t.Errorf("got ids %s %s %s, want the first two equal and the third different", first.Session.ID, second.Session.ID, other.Session.ID)
	}
	if got := env.Sandbox.Count(providers.SmartGlocal, "session created"); got != 2 {
		t.Errorf("got %d sessions created, want 2", got)
	}
}
