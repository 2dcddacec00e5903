package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
	"payoutdesk/providers/fedapay"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/sandbox/sandboxtest"
)

// fpCall sends one raw request to the FedaPay simulator and decodes the answer.
func fpCall(t *testing.T, env *sandboxtest.Env, method, path, key, body string) (int, map[string]any) {
	t.Helper()
	return fpCallAs(t, env, method, path, key, "application/json", body)
}

// fpCallAs is fpCall with the given Content-Type, none if empty.
func fpCallAs(t *testing.T, env *sandboxtest.Env, method, path, key, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, env.BaseURL(providers.FedaPay)+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: answer %q is not a JSON object: %v", method, path, raw, err)
	}
	return resp.StatusCode, m
}

const fpBody = `{"amount": 2000, "currency": {"iso": "XOF"}, "mode": "mtn_open", "merchant_reference": "REF",
	"customer": {"firstname": "John", "lastname": "Doe", "email": "john@example.com",
	"phone_number": {"number": "97808080", "country": "bj"}}}`

func TestFedaPaySimValidation(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{})
	key := env.Credentials.FedaPaySecretKey
	if status, _ := fpCall(t, env, "POST", "/payouts", key, strings.Replace(fpBody, "REF", "dup", 1)); status != http.StatusCreated {
		t.Fatalf("first create: got %d, want 201", status)
	}
	tests := []struct {
		name       string
		method     string
		path       string
		key        string
		body       string
		wantStatus int
		wantErrors []string
	}{
		{"no key", "POST", "/payouts", "", fpBody, 401, nil},
		{"wrong key", "GET", "/payouts/1", "sk_sandbox_nope", "", 401, nil},
		{"missing mode", "POST", "/payouts", key, strings.Replace(fpBody, `"mode": "mtn_open",`, "", 1), 422, []string{"mode"}},
		{"unknown mode", "POST", "/payouts", key, strings.Replace(fpBody, "mtn_open", "mtn", 1), 422, []string{"mode"}},
		{"mode of another country", "POST", "/payouts", key, strings.Replace(fpBody, "mtn_open", "togocel", 1), 422, []string{"mode"}},
		{"amount as string", "POST", "/payouts", key, strings.Replace(fpBody, "2000", `"2000"`, 1), 422, []string{"amount"}},
		{"amount with decimals", "POST", "/payouts", key, strings.Replace(fpBody, "2000", "2000.5", 1), 422, []string{"amount"}},
		{"amount over the limit", "POST", "/payouts", key, strings.Replace(fpBody, "2000", "1000001", 1), 422, []string{"amount"}},
		{"other currency", "POST", "/payouts", key, strings.Replace(fpBody, "XOF", "EUR", 1), 422, []string{"currency.iso"}},
		{"names missing", "POST", "/payouts", key, strings.NewReplacer(`"John"`, `""`, `"Doe"`, `" "`).Replace(fpBody), 422,
			[]string{"customer.firstname", "customer.lastname"}},
		{"name of the wrong type", "POST", "/payouts", key, strings.Replace(fpBody, `"John"`, `42`, 1), 422, []string{"customer.firstname"}},
		{"duplicate merchant reference", "POST", "/payouts", key, strings.Replace(fpBody, "REF", "dup", 1), 422, []string{"merchant_reference"}},
		{"not JSON", "POST", "/payouts", key, `{"amount":`, 400, nil},
		{"start nothing", "PUT", "/payouts/start", key, `{"payouts": []}`, 422, []string{"payouts"}},
		{"start unknown payout", "PUT", "/payouts/start", key, `{"payouts": [{"id": 999}]}`, 422, []string{"payouts.0.id"}},
		{"unknown payout", "GET", "/payouts/999", key, "", 404, nil},
		{"unknown path", "GET", "/transactions", key, "", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, m := fpCall(t, env, tt.method, tt.path, tt.key, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("got %d %v, want %d", status, m, tt.wantStatus)
			}
			if msg, _ := m["message"].(string); msg == "" {
				t.Errorf("got %v, want a message", m)
			}
			errs, ok := m["errors"].(map[string]any)
			if !ok {
				t.Fatalf("got errors %v, want an object", m["errors"])
			}
			var fields []string
			for k := range errs {
				fields = append(fields, k)
			}
			if len(fields) != len(tt.wantErrors) || (len(fields) > 0 && !sameSet(fields, tt.wantErrors)) {
				t.Errorf("error fields: got %v, want %v", fields, tt.wantErrors)
			}
		})
	}
	if got := env.Sandbox.Count(providers.FedaPay, "payout created"); got != 1 {
		t.Errorf("payouts created: got %d, want 1", got)
	}
}

// FedaPay reads no JSON from a body not sent as application/json, so a
// payout sent without that Content-Type is refused as missing every field.
func TestFedaPaySimNeedsJSONContentType(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{})
	key := env.Credentials.FedaPaySecretKey
	tests := []struct {
		name, method, path, contentType, body string
		wantErrors                            []string
	}{
		{"create without Content-Type", "POST", "/payouts", "", fpBody, []string{"amount", "currency", "customer", "mode"}},
		{"create as text", "POST", "/payouts", "text/plain", fpBody, []string{"amount", "currency", "customer", "mode"}},
		{"start without Content-Type", "PUT", "/payouts/start", "", `{"payouts": [{"id": 1}]}`, []string{"payouts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, m := fpCallAs(t, env, tt.method, tt.path, key, tt.contentType, tt.body)
			errs, _ := m["errors"].(map[string]any)
			var fields []string
			for k := range errs {
				fields = append(fields, k)
			}
			if status != http.StatusUnprocessableEntity || m["message"] != "The given data was invalid." || !sameSet(fields, tt.wantErrors) {
				t.Errorf("got %d %v, want 422 with errors on %v", status, m, tt.wantErrors)
			}
		})
	}
	if got := env.Sandbox.Count(providers.FedaPay, "payout created"); got != 0 {
		t.Errorf("payouts created: got %d, want 0", got)
	}
	if status, m := fpCallAs(t, env, "POST", "/payouts", key, "application/json; charset=utf-8", fpBody); status != http.StatusCreated {
		t.Errorf("create with a charset: got %d %v, want 201", status, m)
	}
}

func sameSet(a, b []string) bool {
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestFedaPaySimLifecycle(t *testing.T) {
	env := sandboxtest.Start(t, sandbox.Config{})
	key := env.Credentials.FedaPaySecretKey
	status, created := fpCall(t, env, "POST", "/payouts", key, fpBody)
	obj, _ := created["v1/payout"].(map[string]any)
	if status != http.StatusCreated || obj["klass"] != "v1/payout" || obj["status"] != "pending" || obj["deleted_at"] != nil {
		t.Fatalf("create: got %d %v, want 201 with a pending v1/payout", status, created)
	}
	idText := jsonNum(obj["id"].(float64))

	time.Sleep(5 * 20 * time.Millisecond) // a payout never started stays pending
	if _, got := fpCall(t, env, "GET", "/payouts/"+idText, key, ""); got["v1/payout"].(map[string]any)["status"] != "pending" {
		t.Errorf("unstarted payout: got %v, want pending", got)
	}

	// A scheduled payout waits for its time, read as UTC, then goes on.
	at := time.Now().UTC().Add(time.Second).Format(time.DateTime)
	status, started := fpCall(t, env, "PUT", "/payouts/start", key, `{"payouts": [{"id": `+idText+`, "scheduled_at": "`+at+`"}]}`)
	list, _ := started["v1/payouts"].([]any)
	if status != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["status"] != "scheduled" {
		t.Fatalf("start: got %d %v, want 200 with one scheduled payout", status, started)
	}
	if status, _ := fpCall(t, env, "PUT", "/payouts/start", key, `{"payouts": [{"id": `+idText+`}]}`); status != 422 {
		t.Errorf("second start: got %d, want 422", status)
	}
	if status, _ := fpCall(t, env, "DELETE", "/payouts/"+idText, key, ""); status != 422 {
		t.Errorf("delete of a started payout: got %d, want 422", status)
	}

	var names []string
	for _, d := range env.Webhooks.Wait(t, providers.FedaPay, 3, 5*time.Second) {
		if err := fedapay.Verify(env.Credentials.FedaPayWebhookSecret, d.Header.Get(fedapay.SignatureHeader), d.Body, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook signature: %v", err)
		}
		var ev struct{ Name, Object string }
		json.Unmarshal(d.Body, &ev)
		names = append(names, ev.Object+" "+ev.Name)
	}
	if diff := cmp.Diff([]string{"payout payout.scheduled", "payout payout.processing", "payout payout.sent"}, names); diff != "" {
		t.Errorf("webhooks mismatch (-want +got):\n%s", diff)
	}

	_, second := fpCall(t, env, "POST", "/payouts", key, strings.Replace(fpBody, "REF", "REF-2", 1))
	id2 := jsonNum(second["v1/payout"].(map[string]any)["id"].(float64))
	status, deleted := fpCall(t, env, "DELETE", "/payouts/"+id2, key, "")
	if status != http.StatusOK || deleted["v1/payout"].(map[string]any)["deleted_at"] == nil {
		t.Errorf("delete: got %d %v, want 200 with deleted_at", status, deleted)
	}
	if status, _ := fpCall(t, env, "PUT", "/payouts/start", key, `{"payouts": [{"id": `+id2+`}]}`); status != 422 {
		t.Errorf("start of a deleted payout: got %d, want 422", status)
	}
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// A sandbox started again (the app restarted) never reuses a payout or
// event id of the one before: the app drops a webhook whose event id it has
// seen as a duplicate, and looks payouts up by id.
func TestFedaPaySimIDsOutliveRestarts(t *testing.T) {
	run := func() (payoutID, eventID float64) {
		env := sandboxtest.Start(t, sandbox.Config{})
		key := env.Credentials.FedaPaySecretKey
		_, created := fpCall(t, env, "POST", "/payouts", key, fpBody)
		id := created["v1/payout"].(map[string]any)["id"].(float64)
		fpCall(t, env, "PUT", "/payouts/start", key, `{"payouts": [{"id": `+jsonNum(id)+`}]}`)
		d := env.Webhooks.Wait(t, providers.FedaPay, 1, 5*time.Second)
		var ev struct {
			ID float64 `json:"id"`
		}
		if err := json.Unmarshal(d[0].Body, &ev); err != nil || ev.ID == 0 {
			t.Fatalf("webhook %s: no event id (%v)", d[0].Body, err)
		}
		return id, ev.ID
	}
	firstPayout, firstEvent := run()
	secondPayout, secondEvent := run()
	if secondPayout <= firstPayout || secondEvent <= firstEvent {
		t.Errorf("after a restart: payout id %v (was %v), event id %v (was %v); want both larger",
			jsonNum(secondPayout), jsonNum(firstPayout), jsonNum(secondEvent), jsonNum(firstEvent))
	}
}
