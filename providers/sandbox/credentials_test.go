package sandbox

import (
	"strings"
	"testing"
)

func TestCredentialsRoundTrip(t *testing.T) {
	c, err := GenerateCredentials()
	if err != nil {
		t.Fatal(err)
	}
	text, err := c.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "PRIVATE KEY") || !strings.Contains(string(text), c.FedaPayWebhookSecret) {
		t.Fatalf("encoded credentials lack the keys or secrets: %.200s", text)
	}
	var back Credentials
	if err := back.UnmarshalText(text); err != nil {
		t.Fatal(err)
	}
	if back.KibramoaAPIKey != c.KibramoaAPIKey || back.MonimeSpaceID != c.MonimeSpaceID ||
		!back.SmartGlocalPartnerKey.Equal(c.SmartGlocalPartnerKey) || !back.SmartGlocalProviderKey.Equal(c.SmartGlocalProviderKey) {
		t.Error("credentials changed in the round trip")
	}
	if err := back.UnmarshalText([]byte(`{"kibramoa_api_key":"x"}`)); err == nil {
		t.Error("credentials without keys were accepted")
	}
}
