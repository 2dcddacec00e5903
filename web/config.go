// Package web is Payout Desk's HTTP composition root: configuration, the
// server and its timeouts, every route in one place, middleware, sessions,
// and the background workers.
package web

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"payoutdesk/handlers"
)

// Config is the server's configuration, every value checked: LoadConfig
// fails on anything the server would refuse later, so that a command fails
// before it touches the database. Every setting has a default that serves
// the sandbox on loopback; flags override PAYOUTDESK_* environment
// variables, which override the defaults.
type Config struct {
	Addr string
	// DBPath is the database file the commands open; the server works on
	// the database it is given, and finds the checkpoint files beside it.
	DBPath  string
	BaseURL string

	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	// TrustProxy takes the client IP from the last X-Forwarded-For hop;
	// only set it behind a reverse proxy that sets that header.
	TrustProxy bool
	// MetricsToken, when set, is required as a bearer token on /metrics.
	MetricsToken string

	LogLevel slog.Level
	// LogFormat is "text" or "json".
	LogFormat string

	ShutdownTimeout time.Duration

	// Providers holds each provider's endpoint and credentials; a provider
	// without credentials runs on the built-in sandbox.
	Providers ProviderConfig
	// SandboxStep is how long a sandbox payout takes per status change.
	SandboxStep time.Duration

	// SendTimeout bounds one call to a provider.
	SendTimeout time.Duration
	// ReconcileEvery is the first delay before asking a provider about an
	// open payout again; it doubles up to ReconcileMax.
	ReconcileEvery, ReconcileMax time.Duration
	// ReconcileRate bounds the reconciliation checks made a second.
	ReconcileRate int
	// SendParallel bounds the provider calls under way at once.
	SendParallel int

	// ApprovalRules are the amounts above which a payout needs approval
	// (PAYOUTDESK_APPROVAL_THRESHOLDS); ApprovalTTL how long it may take.
	ApprovalRules handlers.ApprovalRules
	ApprovalTTL   time.Duration

	// CheckpointKey and CheckpointFile are where the audit checkpoints'
	// signing key and their copy outside the database live ("": next to
	// the database that is open); CheckpointEvery is how many events a
	// checkpoint covers at most. CheckpointKeyRing holds the public half
	// of every key that has signed ("": KEY.pub, beside the key).
	CheckpointKey     string
	CheckpointKeyRing string
	CheckpointFile    string
	CheckpointEvery   int64
}

// setting is one configuration entry, for flags, environment and README.
// A setting without a flag is read from the environment only: secrets are,
// since other users can see flags in the process list.
type setting struct {
	flag, env, def, usage string
}

var settings = []setting{
	{flag: "addr", env: "PAYOUTDESK_ADDR", def: "127.0.0.1:8080", usage: "address to listen on"},
	{flag: "db", env: "PAYOUTDESK_DB", def: "./payoutdesk.db", usage: "SQLite database file"},
	{flag: "base-url", env: "PAYOUTDESK_BASE_URL", def: "", usage: "public URL of the app, for redirect and webhook URLs (default http://ADDR); https:// makes cookies Secure"},
	{flag: "session-idle", env: "PAYOUTDESK_SESSION_IDLE", def: "30m", usage: "sign out after this long without a request"},
	{flag: "session-max", env: "PAYOUTDESK_SESSION_MAX", def: "12h", usage: "sign out this long after signing in, whatever the activity"},
	{flag: "trust-proxy", env: "PAYOUTDESK_TRUST_PROXY", def: "false", usage: "take the client IP from X-Forwarded-For (only behind a proxy that sets it)"},
	{flag: "log-level", env: "PAYOUTDESK_LOG_LEVEL", def: "info", usage: "debug, info, warn or error"},
	{flag: "log-format", env: "PAYOUTDESK_LOG_FORMAT", def: "text", usage: "text or json"},
	{flag: "shutdown-timeout", env: "PAYOUTDESK_SHUTDOWN_TIMEOUT", def: "15s", usage: "how long in-flight requests may take to finish at shutdown"},
	{env: "PAYOUTDESK_METRICS_TOKEN", usage: "bearer token required on /metrics (default: none)"},
	{flag: "sandbox-step", env: "PAYOUTDESK_SANDBOX_STEP", def: "2s", usage: "time between two status changes of a sandbox payout"},
	{flag: "send-timeout", env: "PAYOUTDESK_SEND_TIMEOUT", def: "30s", usage: "how long one call to a provider may take before its outcome counts as unknown"},
	{flag: "reconcile-every", env: "PAYOUTDESK_RECONCILE_EVERY", def: "10s", usage: "first delay before asking a provider about an open payout again (doubles each time)"},
	{flag: "reconcile-max", env: "PAYOUTDESK_RECONCILE_MAX", def: "15m", usage: "longest delay between two questions to a provider about an open payout"},
	{flag: "reconcile-rate", env: "PAYOUTDESK_RECONCILE_RATE", def: "100", usage: "most questions a second to providers about open payouts, all together (the longest due go first)"},
	{flag: "send-parallel", env: "PAYOUTDESK_SEND_PARALLEL", def: "64", usage: "how many payouts may be in the middle of being sent at once"},
	{flag: "approval-thresholds", env: "PAYOUTDESK_APPROVAL_THRESHOLDS", def: handlers.DefaultApprovalThresholds,
		usage: "amounts above which a payout needs a manager's approval: [provider:]CUR=amount, comma-separated; a currency without one always needs approval"},
	{flag: "approval-ttl", env: "PAYOUTDESK_APPROVAL_TTL", def: "72h", usage: "how long a payout may wait for approval before it expires"},
	{flag: "checkpoint-key", env: "PAYOUTDESK_CHECKPOINT_KEY", def: "", usage: "Ed25519 key (PKCS#8 PEM) that signs audit checkpoints, created if absent (default DB.checkpoint-key); keep it off the database's disk if you can"},
	{flag: "checkpoint-keyring", env: "PAYOUTDESK_CHECKPOINT_KEYRING", def: "", usage: "key ring: the public half of every key that has signed audit checkpoints (default KEY.pub, beside the key); set it when the key sits on a read-only mount"},
	{flag: "checkpoint-file", env: "PAYOUTDESK_CHECKPOINT_FILE", def: "", usage: "file outside the database where signed audit checkpoints are appended (default DB.checkpoints)"},
	{flag: "checkpoint-every", env: "PAYOUTDESK_CHECKPOINT_EVERY", def: "1000", usage: "sign an audit checkpoint every this many events (and at least daily)"},

	{env: "PAYOUTDESK_KIBRAMOA_URL", def: "https://api.sandbox.kibramoa.net", usage: "Kibramoa API base URL"},
	{env: "PAYOUTDESK_KIBRAMOA_API_KEY", usage: "Kibramoa merchant API key (X-API-KEY); set it to go live"},
	{env: "PAYOUTDESK_KIBRAMOA_WEBHOOK_SECRET", usage: "Kibramoa notification signature secret (x-signature)"},
	{env: "PAYOUTDESK_KIBRAMOA_AMOUNT_FORMAT", def: "decimal", usage: "decimal (major units, current docs) or minor (integer cents, docs before 2022-12-12) — unconfirmed"},
	{env: "PAYOUTDESK_KIBRAMOA_WEBHOOK_RAW_ONLY", def: "false", usage: "verify x-signature over the raw body only, not also over its compact re-serialisation — unconfirmed"},

	{env: "PAYOUTDESK_SMARTGLOCAL_URL", def: "https://demo.smart-glocal.com/api/v1", usage: "Smart Glocal API base URL (ends in /api/v1)"},
	{env: "PAYOUTDESK_SMARTGLOCAL_PROJECT", usage: "Smart Glocal project (X-PARTNER-PROJECT); set it and the key files to go live"},
	{env: "PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE", usage: "PEM file of your RSA private key, which signs requests"},
	{env: "PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE", usage: "PEM file of Smart Glocal's RSA public key, which verifies webhooks"},
	{env: "PAYOUTDESK_SMARTGLOCAL_IDEMPOTENCY_HEADER", usage: "header carrying the idempotency key on session/create (default X-PARTNER-IDEMPOTENCY-KEY, \"none\" for none) — unconfirmed"},

	{env: "PAYOUTDESK_MONIME_URL", def: "https://api.monime.io", usage: "Monime API base URL"},
	{env: "PAYOUTDESK_MONIME_TOKEN", usage: "Monime access token (Bearer); set it and the space to go live"},
	{env: "PAYOUTDESK_MONIME_SPACE_ID", usage: "Monime space (Monime-Space-Id, spc-…)"},
	{env: "PAYOUTDESK_MONIME_WEBHOOK_SECRET", usage: "shared secret Monime's webhook sends in the webhook header"},
	{env: "PAYOUTDESK_MONIME_WEBHOOK_HEADER", def: "X-Webhook-Secret", usage: "custom header configured on the Monime webhook to carry the secret"},
	{env: "PAYOUTDESK_MONIME_SOURCE_ACCOUNT", usage: "financial account (fac-…) the form proposes to pay from (default: the space's main account)"},

	{env: "PAYOUTDESK_FEDAPAY_URL", def: "https://sandbox-api.fedapay.com/v1", usage: "FedaPay API base URL (ends in /v1)"},
	{env: "PAYOUTDESK_FEDAPAY_SECRET_KEY", usage: "FedaPay secret key (sk_…); set it to go live"},
	{env: "PAYOUTDESK_FEDAPAY_WEBHOOK_SECRET", usage: "FedaPay webhook signing secret (wh_…)"},
	{env: "PAYOUTDESK_FEDAPAY_PHONE_FORMAT", def: "local", usage: "how the beneficiary's number is sent: local (no country code, as the API reference says), international (+229…, as FedaPay's guide shows) or as_typed — unconfirmed"},
	{env: "PAYOUTDESK_FEDAPAY_ALLOW_CANCEL", def: "false", usage: "offer cancel through DELETE /payouts/{id} — semantics unconfirmed"},
	{env: "PAYOUTDESK_FEDAPAY_LOOKUP_BY_REFERENCE", def: "false", usage: "look payouts up by merchant reference (GET /payouts/merchant/{ref}, seen only in community code) — unconfirmed"},
}

// Settings describes every configuration setting as rows of
// (flag, environment variable, default, meaning), for help and README.
func Settings() [][4]string {
	var out [][4]string
	for _, s := range settings {
		f := "-" + s.flag
		if s.flag == "" {
			f = "(environment only)"
		}
		out = append(out, [4]string{f, s.env, s.def, s.usage})
	}
	return out
}

// DefaultConfig is the configuration with every default and nothing from
// flags or the environment: what tools that embed the server start from.
func DefaultConfig() Config {
	cfg, err := LoadConfig(flag.NewFlagSet("defaults", flag.ContinueOnError), nil, func(string) string { return "" })
	if err != nil {
		panic("web: the defaults do not parse: " + err.Error())
	}
	return cfg
}

// LoadConfig registers the configuration flags on fs, parses args and
// returns the configuration with environment and defaults applied. It
// checks every value, provider credentials and key files included, and
// touches nothing.
func LoadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	values := make(map[string]*string, len(settings))
	for _, s := range settings {
		v := s.def
		if e := getenv(s.env); e != "" {
			v = e
		}
		if s.flag == "" {
			values[s.env] = &v
			continue
		}
		values[s.env] = fs.String(s.flag, v, s.usage+" ["+s.env+"]")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	get := func(env string) string { return strings.TrimSpace(*values[env]) }
	cfg := Config{
		CheckpointKey:     get("PAYOUTDESK_CHECKPOINT_KEY"),
		CheckpointKeyRing: get("PAYOUTDESK_CHECKPOINT_KEYRING"),
		CheckpointFile:    get("PAYOUTDESK_CHECKPOINT_FILE"),
		Addr:              get("PAYOUTDESK_ADDR"),
		DBPath:            get("PAYOUTDESK_DB"),
		BaseURL:           strings.TrimRight(get("PAYOUTDESK_BASE_URL"), "/"),
		MetricsToken:      get("PAYOUTDESK_METRICS_TOKEN"),
		LogFormat:         get("PAYOUTDESK_LOG_FORMAT"),
	}
	var err error
	if cfg.Providers, err = loadProviderConfig(get); err != nil {
		return Config{}, err
	}
	durations := []struct {
		env string
		dst *time.Duration
	}{
		{"PAYOUTDESK_SESSION_IDLE", &cfg.SessionIdle},
		{"PAYOUTDESK_SESSION_MAX", &cfg.SessionAbsolute},
		{"PAYOUTDESK_SHUTDOWN_TIMEOUT", &cfg.ShutdownTimeout},
		{"PAYOUTDESK_SANDBOX_STEP", &cfg.SandboxStep},
		{"PAYOUTDESK_SEND_TIMEOUT", &cfg.SendTimeout},
		{"PAYOUTDESK_RECONCILE_EVERY", &cfg.ReconcileEvery},
		{"PAYOUTDESK_RECONCILE_MAX", &cfg.ReconcileMax},
		{"PAYOUTDESK_APPROVAL_TTL", &cfg.ApprovalTTL},
	}
	for _, d := range durations {
		if *d.dst, err = time.ParseDuration(get(d.env)); err != nil || *d.dst <= 0 {
			return Config{}, fmt.Errorf("%s: want a positive duration such as 30m, got %q", d.env, get(d.env))
		}
	}
	bools := []struct {
		env string
		dst *bool
	}{
		{"PAYOUTDESK_TRUST_PROXY", &cfg.TrustProxy},
		{"PAYOUTDESK_KIBRAMOA_WEBHOOK_RAW_ONLY", &cfg.Providers.Kibramoa.WebhookRawOnly},
		{"PAYOUTDESK_FEDAPAY_ALLOW_CANCEL", &cfg.Providers.FedaPay.AllowCancel},
		{"PAYOUTDESK_FEDAPAY_LOOKUP_BY_REFERENCE", &cfg.Providers.FedaPay.LookupByReference},
	}
	for _, b := range bools {
		if *b.dst, err = strconv.ParseBool(get(b.env)); err != nil {
			return Config{}, fmt.Errorf("%s: want true or false, got %q", b.env, get(b.env))
		}
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(get("PAYOUTDESK_LOG_LEVEL"))); err != nil {
		return Config{}, fmt.Errorf("PAYOUTDESK_LOG_LEVEL: want debug, info, warn or error, got %q", get("PAYOUTDESK_LOG_LEVEL"))
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return Config{}, fmt.Errorf("PAYOUTDESK_LOG_FORMAT: want text or json, got %q", cfg.LogFormat)
	}
	if cfg.CheckpointEvery, err = strconv.ParseInt(get("PAYOUTDESK_CHECKPOINT_EVERY"), 10, 64); err != nil || cfg.CheckpointEvery < 1 {
		return Config{}, fmt.Errorf("PAYOUTDESK_CHECKPOINT_EVERY: want a positive number, got %q", get("PAYOUTDESK_CHECKPOINT_EVERY"))
	}
	if cfg.ApprovalRules, err = handlers.ParseApprovalRules(get("PAYOUTDESK_APPROVAL_THRESHOLDS")); err != nil {
		return Config{}, fmt.Errorf("PAYOUTDESK_APPROVAL_THRESHOLDS: %v", err)
	}
	if cfg.ReconcileRate, err = strconv.Atoi(get("PAYOUTDESK_RECONCILE_RATE")); err != nil || cfg.ReconcileRate < 1 || cfg.ReconcileRate > 100_000 {
		return Config{}, fmt.Errorf("PAYOUTDESK_RECONCILE_RATE: want a number from 1 to 100000, got %q", get("PAYOUTDESK_RECONCILE_RATE"))
	}
	if cfg.SendParallel, err = strconv.Atoi(get("PAYOUTDESK_SEND_PARALLEL")); err != nil || cfg.SendParallel < 1 || cfg.SendParallel > 1024 {
		return Config{}, fmt.Errorf("PAYOUTDESK_SEND_PARALLEL: want a number from 1 to 1024, got %q", get("PAYOUTDESK_SEND_PARALLEL"))
	}
	if _, port, err := net.SplitHostPort(cfg.Addr); err != nil || !validPort(port) {
		return Config{}, fmt.Errorf("PAYOUTDESK_ADDR: want host:port with a port from 0 to 65535, got %q", cfg.Addr)
	}
	if cfg.BaseURL != "" {
		if err := checkBaseURL(cfg.BaseURL); err != nil {
			return Config{}, fmt.Errorf("PAYOUTDESK_BASE_URL: %w", err)
		}
	}
	// A live provider posts its webhooks to the base URL and sends the
	// customer back to it: the listen address is no such thing.
	if cfg.BaseURL == "" && !cfg.AllSandbox() {
		return Config{}, errors.New("PAYOUTDESK_BASE_URL is required once a provider is live: the address at which the provider reaches this app")
	}
	return cfg, nil
}

// checkBaseURL refuses a base URL that the app's paths cannot be appended
// to (a query or fragment would swallow them), and one with a user or
// password, which the log and the URLs given to providers would repeat.
// Its errors never repeat the URL's password.
func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		// Not err itself, a *url.Error, which quotes the whole URL.
		return fmt.Errorf("want an http:// or https:// URL: %v", errors.Unwrap(err))
	}
	switch {
	case (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "":
		return fmt.Errorf("want an http:// or https:// URL with a host, got %q", u.Redacted())
	case u.User != nil:
		return fmt.Errorf("want a URL without a user or password in it, got %q", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("want a URL without a query or fragment, got %q", u.Redacted())
	}
	return nil
}

// Secure reports whether the app is served over HTTPS, which makes session
// cookies Secure. A URL's scheme is case-insensitive: HTTPS:// is HTTPS too.
func (c Config) Secure() bool {
	u, err := url.Parse(c.BaseURL)
	return err == nil && u.Scheme == "https"
}

// baseURLFor returns the URL people and providers reach the server at,
// given the address it actually listens on.
func baseURLFor(listen net.Addr) string {
	host, port, err := net.SplitHostPort(listen.String())
	if err != nil {
		return "http://" + listen.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// exposureWarnings names what is left unguarded when other machines may
// reach the server: it listens on listen, an address beyond loopback, or
// people reach it at a base URL that is not a loopback one (through a
// reverse proxy on the same host, say). A set-up fit for a laptop is not
// for a network.
func exposureWarnings(cfg Config, listen net.Addr) []string {
	host, _, err := net.SplitHostPort(listen.String())
	reach := listen.String()
	if err == nil && isLoopbackHost(host) {
		if u, err := url.Parse(cfg.BaseURL); err != nil || isLoopbackHost(u.Hostname()) {
			return nil
		}
		reach = cfg.BaseURL
	}
	var w []string
	if cfg.MetricsToken == "" {
		w = append(w, "/metrics answers anyone who can reach "+reach+": set PAYOUTDESK_METRICS_TOKEN")
	}
	if !cfg.Secure() {
		w = append(w, "the base URL is not https://, so passwords and session cookies cross the network in the clear: serve behind TLS and set PAYOUTDESK_BASE_URL to its https:// address")
	}
	return w
}

// isLoopbackHost reports whether host, a URL's host name, is this machine.
func isLoopbackHost(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return strings.EqualFold(host, "localhost")
}

// validPort reports whether port is a port number (0 picks a free one).
func validPort(port string) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}
