package kibramoa

import (
	"regexp"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

func TestForm(t *testing.T) {
	c := New(Config{DefaultRedirectURL: "https://desk.example/payouts/return"})
	spec := c.Form()
	if spec.Provider != providers.Kibramoa {
		t.Errorf("got provider %q, want kibramoa", spec.Provider)
	}
	tests := []struct {
		name     string
		typ      providers.FieldType
		required bool
		maxLen   int
		def      string
	}{
		{"amount", providers.FieldAmount, true, 0, ""},
		{"currency", providers.FieldSelect, true, 0, "BRL"},
		{"country", providers.FieldSelect, true, 0, "BR"},
		{"redirect_url", providers.FieldURL, true, 2048, "https://desk.example/payouts/return"},
		{"description", providers.FieldTextarea, false, 255, ""},
		{"user_id", providers.FieldText, true, 36, ""},
		{"user_agent", providers.FieldText, false, 255, ""},
		{"user_device", providers.FieldSelect, false, 0, ""},
		{"ip", providers.FieldIP, false, 45, ""},
		{"language", providers.FieldSelect, false, 0, ""},
		{"extra1", providers.FieldText, false, 255, ""},
		{"extra2", providers.FieldText, false, 255, ""},
		{"extra3", providers.FieldText, false, 255, ""},
	}
	if len(spec.Fields) != len(tests) {
		t.Errorf("got %d fields, want %d", len(spec.Fields), len(tests))
	}
	for _, tt := range tests {
		f, ok := spec.Field(tt.name)
		if !ok {
			t.Errorf("field %s missing", tt.name)
			continue
		}
		got := []any{f.Type, f.Required, f.MaxLen, f.Default}
		want := []any{tt.typ, tt.required, tt.maxLen, tt.def}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("field %s (type, required, maxlen, default) mismatch (-want +got):\n%s", tt.name, diff)
		}
		if f.Label == "" || f.Hint == "" || f.Group == "" {
			t.Errorf("field %s: got label %q, hint %q, group %q; want all set", tt.name, f.Label, f.Hint, f.Group)
		}
		if f.Account {
			t.Errorf("field %s is marked Account; the account is entered in the cashier", tt.name)
		}
		if f.Type == providers.FieldSelect && len(f.Options) == 0 {
			t.Errorf("select %s has no options", tt.name)
		}
		if f.Default != "" && f.Options != nil && !slices.ContainsFunc(f.Options, func(o providers.Option) bool { return o.Value == f.Default }) {
			t.Errorf("field %s: default %q is not one of its options", tt.name, f.Default)
		}
		if f.Pattern != "" {
			if _, err := regexp.Compile(f.Pattern); err != nil {
				t.Errorf("field %s: pattern does not compile: %v", tt.name, err)
			}
		}
	}
	cur, _ := spec.Field("currency")
	for _, o := range cur.Options {
		if _, err := providers.Exponent(o.Value); err != nil {
			t.Errorf("currency option %q: %v", o.Value, err)
		}
	}
	// The options are what keeps a payout to an unserved country out: Check
	// relies on them.
	country, _ := spec.Field("country")
	var got, want []string
	for _, o := range country.Options {
		got = append(got, o.Value)
	}
	for _, k := range Corridors {
		want = append(want, k.Country)
	}
	if diff := cmp.Diff(want, got); diff != "" || !country.Required {
		t.Errorf("country: required %v, options mismatch (-want +got):\n%s", country.Required, diff)
	}
}

func TestCheck(t *testing.T) {
	payout := func(country, currency, redirect string) providers.Payout {
		return providers.Payout{
			Amount: providers.Money{Minor: 15000, Currency: currency},
			Fields: map[string]string{"country": country, "redirect_url": redirect, "user_id": "cust-1"},
		}
	}
	tests := []struct {
		name       string
		defaultURL string
		p          providers.Payout
		wantFields []string
	}{
		{"valid Brazil", "", payout("BR", "BRL", "https://desk.example/r"), nil},
		{"valid Ecuador in dollars", "", payout("EC", "USD", "https://desk.example/r"), nil},
		{"valid Chile, no decimals", "", payout("CL", "CLP", "https://desk.example/r"), nil},
		{"redirect from config", "https://desk.example/r", payout("MX", "MXN", ""), nil},
		{"wrong currency for country", "", payout("BR", "MXN", "https://desk.example/r"), []string{"currency"}},
		{"dollars in Brazil", "", payout("BR", "USD", "https://desk.example/r"), []string{"currency"}},
		{"no redirect anywhere", "", payout("BR", "BRL", ""), []string{"redirect_url"}},
		{"relative redirect", "", payout("BR", "BRL", "/payouts/1"), []string{"redirect_url"}},
		{"ftp redirect", "", payout("BR", "BRL", "ftp://desk.example/r"), []string{"redirect_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := New(Config{DefaultRedirectURL: tt.defaultURL}).Check(tt.p)
			var keys []string
			for k, msg := range got {
				keys = append(keys, k)
				if msg == "" {
					t.Errorf("field %s has an empty message", k)
				}
			}
			slices.Sort(keys)
			if diff := cmp.Diff(tt.wantFields, keys); diff != "" {
				t.Errorf("fields with messages mismatch (-want +got):\n%s\nmessages: %v", diff, got)
			}
		})
	}
}

func TestBeneficiary(t *testing.T) {
	p := providers.Payout{Fields: map[string]string{"user_id": " merchant_user123 ", "country": "BR"}}
	want := providers.Beneficiary{Name: "merchant_user123", AccountMasked: "chosen in cashier", Country: "BR"}
	if diff := cmp.Diff(want, New(Config{}).Beneficiary(p)); diff != "" {
		t.Errorf("beneficiary mismatch (-want +got):\n%s", diff)
	}
}
