package web

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"time"

	"payoutdesk/db"
	"payoutdesk/handlers"
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

// ProviderConfig is each provider's client configuration as configured.
// A provider without credentials runs on the built-in sandbox instead.
type ProviderConfig struct {
	Kibramoa    kibramoa.Config
	SmartGlocal smartglocal.Config
	Monime      monime.Config
	FedaPay     fedapay.Config
}

// Live returns the set of providers whose credentials are set, which talk
// to the real provider; every other one runs on the built-in sandbox.
func (pc ProviderConfig) Live() map[providers.Name]bool {
	live := map[providers.Name]bool{
		providers.Kibramoa:    pc.Kibramoa.APIKey != "",
		providers.SmartGlocal: pc.SmartGlocal.Project != "",
		providers.Monime:      pc.Monime.Token != "",
		providers.FedaPay:     pc.FedaPay.SecretKey != "",
	}
	maps.DeleteFunc(live, func(_ providers.Name, set bool) bool { return !set })
	return live
}

// AllSandbox reports whether every provider runs on the built-in sandbox.
func (c Config) AllSandbox() bool { return len(c.Providers.Live()) == 0 }

// loadProviderConfig reads the providers' settings through get. A live
// provider needs its webhook secret (Smart Glocal: its key files, which
// are read here) too.
func loadProviderConfig(get func(env string) string) (ProviderConfig, error) {
	pc := ProviderConfig{
		Kibramoa: kibramoa.Config{BaseURL: get("PAYOUTDESK_KIBRAMOA_URL"), APIKey: get("PAYOUTDESK_KIBRAMOA_API_KEY"),
			WebhookSecret: get("PAYOUTDESK_KIBRAMOA_WEBHOOK_SECRET"), AmountFormat: kibramoa.AmountFormat(get("PAYOUTDESK_KIBRAMOA_AMOUNT_FORMAT"))},
		SmartGlocal: smartglocal.Config{BaseURL: get("PAYOUTDESK_SMARTGLOCAL_URL"), Project: get("PAYOUTDESK_SMARTGLOCAL_PROJECT"),
			IdempotencyHeader: get("PAYOUTDESK_SMARTGLOCAL_IDEMPOTENCY_HEADER")},
		Monime: monime.Config{BaseURL: get("PAYOUTDESK_MONIME_URL"), Token: get("PAYOUTDESK_MONIME_TOKEN"), SpaceID: get("PAYOUTDESK_MONIME_SPACE_ID"),
			WebhookSecret: get("PAYOUTDESK_MONIME_WEBHOOK_SECRET"), WebhookHeader: get("PAYOUTDESK_MONIME_WEBHOOK_HEADER"),
			DefaultSourceAccount: get("PAYOUTDESK_MONIME_SOURCE_ACCOUNT")},
		FedaPay: fedapay.Config{BaseURL: get("PAYOUTDESK_FEDAPAY_URL"), SecretKey: get("PAYOUTDESK_FEDAPAY_SECRET_KEY"),
			WebhookSecret: get("PAYOUTDESK_FEDAPAY_WEBHOOK_SECRET"), PhoneFormat: fedapay.PhoneFormat(get("PAYOUTDESK_FEDAPAY_PHONE_FORMAT"))},
	}
	if f := pc.Kibramoa.AmountFormat; f != kibramoa.AmountDecimal && f != kibramoa.AmountMinor {
		return pc, fmt.Errorf("PAYOUTDESK_KIBRAMOA_AMOUNT_FORMAT: want decimal or minor, got %q", f)
	}
	switch f := pc.FedaPay.PhoneFormat; f {
	case fedapay.PhoneLocal, fedapay.PhoneInternational, fedapay.PhoneAsTyped:
	default:
		return pc, fmt.Errorf("PAYOUTDESK_FEDAPAY_PHONE_FORMAT: want local, international or as_typed, got %q", f)
	}
	if pc.SmartGlocal.IdempotencyHeader == "none" {
		pc.SmartGlocal.IdempotencyHeader = smartglocal.NoIdempotencyHeader
	}
	live := pc.Live()
	// A provider's secrets without its key would quietly leave it on the
	// sandbox: more likely a key forgotten than a wish.
	for _, half := range []struct {
		provider    providers.Name
		key, secret string
	}{
		{providers.Kibramoa, "PAYOUTDESK_KIBRAMOA_API_KEY", "PAYOUTDESK_KIBRAMOA_WEBHOOK_SECRET"},
		{providers.SmartGlocal, "PAYOUTDESK_SMARTGLOCAL_PROJECT", "PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE"},
		{providers.SmartGlocal, "PAYOUTDESK_SMARTGLOCAL_PROJECT", "PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE"},
		{providers.Monime, "PAYOUTDESK_MONIME_TOKEN", "PAYOUTDESK_MONIME_SPACE_ID"},
		{providers.Monime, "PAYOUTDESK_MONIME_TOKEN", "PAYOUTDESK_MONIME_WEBHOOK_SECRET"},
		{providers.FedaPay, "PAYOUTDESK_FEDAPAY_SECRET_KEY", "PAYOUTDESK_FEDAPAY_WEBHOOK_SECRET"},
	} {
		if !live[half.provider] && get(half.secret) != "" {
			return pc, fmt.Errorf("%s is set but %s is not: set both to use the real %s, or neither for the sandbox", half.secret, half.key, half.provider.Title())
		}
	}
	for env, u := range map[string]string{"PAYOUTDESK_KIBRAMOA_URL": pc.Kibramoa.BaseURL, "PAYOUTDESK_SMARTGLOCAL_URL": pc.SmartGlocal.BaseURL,
		"PAYOUTDESK_MONIME_URL": pc.Monime.BaseURL, "PAYOUTDESK_FEDAPAY_URL": pc.FedaPay.BaseURL} {
		if p, err := url.Parse(u); u != "" && (err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil) {
			// No credentials in it either: the providers page shows it.
			return pc, fmt.Errorf("%s: want an http(s) URL without a user or password in it", env)
		}
	}
	switch {
	case live[providers.Kibramoa] && pc.Kibramoa.WebhookSecret == "":
		return pc, errors.New("PAYOUTDESK_KIBRAMOA_WEBHOOK_SECRET is required with PAYOUTDESK_KIBRAMOA_API_KEY")
	case live[providers.Monime] && (pc.Monime.SpaceID == "" || pc.Monime.WebhookSecret == ""):
		return pc, errors.New("PAYOUTDESK_MONIME_SPACE_ID and PAYOUTDESK_MONIME_WEBHOOK_SECRET are required with PAYOUTDESK_MONIME_TOKEN")
	case live[providers.FedaPay] && pc.FedaPay.WebhookSecret == "":
		return pc, errors.New("PAYOUTDESK_FEDAPAY_WEBHOOK_SECRET is required with PAYOUTDESK_FEDAPAY_SECRET_KEY")
	}
	if live[providers.SmartGlocal] {
		keyFile, pubFile := get("PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE"), get("PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE")
		if keyFile == "" || pubFile == "" {
			return pc, errors.New("PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE and PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE are required with PAYOUTDESK_SMARTGLOCAL_PROJECT")
		}
		var err error
		if pc.SmartGlocal.Key, err = readPEM(keyFile, smartglocal.ParsePrivateKey); err != nil {
			return pc, fmt.Errorf("PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE: %w", err)
		}
		if pc.SmartGlocal.ProviderKey, err = readPEM(pubFile, smartglocal.ParsePublicKey); err != nil {
			return pc, fmt.Errorf("PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE: %w", err)
		}
		// Smart Glocal signs its webhooks with its own key: with ours in
		// its place, every webhook would be refused as forged.
		if pc.SmartGlocal.ProviderKey.Equal(&pc.SmartGlocal.Key.PublicKey) {
			return pc, errors.New("PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE holds the public half of your own private key: want Smart Glocal's public key, which signs its webhooks")
		}
	}
	return pc, nil
}

// readPEM reads a key file and parses it.
func readPEM[K any](path string, parse func([]byte) (K, error)) (K, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var zero K
		return zero, err
	}
	return parse(b)
}

// providerSet is the configured providers: the registry, each one's API
// base URL, and the sandbox (nil when every provider is live).
type providerSet struct {
	rails    *providers.Registry
	baseURLs map[providers.Name]string
	sandbox  *sandbox.Sandbox
}

// buildProviders builds the four providers' clients from cfg: a live
// provider talks to its configured API, every other one to the sandbox,
// mounted at /sandbox/.
func buildProviders(ctx context.Context, cfg Config, d *db.DB) (providerSet, error) {
	var set providerSet
	pc, live := cfg.Providers, cfg.Providers.Live()
	hc := providerHTTPClient()
	pc.Kibramoa.HTTPClient, pc.SmartGlocal.HTTPClient, pc.Monime.HTTPClient, pc.FedaPay.HTTPClient = hc, hc, hc, hc
	pc.Kibramoa.DefaultRedirectURL = cfg.BaseURL + "/cashier/done"
	if len(live) < len(providers.All) {
		creds, err := sandboxCredentials(ctx, d)
		if err != nil {
			return set, err
		}
		sb := sandbox.New(sandbox.Config{
			BaseURL:                      cfg.BaseURL + "/sandbox",
			WebhookURL:                   func(p providers.Name) string { return cfg.BaseURL + "/webhooks/" + string(p) },
			Step:                         cfg.SandboxStep,
			MonimeWebhookHeader:          pc.Monime.WebhookHeader,
			KibramoaAmountMinor:          pc.Kibramoa.AmountFormat == kibramoa.AmountMinor,
			SmartGlocalIdempotencyHeader: pc.SmartGlocal.IdempotencyHeader,
			FormCSP:                      handlers.CSP,
			Credentials:                  creds,
		})
		set.sandbox = sb
		if k := &pc.Kibramoa; !live[providers.Kibramoa] {
			k.BaseURL, k.APIKey, k.WebhookSecret = sb.BaseURL(providers.Kibramoa), creds.KibramoaAPIKey, creds.KibramoaWebhookSecret
		}
		if sg := &pc.SmartGlocal; !live[providers.SmartGlocal] {
			sg.BaseURL, sg.Project = sb.BaseURL(providers.SmartGlocal), creds.SmartGlocalProject
			sg.Key, sg.ProviderKey = creds.SmartGlocalPartnerKey, &creds.SmartGlocalProviderKey.PublicKey
		}
		if m := &pc.Monime; !live[providers.Monime] {
			m.BaseURL, m.Token, m.SpaceID, m.WebhookSecret = sb.BaseURL(providers.Monime), creds.MonimeToken, creds.MonimeSpaceID, creds.MonimeWebhookSecret
		}
		if f := &pc.FedaPay; !live[providers.FedaPay] {
			f.BaseURL, f.SecretKey, f.WebhookSecret = sb.BaseURL(providers.FedaPay), creds.FedaPaySecretKey, creds.FedaPayWebhookSecret
		}
	}
	set.rails = providers.NewRegistry()
	set.rails.Add(kibramoa.New(pc.Kibramoa), mode(live[providers.Kibramoa]))
	set.rails.Add(smartglocal.New(pc.SmartGlocal), mode(live[providers.SmartGlocal]))
	set.rails.Add(monime.New(pc.Monime), mode(live[providers.Monime]))
	set.rails.Add(fedapay.New(pc.FedaPay), mode(live[providers.FedaPay]))
	set.baseURLs = map[providers.Name]string{
		providers.Kibramoa: pc.Kibramoa.BaseURL, providers.SmartGlocal: pc.SmartGlocal.BaseURL,
		providers.Monime: pc.Monime.BaseURL, providers.FedaPay: pc.FedaPay.BaseURL,
	}
	return set, nil
}

func mode(live bool) providers.Mode {
	if live {
		return providers.ModeLive
	}
	return providers.ModeSandbox
}

// sandboxCredentials returns the installation's sandbox credentials,
// generating and storing them on first use.
func sandboxCredentials(ctx context.Context, d *db.DB) (sandbox.Credentials, error) {
	b, err := db.NewSettings(d).GetOrMake(ctx, SandboxCredentialsKey, func() ([]byte, error) {
		c, err := sandbox.GenerateCredentials()
		if err != nil {
			return nil, err
		}
		return c.MarshalText()
	})
	if err != nil {
		return sandbox.Credentials{}, err
	}
	var c sandbox.Credentials
	if err := c.UnmarshalText(b); err != nil {
		return sandbox.Credentials{}, err
	}
	return c, nil
}
