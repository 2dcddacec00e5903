package web_test

import (
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"payoutdesk/web"
)

func TestLoadConfigPrecedence(t *testing.T) {
	env := map[string]string{"PAYOUTDESK_ADDR": "127.0.0.1:9000", "PAYOUTDESK_SESSION_IDLE": "10m", "PAYOUTDESK_METRICS_TOKEN": "s3cret"}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	cfg, err := web.LoadConfig(fs, []string{"-session-idle", "5m", "-base-url", "https://desk.example.com/"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9000" || cfg.SessionIdle != 5*time.Minute || cfg.SessionAbsolute != 12*time.Hour ||
		cfg.DBPath != "./payoutdesk.db" || cfg.BaseURL != "https://desk.example.com" || !cfg.Secure() || cfg.MetricsToken != "s3cret" {
		t.Errorf("config = %+v: want env over default, flag over env, trimmed base URL", cfg)
	}
	if fs.Lookup("metrics-token") != nil {
		t.Error("a secret is settable by flag, where the process list shows it")
	}

	bad := [][]string{
		{"-session-idle", "soon"},
		{"-session-max", "-1h"},
		{"-addr", "8080"},
		{"-base-url", "desk.example.com"},
		{"-trust-proxy", "maybe"},
	}
	for _, args := range bad {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		if _, err := web.LoadConfig(fs, args, func(string) string { return "" }); err == nil {
			t.Errorf("LoadConfig(%q) accepted a bad value", args)
		}
	}
}

func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range web.Settings() {
		if !strings.Contains(string(readme), "`"+s[1]+"`") {
			t.Errorf("README's configuration table lacks %s", s[1])
		}
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := web.DefaultConfig()
	if cfg.Addr != "127.0.0.1:8080" || cfg.DBPath != "./payoutdesk.db" || cfg.ApprovalTTL != 72*time.Hour ||
		cfg.ApprovalThresholds == "" || cfg.SessionIdle != 30*time.Minute || cfg.SendParallel < 1 {
		t.Errorf("defaults: %+v", cfg)
	}
}
