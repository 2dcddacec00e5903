package db

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestSecretKey(t *testing.T) {
	for k, want := range map[string]bool{
		"password": true, "Password": true, "new_password": true, "passwd": true,
		"client_secret": true, "clientSecret": true, "SECRET": true, "webhook-secret": true,
		"token": true, "accessToken": true, "csrf_token": true, "X-Auth-Token": true,
		"api_key": true, "apikey": true, "X-Api-Key": true, "apiKey": true, "APIKey": true, "api key": true,
		"private_key": true, "privateKey": true, "PRIVATEKEY": true, "private-key": true,
		"authorization": true, "Authorization": true, "proxy_authorization": true,
		"passWord": true, "PassWord": true, "passWd": true, "sEcret": true, "x_toKen": true, "authToken": true, "user.password": true,
		"": false, "kept": false, "key": false, "keys": false, "public_key": false, "key_id": false,
		"tokens_used": false, "secretary": false, "passwords_rotated": false, "idempotency_key": false,
		"apiary": false, "reason": false, "approval_hash": false, "private": false,
	} {
		if got := secretKey(k); got != want {
			t.Errorf("secretKey(%q) = %v, want %v", k, got, want)
		}
	}
}

func TestRedactReachesEveryMapAndSlice(t *testing.T) {
	details := map[string]any{
		"filter":  url.Values{"token": {"t1"}, "action": {"payout.created"}},
		"headers": map[string]string{"Authorization": "Bearer b1", "Accept": "json"},
		"list":    []map[string]any{{"secret": "s1", "n": 1}},
		"any":     []any{nil, map[string]string{"token": "t2"}},
		"nested":  map[string]map[string]string{"x": {"apiKey": "k1"}},
		"bytes":   []byte("kept"),
		"none":    nil,
		"number":  42,
	}
	b, err := json.Marshal(redact(details))
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, secret := range []string{"t1", "t2", "b1", "s1", "k1"} {
		if strings.Contains(got, secret) {
			t.Errorf("redacted details %s still hold %q", got, secret)
		}
	}
	for _, kept := range []string{`"action":["payout.created"]`, `"Accept":"json"`, `"n":1`, `"bytes":"a2VwdA=="`, `"none":null`, `"number":42`, `"any":[null,{"token":"[redacted]"}]`} {
		if !strings.Contains(got, kept) {
			t.Errorf("redacted details %s lost %s", got, kept)
		}
	}
}
