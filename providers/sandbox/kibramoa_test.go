package sandbox

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
	"payoutdesk/providers/kibramoa"
)

const kibTestKey = "kib-test-key"

type kibHook struct {
	header http.Header
	body   []byte
}

// kibStart serves a sandbox with Kibramoa credentials and collects its webhooks.
func kibStart(t *testing.T) (base string, hooks func() []kibHook) {
	t.Helper()
	var mu sync.Mutex
	var got []kibHook
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, kibHook{r.Header.Clone(), b})
		mu.Unlock()
	}))
	t.Cleanup(rec.Close)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	sb := New(Config{
		BaseURL:     srv.URL,
		Step:        5 * time.Millisecond,
		WebhookURL:  func(providers.Name) string { return rec.URL },
		Credentials: Credentials{KibramoaAPIKey: kibTestKey, KibramoaWebhookSecret: "kib-secret"},
	})
	mux.Handle("/", sb.Handler())
	t.Cleanup(func() { srv.CloseClientConnections(); sb.Close(); srv.Close() })
	return srv.URL + KibramoaPrefix, func() []kibHook {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

func kibDo(t *testing.T, method, u, contentType, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("X-API-KEY", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %v", method, u, err)
	}
	return resp.StatusCode, m
}

const kibValid = `{"country":"BR","currency":"BRL","amount":150.00,"redirectUrl":"https://desk.example/r"}`

func TestKibramoaSessionValidation(t *testing.T) {
	base, _ := kibStart(t)
	required := []any{"country should not be empty", "country must be a string", "currency should not be empty", "currency must be a string",
		"amount should not be empty", kibConforming, "redirectUrl should not be empty", "redirectUrl must be a string"}
	with := func(extra string) string { return strings.TrimSuffix(kibValid, "}") + "," + extra + "}" }
	tests := []struct {
		name        string
		contentType string
		key         string
		body        string
		wantStatus  int
		wantMessage any
	}{
		{"no key", "application/json", "", kibValid, 401, "Unauthorized"},
		{"wrong key", "application/json", "other", kibValid, 401, "Unauthorized"},
		{"empty body", "application/json", kibTestKey, "", 400, required},
		{"JSON sent as text", "text/plain", kibTestKey, kibValid, 400, required},
		{"broken JSON", "application/json", kibTestKey, `{"country":`, 400, "Unexpected token in JSON at position 11"},
		{"wrong types", "application/json", kibTestKey, `{"country":1,"currency":"BRL","amount":"150.00","redirectUrl":"desk"}`, 400,
			[]any{"country must be a string", kibConforming, "redirectUrl must be a URL address"}},
		{"unknown currency and country", "application/json", kibTestKey, `{"country":"Brazil","currency":"BRX","amount":1,"redirectUrl":"https://d.example"}`, 400,
			[]any{"country must be a valid ISO31661 Alpha2 code", "currency must be a valid ISO4217 currency code"}},
		{"three decimals", "application/json", kibTestKey, strings.Replace(kibValid, "150.00", "150.005", 1), 400, []any{kibConforming}},
		{"zero", "application/json", kibTestKey, strings.Replace(kibValid, "150.00", "0.00", 1), 400, []any{"amount must be a positive number"}},
		{"negative", "application/json", kibTestKey, strings.Replace(kibValid, "150.00", "-1", 1), 400, []any{"amount must be a positive number"}},
		{"optional fields out of bounds", "application/json", kibTestKey,
			with(`"merchantReference":"` + strings.Repeat("r", 37) + `","userDevice":"PHONE","ip":"1.2.3","language":"POR","merchant_reference":"x"`), 400,
			[]any{"merchantReference must be shorter than or equal to 36 characters", "userDevice must be one of the following values: MOBILE, DESKTOP, TABLET",
				"ip must be an ip address", "language must be exactly 2 characters", "property merchant_reference should not exist"}},
		{"currency of another country", "application/json", kibTestKey, strings.Replace(kibValid, `"BR"`, `"CL"`, 1), 400,
			"No payout options available for country CL and currency BRL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := kibDo(t, http.MethodPost, base+"/payout-session", tt.contentType, tt.key, tt.body)
			want := map[string]any{"statusCode": float64(tt.wantStatus), "message": tt.wantMessage}
			if tt.wantStatus == 400 {
				want["error"] = "Bad Request"
			}
			if status != tt.wantStatus {
				t.Errorf("got HTTP %d, want %d", status, tt.wantStatus)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("envelope mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKibramoaNotFound(t *testing.T) {
	base, _ := kibStart(t)
	for _, path := range []string{"/nope", "/payout-session"} {
		status, got := kibDo(t, http.MethodGet, base+path, "", kibTestKey, "")
		want := map[string]any{"statusCode": float64(404), "message": "Cannot GET " + path, "error": "Not Found"}
		if diff := cmp.Diff(want, got); diff != "" || status != 404 {
			t.Errorf("GET %s: got HTTP %d, mismatch (-want +got):\n%s", path, status, diff)
		}
	}
}

func TestKibramoaShapes(t *testing.T) {
	base, hooks := kibStart(t)
	status, created := kibDo(t, http.MethodPost, base+"/payout-session", "application/json", kibTestKey,
		`{"country":"MX","currency":"MXN","amount":99.50,"redirectUrl":"https://desk.example/r","merchantReference":"ref-1","extra1":"e1"}`)
	if status != http.StatusCreated {
		t.Fatalf("got HTTP %d %v, want 201", status, created)
	}
	cashier, _ := created["cashierUrl"].(string)
	u, err := url.Parse(cashier)
	if err != nil || u.Query().Get("sessionId") == "" {
		t.Fatalf("got cashierUrl %q, want one with a sessionId", cashier)
	}
	form := url.Values{"sessionId": {u.Query().Get("sessionId")}, "option": {"SPEI"}, "account": {"012345678901234567"}, "action": {"complete"}}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).PostForm(cashier, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	deadline := time.Now().Add(2 * time.Second)
	for len(hooks()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got := hooks()
	if len(got) != 2 {
		t.Fatalf("got %d notifications, want 2", len(got))
	}
	final := got[1]
	if sig := final.header.Get("x-signature"); sig != kibramoa.Sign("kib-secret", final.body) {
		t.Errorf("got x-signature %q, want base64 HMAC-SHA256 of the body", sig)
	}
	var n map[string]any
	if err := json.Unmarshal(final.body, &n); err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{"country", "currency", "customer", "extra1", "extra2", "extra3", "internalId", "language", "merchantName",
		"merchantReference", "paymentAmount", "paymentOptionName", "paymentReference", "sessionId", "status", "type", "userId"}
	if diff := cmp.Diff(wantKeys, slices.Sorted(maps.Keys(n))); diff != "" {
		t.Errorf("notification keys mismatch (-want +got):\n%s", diff)
	}
	if n["status"] != "COMPLETED" || n["paymentAmount"] != 99.5 || n["paymentOptionName"] != "SPEI" {
		t.Errorf("got notification %v, want COMPLETED 99.50 by SPEI", n)
	}
	if strings.Contains(string(final.body), "012345678901234567") {
		t.Error("the notification carries the customer's full account number")
	}

	status, tx := kibDo(t, http.MethodGet, base+"/payments/"+n["internalId"].(string), "", kibTestKey, "")
	wantTx := []string{"country", "createdAt", "currency", "customer", "errors", "id", "merchantReference", "method", "paymentAmount",
		"paymentReference", "redirectUrl", "sessionId", "status", "updatedAt"}
	if diff := cmp.Diff(wantTx, slices.Sorted(maps.Keys(tx))); diff != "" || status != http.StatusOK {
		t.Errorf("got HTTP %d, transaction keys mismatch (-want +got):\n%s", status, diff)
	}
	if tx["id"] != n["internalId"] || tx["sessionId"] != n["sessionId"] || tx["errors"] != nil || tx["method"] != "SPEI" {
		t.Errorf("got transaction %v, want it to match notification %v", tx, n)
	}
}
