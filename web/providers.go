package web

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/providers/fedapay"
	"payoutdesk/providers/kibramoa"
	"payoutdesk/providers/monime"
	"payoutdesk/providers/sandbox"
	"payoutdesk/providers/smartglocal"
)

// SandboxCredentialsKey names the stored sandbox credentials (a setting):
// kept between runs so that webhooks in flight at a restart still verify,
// and so that start-up on an existing database does not pay for RSA key
// generation.
const SandboxCredentialsKey = "sandbox.credentials"

// providerHTTPClient talks to providers. It never follows redirects: a
// money-moving POST must not be replayed somewhere else.
func providerHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{
		Transport:     t,
		Timeout:       2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// AllSandbox reports whether no provider has credentials, so that every
// provider runs on the built-in sandbox.
func (c Config) AllSandbox() bool {
	pc := c.Providers
	return pc.KibramoaAPIKey == "" && pc.SmartGlocalProject == "" && pc.MonimeToken == "" && pc.FedaPaySecretKey == ""
}

// providerSet is the configured providers: the registry, each one's API
// base URL, and the sandbox (nil when every provider is live).
type providerSet struct {
	rails    *providers.Registry
	baseURLs map[providers.Name]string
	sandbox  *sandbox.Sandbox
}

// buildProviders configures the four providers: a provider with credentials
// is live, one without runs on the sandbox, mounted at /sandbox/.
func buildProviders(ctx context.Context, cfg Config, d *db.DB) (providerSet, error) {
	set, err := buildProviderSet(ctx, cfg, d)
	if err != nil && set.sandbox != nil {
		set.sandbox.Close()
	}
	return set, err
}

func buildProviderSet(ctx context.Context, cfg Config, d *db.DB) (set providerSet, err error) {
	pc := cfg.Providers
	hc := providerHTTPClient()
	reg := providers.NewRegistry()
	live := map[providers.Name]bool{
		providers.Kibramoa:    pc.KibramoaAPIKey != "",
		providers.SmartGlocal: pc.SmartGlocalProject != "",
		providers.Monime:      pc.MonimeToken != "",
		providers.FedaPay:     pc.FedaPaySecretKey != "",
	}
	var sb *sandbox.Sandbox
	var creds sandbox.Credentials
	if !live[providers.Kibramoa] || !live[providers.SmartGlocal] || !live[providers.Monime] || !live[providers.FedaPay] {
		if creds, err = sandboxCredentials(ctx, d); err != nil {
			return set, err
		}
		sb = sandbox.New(sandbox.Config{
			BaseURL:             cfg.BaseURL + "/sandbox",
			WebhookURL:          func(p providers.Name) string { return cfg.BaseURL + "/webhooks/" + string(p) },
			Step:                cfg.SandboxStep,
			MonimeWebhookHeader: pc.MonimeWebhookHeader,
			Credentials:         creds,
		})
		set.sandbox = sb
	}

	amountFormat := kibramoa.AmountDecimal
	switch pc.KibramoaAmountFormat {
	case "", "decimal":
	case "minor":
		amountFormat = kibramoa.AmountMinor
	default:
		return set, fmt.Errorf("PAYOUTDESK_KIBRAMOA_AMOUNT_FORMAT: want decimal or minor, got %q", pc.KibramoaAmountFormat)
	}
	kib := kibramoa.Config{BaseURL: pc.KibramoaURL, APIKey: pc.KibramoaAPIKey, WebhookSecret: pc.KibramoaWebhookSecret,
		DefaultRedirectURL: cfg.BaseURL + "/cashier/done", AmountFormat: amountFormat, WebhookRawOnly: pc.KibramoaWebhookRawOnly, HTTPClient: hc}
	if !live[providers.Kibramoa] {
		kib.BaseURL, kib.APIKey, kib.WebhookSecret = sb.BaseURL(providers.Kibramoa), creds.KibramoaAPIKey, creds.KibramoaWebhookSecret
	} else if kib.WebhookSecret == "" {
		return set, errors.New("PAYOUTDESK_KIBRAMOA_WEBHOOK_SECRET is required with PAYOUTDESK_KIBRAMOA_API_KEY")
	}
	reg.Add(kibramoa.New(kib), mode(live[providers.Kibramoa]))

	sg := smartglocal.Config{BaseURL: pc.SmartGlocalURL, Project: pc.SmartGlocalProject, IdempotencyHeader: pc.SmartGlocalIdempotencyHeader, HTTPClient: hc}
	if sg.IdempotencyHeader == "none" {
		sg.IdempotencyHeader = smartglocal.NoIdempotencyHeader
	}
	if live[providers.SmartGlocal] {
		var err error
		if sg.Key, sg.ProviderKey, err = smartGlocalKeys(pc); err != nil {
			return set, err
		}
	} else {
		sg.BaseURL, sg.Project = sb.BaseURL(providers.SmartGlocal), creds.SmartGlocalProject
		sg.Key, sg.ProviderKey = creds.SmartGlocalPartnerKey, &creds.SmartGlocalProviderKey.PublicKey
	}
	reg.Add(smartglocal.New(sg), mode(live[providers.SmartGlocal]))

	mon := monime.Config{BaseURL: pc.MonimeURL, Token: pc.MonimeToken, SpaceID: pc.MonimeSpaceID, WebhookSecret: pc.MonimeWebhookSecret,
		WebhookHeader: pc.MonimeWebhookHeader, DefaultSourceAccount: pc.MonimeSourceAccount, HTTPClient: hc}
	if !live[providers.Monime] {
		mon.BaseURL, mon.Token, mon.SpaceID, mon.WebhookSecret = sb.BaseURL(providers.Monime), creds.MonimeToken, creds.MonimeSpaceID, creds.MonimeWebhookSecret
	} else if mon.SpaceID == "" || mon.WebhookSecret == "" {
		return set, errors.New("PAYOUTDESK_MONIME_SPACE_ID and PAYOUTDESK_MONIME_WEBHOOK_SECRET are required with PAYOUTDESK_MONIME_TOKEN")
	}
	reg.Add(monime.New(mon), mode(live[providers.Monime]))

	fp := fedapay.Config{BaseURL: pc.FedaPayURL, SecretKey: pc.FedaPaySecretKey, WebhookSecret: pc.FedaPayWebhookSecret,
		AllowCancel: pc.FedaPayAllowCancel, LookupByReference: pc.FedaPayLookupByReference, HTTPClient: hc}
	if !live[providers.FedaPay] {
		fp.BaseURL, fp.SecretKey, fp.WebhookSecret = sb.BaseURL(providers.FedaPay), creds.FedaPaySecretKey, creds.FedaPayWebhookSecret
	} else if fp.WebhookSecret == "" {
		return set, errors.New("PAYOUTDESK_FEDAPAY_WEBHOOK_SECRET is required with PAYOUTDESK_FEDAPAY_SECRET_KEY")
	}
	reg.Add(fedapay.New(fp), mode(live[providers.FedaPay]))
	set.rails = reg
	set.baseURLs = map[providers.Name]string{
		providers.Kibramoa: kib.BaseURL, providers.SmartGlocal: sg.BaseURL, providers.Monime: mon.BaseURL, providers.FedaPay: fp.BaseURL,
	}
	return set, nil
}

func mode(live bool) providers.Mode {
	if live {
		return providers.ModeLive
	}
	return providers.ModeSandbox
}

func smartGlocalKeys(pc ProviderConfig) (*rsa.PrivateKey, *rsa.PublicKey, error) {
	if pc.SmartGlocalPrivateKeyFile == "" || pc.SmartGlocalPublicKeyFile == "" {
		return nil, nil, errors.New("PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE and PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE are required with PAYOUTDESK_SMARTGLOCAL_PROJECT")
	}
	b, err := os.ReadFile(pc.SmartGlocalPrivateKeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE: %w", err)
	}
	key, err := smartglocal.ParsePrivateKey(b)
	if err != nil {
		return nil, nil, fmt.Errorf("PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE: %w", err)
	}
	b, err = os.ReadFile(pc.SmartGlocalPublicKeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE: %w", err)
	}
	pub, err := smartglocal.ParsePublicKey(b)
	if err != nil {
		return nil, nil, fmt.Errorf("PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE: %w", err)
	}
	return key, pub, nil
}

// sandboxCredentials returns the installation's sandbox credentials,
// generating and storing them on first use.
func sandboxCredentials(ctx context.Context, d *db.DB) (sandbox.Credentials, error) {
	settings := db.NewSettings(d)
	b, err := settings.Get(ctx, SandboxCredentialsKey)
	if errors.Is(err, db.ErrNotFound) {
		c, gerr := sandbox.GenerateCredentials()
		if gerr != nil {
			return sandbox.Credentials{}, gerr
		}
		text, merr := c.MarshalText()
		if merr != nil {
			return sandbox.Credentials{}, merr
		}
		b, err = settings.Init(ctx, SandboxCredentialsKey, text)
	}
	if err != nil {
		return sandbox.Credentials{}, err
	}
	var c sandbox.Credentials
	if err := c.UnmarshalText(b); err != nil {
		return sandbox.Credentials{}, err
	}
	return c, nil
}
