package web_test

import (
	"crypto/x509"
	"encoding/pem"
	"flag"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"payoutdesk/providers"
	"payoutdesk/providers/fedapay"
	"payoutdesk/providers/sandbox/sandboxtest"
	"payoutdesk/web"
)

// loadConfig runs LoadConfig on args and the environment env.
func loadConfig(args []string, env map[string]string) (web.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg, err := web.LoadConfig(fs, args, func(k string) string { return env[k] })
	return cfg, fs, err
}

func TestLoadConfigPrecedence(t *testing.T) {
	env := map[string]string{"PAYOUTDESK_ADDR": "127.0.0.1:9000", "PAYOUTDESK_SESSION_IDLE": "10m", "PAYOUTDESK_METRICS_TOKEN": "s3cret"}
	cfg, _, err := loadConfig([]string{"-session-idle", "5m", "-base-url", "https://desk.example.com/", "-log-level", "debug"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9000" || cfg.SessionIdle != 5*time.Minute || cfg.SessionAbsolute != 12*time.Hour ||
		cfg.DBPath != "./payoutdesk.db" || cfg.BaseURL != "https://desk.example.com" || !cfg.Secure() || cfg.MetricsToken != "s3cret" ||
		cfg.LogLevel != slog.LevelDebug {
		t.Errorf("config = %+v: want env over default, flag over env, trimmed base URL", cfg)
	}

	bad := [][]string{
		{"-session-idle", "soon"},
		{"-session-max", "-1h"},
		{"-addr", "8080"},
		{"-addr", "127.0.0.1:99999"},
		{"-addr", "127.0.0.1:http"},
		{"-base-url", "desk.example.com"},
		{"-base-url", "https://desk example.com"},
		{"-base-url", "https://:8443"},
		{"-base-url", "https://desk.example.com/?tenant=1"},
		{"-base-url", "https://desk.example.com#top"},
		{"-base-url", "https://admin:s3cret@desk.example.com"},
		{"-trust-proxy", "maybe"},
		{"-log-level", "bogus"},
		{"-log-format", "xml"},
		{"-approval-thresholds", "USD"},
		{"-checkpoint-every", "0"},
		{"-reconcile-rate", "0"},
		{"-reconcile-rate", "2.5"},
		{"-send-parallel", "0"},
	}
	for _, args := range bad {
		_, _, err := loadConfig(args, nil)
		if err == nil {
			t.Errorf("LoadConfig(%q) accepted a bad value", args)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("LoadConfig(%q) = %v: the error repeats the password", args, err)
		}
	}
}

// TestLoadConfigProviders checks that a half-configured provider, or one
// whose settings the server cannot use, fails LoadConfig, before any
// command touches the database.
func TestLoadConfigProviders(t *testing.T) {
	dir := t.TempDir()
	creds := sandboxtest.Credentials(t)
	keyFile, pubFile, junk := filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem"), filepath.Join(dir, "junk.pem")
	ownPub := filepath.Join(dir, "own-pub.pem")
	for path, b := range map[string][]byte{
		ownPub:  pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&creds.SmartGlocalPartnerKey.PublicKey)}),
		keyFile: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(creds.SmartGlocalPartnerKey)}),
		pubFile: pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&creds.SmartGlocalProviderKey.PublicKey)}),
		junk:    []byte("not a key"),
	} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // "" for none
		live    []providers.Name
	}{
		{"all sandbox", nil, "", nil},
		{"kibramoa live", map[string]string{"PAYOUTDESK_KIBRAMOA_API_KEY": "k", "PAYOUTDESK_KIBRAMOA_WEBHOOK_SECRET": "s",
			"PAYOUTDESK_BASE_URL": "https://desk.example.com"}, "", []providers.Name{providers.Kibramoa}},
		{"live without a base URL", map[string]string{"PAYOUTDESK_KIBRAMOA_API_KEY": "k", "PAYOUTDESK_KIBRAMOA_WEBHOOK_SECRET": "s"}, "PAYOUTDESK_BASE_URL", nil},
		{"kibramoa without secret", map[string]string{"PAYOUTDESK_KIBRAMOA_API_KEY": "k"}, "PAYOUTDESK_KIBRAMOA_WEBHOOK_SECRET", nil},
		{"kibramoa amount format", map[string]string{"PAYOUTDESK_KIBRAMOA_AMOUNT_FORMAT": "cents"}, "PAYOUTDESK_KIBRAMOA_AMOUNT_FORMAT", nil},
		{"fedapay phone format", map[string]string{"PAYOUTDESK_FEDAPAY_PHONE_FORMAT": "e164"}, "PAYOUTDESK_FEDAPAY_PHONE_FORMAT", nil},
		{"monime without space", map[string]string{"PAYOUTDESK_MONIME_TOKEN": "t", "PAYOUTDESK_MONIME_WEBHOOK_SECRET": "s"}, "PAYOUTDESK_MONIME_SPACE_ID", nil},
		{"fedapay without secret", map[string]string{"PAYOUTDESK_FEDAPAY_SECRET_KEY": "sk"}, "PAYOUTDESK_FEDAPAY_WEBHOOK_SECRET", nil},
		{"monime space without token", map[string]string{"PAYOUTDESK_MONIME_SPACE_ID": "spc-1"}, "PAYOUTDESK_MONIME_TOKEN is not", nil},
		{"fedapay secret without key", map[string]string{"PAYOUTDESK_FEDAPAY_WEBHOOK_SECRET": "wh"}, "PAYOUTDESK_FEDAPAY_SECRET_KEY is not", nil},
		{"smart glocal key file without project", map[string]string{"PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE": "/k.pem"}, "PAYOUTDESK_SMARTGLOCAL_PROJECT is not", nil},
		{"provider URL not http", map[string]string{"PAYOUTDESK_FEDAPAY_URL": "ftp://x"}, "PAYOUTDESK_FEDAPAY_URL", nil},
		{"provider URL without host", map[string]string{"PAYOUTDESK_KIBRAMOA_URL": "notaurl"}, "PAYOUTDESK_KIBRAMOA_URL", nil},
		{"provider URL with a password", map[string]string{"PAYOUTDESK_MONIME_URL": "https://user:s3cret@api.example/v1"}, "PAYOUTDESK_MONIME_URL", nil},
		{"smart glocal live", map[string]string{"PAYOUTDESK_SMARTGLOCAL_PROJECT": "p",
			"PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE": keyFile, "PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE": pubFile,
			"PAYOUTDESK_BASE_URL": "https://desk.example.com"}, "", []providers.Name{providers.SmartGlocal}},
		{"smart glocal without key files", map[string]string{"PAYOUTDESK_SMARTGLOCAL_PROJECT": "p"}, "PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE", nil},
		{"smart glocal key file missing", map[string]string{"PAYOUTDESK_SMARTGLOCAL_PROJECT": "p",
			"PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE": filepath.Join(dir, "absent.pem"), "PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE": pubFile}, "PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE", nil},
		{"smart glocal public key is our own", map[string]string{"PAYOUTDESK_SMARTGLOCAL_PROJECT": "p",
			"PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE": keyFile, "PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE": ownPub,
			"PAYOUTDESK_BASE_URL": "https://desk.example.com"}, "PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE", nil},
		{"smart glocal public key unreadable", map[string]string{"PAYOUTDESK_SMARTGLOCAL_PROJECT": "p",
			"PAYOUTDESK_SMARTGLOCAL_PRIVATE_KEY_FILE": keyFile, "PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE": junk}, "PAYOUTDESK_SMARTGLOCAL_PUBLIC_KEY_FILE", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := loadConfig(nil, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadConfig = %v, want an error naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			live := slices.Sorted(maps.Keys(cfg.Providers.Live()))
			if !slices.Equal(live, tt.live) {
				t.Errorf("live providers %v, want %v", live, tt.live)
			}
			if cfg.AllSandbox() != (len(tt.live) == 0) {
				t.Errorf("AllSandbox() = %v with live providers %v", cfg.AllSandbox(), live)
			}
		})
	}
}

// FedaPay's phone format is unconfirmed: it can be changed where the app
// is deployed, and reaches the client.
func TestFedaPayPhoneFormatIsASetting(t *testing.T) {
	for env, want := range map[string]fedapay.PhoneFormat{"": fedapay.PhoneLocal, "international": fedapay.PhoneInternational, "as_typed": fedapay.PhoneAsTyped} {
		cfg, _, err := loadConfig(nil, map[string]string{"PAYOUTDESK_FEDAPAY_PHONE_FORMAT": env})
		if err != nil {
			t.Fatalf("%q: %v", env, err)
		}
		if got := cfg.Providers.FedaPay.PhoneFormat; got != want {
			t.Errorf("PAYOUTDESK_FEDAPAY_PHONE_FORMAT=%q: format %q, want %q", env, got, want)
		}
	}
}

// TestSecretsAreEnvironmentOnly: other users can read flags in the process
// list, so no secret may be settable by one.
func TestSecretsAreEnvironmentOnly(t *testing.T) {
	secret := regexp.MustCompile(`_(TOKEN|SECRET|API_KEY|SECRET_KEY)$`)
	_, fs, err := loadConfig(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	flagEnv := regexp.MustCompile(`\[(PAYOUTDESK_\w+)\]$`)
	fs.VisitAll(func(f *flag.Flag) {
		m := flagEnv.FindStringSubmatch(f.Usage)
		if m == nil {
			t.Errorf("flag -%s does not name its environment variable: %q", f.Name, f.Usage)
		} else if secret.MatchString(m[1]) {
			t.Errorf("the secret %s is settable by flag -%s", m[1], f.Name)
		}
	})
	secrets := 0
	for _, s := range web.Settings() {
		if secret.MatchString(s[1]) {
			secrets++
			if s[0] != "(environment only)" {
				t.Errorf("the secret %s is documented with flag %s", s[1], s[0])
			}
		}
	}
	if secrets == 0 {
		t.Error("no setting looks like a secret: the pattern no longer matches their names")
	}
}

// TestREADMEDocumentsEverySetting checks the README's configuration table
// against the settings: one row each, with its flag, and its default (or,
// for a default worked out at start, what the help text says it is).
func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| *(`-[a-z-]+`)? *\\| *`(PAYOUTDESK_[A-Z0-9_]+)` *\\| *([^|]*?) *\\|")
	documented := map[string][2]string{} // env → flag, default
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		if _, dup := documented[m[2]]; dup {
			t.Errorf("README documents %s twice", m[2])
		}
		documented[m[2]] = [2]string{strings.Trim(m[1], "`"), m[3]}
	}
	for _, s := range web.Settings() {
		flagName, env, def, usage := s[0], s[1], s[2], s[3]
		doc, ok := documented[env]
		if !ok {
			t.Errorf("README's configuration table lacks %s", env)
			continue
		}
		delete(documented, env)
		if flagName == "(environment only)" {
			flagName = ""
		}
		if doc[0] != flagName {
			t.Errorf("README gives %s the flag %q, want %q", env, doc[0], flagName)
		}
		switch {
		case def != "":
			if doc[1] != "`"+def+"`" {
				t.Errorf("README gives %s the default %s, want `%s`", env, doc[1], def)
			}
		case doc[1] == "none":
		case !strings.Contains(usage, "default "+strings.Trim(doc[1], "`")):
			t.Errorf("README gives %s the default %s, which its help text (%q) does not", env, doc[1], usage)
		}
	}
	for env := range documented {
		t.Errorf("README documents %s, which is not a setting", env)
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := web.DefaultConfig()
	if cfg.Addr != "127.0.0.1:8080" || cfg.DBPath != "./payoutdesk.db" || cfg.ApprovalTTL != 72*time.Hour ||
		cfg.SessionIdle != 30*time.Minute || cfg.SendParallel < 1 || cfg.ReconcileRate != 100 || cfg.LogLevel != slog.LevelInfo || !cfg.AllSandbox() {
		t.Errorf("defaults: %+v", cfg)
	}
	if _, ok := cfg.ApprovalRules.Threshold("fedapay", "USD"); !ok {
		t.Error("the default approval rules have no USD threshold")
	}
}
