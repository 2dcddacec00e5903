package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"payoutdesk/providers/smartglocal"
)

// Credentials are the keys shared by the sandbox and the app's clients when a
// provider runs on the sandbox. They are random per installation, so nobody
// else can call the sandbox or forge its webhooks, but they move no money.
type Credentials struct {
	KibramoaAPIKey        string `json:"kibramoa_api_key"`
	KibramoaWebhookSecret string `json:"kibramoa_webhook_secret"`

	SmartGlocalProject string `json:"smartglocal_project"`
	// SmartGlocalPartnerKey signs the app's requests; the sandbox verifies
	// them with its public half.
	SmartGlocalPartnerKey *rsa.PrivateKey `json:"-"`
	// SmartGlocalProviderKey signs the sandbox's webhooks; the app verifies
	// them with its public half.
	SmartGlocalProviderKey *rsa.PrivateKey `json:"-"`

	MonimeToken         string `json:"monime_token"`
	MonimeSpaceID       string `json:"monime_space_id"`
	MonimeWebhookSecret string `json:"monime_webhook_secret"`

	FedaPaySecretKey     string `json:"fedapay_secret_key"`
	FedaPayWebhookSecret string `json:"fedapay_webhook_secret"`
}

// GenerateCredentials makes a fresh random set. RSA key generation takes tens
// of milliseconds, so callers keep the result (MarshalText) and reuse it.
func GenerateCredentials() (Credentials, error) {
	partner, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Credentials{}, fmt.Errorf("sandbox: generate partner key: %w", err)
	}
	provider, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Credentials{}, fmt.Errorf("sandbox: generate provider key: %w", err)
	}
	return Credentials{
		KibramoaAPIKey:         rand.Text() + "." + rand.Text(),
		KibramoaWebhookSecret:  rand.Text(),
		SmartGlocalProject:     "sandbox-" + rand.Text()[:8],
		SmartGlocalPartnerKey:  partner,
		SmartGlocalProviderKey: provider,
		MonimeToken:            "mon_sandbox_" + rand.Text(),
		MonimeSpaceID:          "spc-sandbox" + rand.Text()[:12],
		MonimeWebhookSecret:    rand.Text() + rand.Text(),
		FedaPaySecretKey:       "sk_sandbox_" + rand.Text(),
		FedaPayWebhookSecret:   "wh_sandbox_" + rand.Text(),
	}, nil
}

// plainCredentials has Credentials' fields without its methods, so that
// encoding it does not recurse into MarshalText.
type plainCredentials Credentials

type credentialsText struct {
	plainCredentials
	PartnerKeyPEM  string `json:"smartglocal_partner_key_pem"`
	ProviderKeyPEM string `json:"smartglocal_provider_key_pem"`
}

// MarshalText encodes c, RSA keys as PKCS#8 PEM, for storage.
func (c Credentials) MarshalText() ([]byte, error) {
	if c.SmartGlocalPartnerKey == nil || c.SmartGlocalProviderKey == nil {
		return nil, errors.New("sandbox: credentials without RSA keys")
	}
	partner, err := privatePEM(c.SmartGlocalPartnerKey)
	if err != nil {
		return nil, err
	}
	provider, err := privatePEM(c.SmartGlocalProviderKey)
	if err != nil {
		return nil, err
	}
	return json.Marshal(credentialsText{plainCredentials: plainCredentials(c), PartnerKeyPEM: partner, ProviderKeyPEM: provider})
}

// UnmarshalText decodes what MarshalText produced.
func (c *Credentials) UnmarshalText(b []byte) error {
	var t credentialsText
	if err := json.Unmarshal(b, &t); err != nil {
		return fmt.Errorf("sandbox: decode credentials: %w", err)
	}
	partner, err := smartglocal.ParsePrivateKey([]byte(t.PartnerKeyPEM))
	if err != nil {
		return err
	}
	provider, err := smartglocal.ParsePrivateKey([]byte(t.ProviderKeyPEM))
	if err != nil {
		return err
	}
	*c = Credentials(t.plainCredentials)
	c.SmartGlocalPartnerKey, c.SmartGlocalProviderKey = partner, provider
	return nil
}

func privatePEM(k *rsa.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", fmt.Errorf("sandbox: encode key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}
