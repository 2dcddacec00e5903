// Package web is Payout Desk's HTTP composition root: configuration, the
// server and its timeouts, every route in one place, middleware, sessions,
// and the background workers.
package web

import (
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is the server's configuration. Every setting has a default that
// serves the sandbox on loopback; flags override PAYOUTDESK_* environment
// variables, which override the defaults.
type Config struct {
	Addr    string
	DBPath  string
	BaseURL string

	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	// TrustProxy takes the client IP from the last X-Forwarded-For hop;
	// only set it behind a reverse proxy that sets that header.
	TrustProxy bool
	// MetricsToken, when set, is required as a bearer token on /metrics.
	MetricsToken string

	LogLevel  string
	LogFormat string

	ShutdownTimeout time.Duration
}

// setting is one configuration entry, for flags, environment and README.
type setting struct {
	flag, env, def, usage string
	// secret settings are read from the environment only, never from flags
	// (which other users can see in the process list).
	secret bool
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
	{env: "PAYOUTDESK_METRICS_TOKEN", usage: "bearer token required on /metrics (default: none)", secret: true},
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

// LoadConfig registers the configuration flags on fs, parses args and
// returns the configuration with environment and defaults applied.
func LoadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	values := make(map[string]*string, len(settings))
	for _, s := range settings {
		v := s.def
		if e := getenv(s.env); e != "" {
			v = e
		}
		if s.secret {
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
		Addr:         get("PAYOUTDESK_ADDR"),
		DBPath:       get("PAYOUTDESK_DB"),
		BaseURL:      strings.TrimRight(get("PAYOUTDESK_BASE_URL"), "/"),
		MetricsToken: get("PAYOUTDESK_METRICS_TOKEN"),
		LogLevel:     get("PAYOUTDESK_LOG_LEVEL"),
		LogFormat:    get("PAYOUTDESK_LOG_FORMAT"),
	}
	var err error
	durations := []struct {
		env string
		dst *time.Duration
	}{
		{"PAYOUTDESK_SESSION_IDLE", &cfg.SessionIdle},
		{"PAYOUTDESK_SESSION_MAX", &cfg.SessionAbsolute},
		{"PAYOUTDESK_SHUTDOWN_TIMEOUT", &cfg.ShutdownTimeout},
	}
	for _, d := range durations {
		if *d.dst, err = time.ParseDuration(get(d.env)); err != nil || *d.dst <= 0 {
			return Config{}, fmt.Errorf("%s: want a positive duration such as 30m, got %q", d.env, get(d.env))
		}
	}
	if cfg.TrustProxy, err = strconv.ParseBool(get("PAYOUTDESK_TRUST_PROXY")); err != nil {
		return Config{}, fmt.Errorf("PAYOUTDESK_TRUST_PROXY: want true or false, got %q", get("PAYOUTDESK_TRUST_PROXY"))
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return Config{}, fmt.Errorf("PAYOUTDESK_ADDR: want host:port, got %q", cfg.Addr)
	}
	if cfg.BaseURL != "" && !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return Config{}, fmt.Errorf("PAYOUTDESK_BASE_URL: want an http:// or https:// URL, got %q", cfg.BaseURL)
	}
	return cfg, nil
}

// Secure reports whether the app is served over HTTPS, which makes session
// cookies Secure.
func (c Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

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
