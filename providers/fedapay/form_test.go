package fedapay

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

func TestForm(t *testing.T) {
	f := New(Config{}).Form()
	if f.Provider != providers.FedaPay {
		t.Errorf("Provider: got %q, want %q", f.Provider, providers.FedaPay)
	}
	var names []string
	for _, fd := range f.Fields {
		names = append(names, fd.Name)
		if fd.Label == "" || fd.Hint == "" || fd.Group == "" {
			t.Errorf("field %s: label %q, hint %q, group %q; want all set", fd.Name, fd.Label, fd.Hint, fd.Group)
		}
		if fd.Pattern != "" {
			if _, err := regexp.Compile(fd.Pattern); err != nil {
				t.Errorf("field %s: pattern: %v", fd.Name, err)
			}
		}
	}
	want := []string{"amount", "currency", "mode", "description", "firstname", "lastname", "phone_country", "phone_number", "email"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("fields mismatch (-want +got):\n%s", diff)
	}

	amount, _ := f.Field(providers.FieldNameAmount)
	if amount.Type != providers.FieldAmount || !amount.Required {
		t.Errorf("amount: got type %q required %v, want amount, true", amount.Type, amount.Required)
	}
	cur, _ := f.Field(providers.FieldNameCurrency)
	if diff := cmp.Diff([]providers.Option{{Value: "XOF", Label: "XOF"}}, cur.Options); diff != "" {
		t.Errorf("currency options mismatch (-want +got):\n%s", diff)
	}
	phone, _ := f.Field(FieldPhone)
	if !phone.Account || !phone.Required {
		t.Errorf("phone_number: got account %v required %v, want true, true", phone.Account, phone.Required)
	}
	re := regexp.MustCompile(phone.Pattern)
	for s, want := range map[string]bool{"97808080": true, "+229 97 80 80 80": true, "97-80-80-80": true, "9780": false, "97 80 ab": false, "+": false,
		// The bounds its message gives: 7 to 16 digits.
		"123456": false, "1234567": true, "1234567890123456": true, "12345678901234567": false} {
		if got := re.MatchString(s); got != want {
			t.Errorf("phone pattern on %q: got %v, want %v", s, got, want)
		}
	}
	if !strings.Contains(phone.PatternMessage, "7 to 16 digits") {
		t.Errorf("phone pattern's message %q does not say how many digits, which is what a number of digits only gets wrong", phone.PatternMessage)
	}
	mode, _ := f.Field(FieldMode)
	// Every documented operator but Guinea's: GNF is not configured by default.
	if got, want := len(mode.Options), len(DefaultModes())-1; got != want {
		t.Errorf("mode options: got %d, want %d", got, want)
	}
	desc, _ := f.Field(FieldDescription)
	if desc.MaxLen != 255 || desc.Required {
		t.Errorf("description: got max %d required %v, want 255, false", desc.MaxLen, desc.Required)
	}

	// Without GNF configured, nothing leads to Guinea: its operators and
	// its numbers could never be paid.
	xof := New(Config{Currencies: []string{"XOF"}, Modes: []Mode{{"mtn_open", "MTN Benin", "bj"}, {"mtn_open_gn", "MTN Guinea", "gn"}}}).Form()
	mode, _ = xof.Field(FieldMode)
	countriesShown, _ := xof.Field(FieldPhoneCountry)
	for _, fl := range []providers.Field{mode, countriesShown} {
		for _, o := range fl.Options {
			if strings.Contains(o.Label, "Guinea") {
				t.Errorf("with XOF only, the %s field offers %q", fl.Name, o.Label)
			}
		}
	}
	gnf := New(Config{Currencies: []string{"XOF", "GNF"}, Modes: []Mode{{"mtn_open_gn", "MTN Guinea", "gn"}}}).Form()
	cur, _ = gnf.Field(providers.FieldNameCurrency)
	mode, _ = gnf.Field(FieldMode)
	if len(cur.Options) != 2 || len(mode.Options) != 1 {
		t.Errorf("configured form: got %d currencies and %d modes, want 2 and 1", len(cur.Options), len(mode.Options))
	}
}

func validPayout() providers.Payout {
	return providers.Payout{
		Reference: "ref-1",
		Amount:    providers.Money{Minor: 5000, Currency: "XOF"},
		Fields: map[string]string{FieldMode: "mtn_open", FieldFirstname: "Ama", FieldLastname: "Kpoti",
			FieldPhone: "97 80 80 80", FieldPhoneCountry: "bj"},
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		change func(p *providers.Payout)
		want   map[string]string
	}{
		{name: "valid", change: func(p *providers.Payout) {}, want: map[string]string{}},
		{name: "at the limit", change: func(p *providers.Payout) { p.Amount.Minor = MaxAmountXOF }, want: map[string]string{}},
		{name: "over the limit", change: func(p *providers.Payout) { p.Amount.Minor = MaxAmountXOF + 1 },
			want: map[string]string{"amount": "FedaPay pays out at most 1,000,000 XOF per payout."}},
		{name: "zero", change: func(p *providers.Payout) { p.Amount.Minor = 0 },
			want: map[string]string{"amount": "Enter an amount greater than zero."}},
		{name: "other currency", change: func(p *providers.Payout) { p.Amount = providers.Money{Minor: 1050, Currency: "USD"} },
			want: map[string]string{"currency": "FedaPay pays out in XOF only.", "amount": "Use whole francs: FedaPay amounts have no decimals."}},
		{name: "mode of another country", change: func(p *providers.Payout) { p.Fields[FieldMode] = "togocel" },
			want: map[string]string{"phone_country": "Mixx by Yas Togo pays to numbers in Togo only: pick that country or another operator."}},
		{name: "unknown mode", change: func(p *providers.Payout) { p.Fields[FieldMode] = "mtn" },
			want: map[string]string{"mode": "Choose one of the listed operators."}},
		{name: "unknown country", change: func(p *providers.Payout) { p.Fields[FieldPhoneCountry] = "fr" },
			want: map[string]string{"phone_country": "Choose the country of the mobile money number."}},
		{name: "number with another country code", change: func(p *providers.Payout) { p.Fields[FieldPhone] = "+228 97808080" },
			want: map[string]string{"phone_number": "This number does not start with +229, the code of Benin."}},
		{name: "a digit short", change: func(p *providers.Payout) { p.Fields[FieldPhone] = "97 80 80 8" },
			want: map[string]string{"phone_number": "Mobile numbers in Benin have 10 digits starting with 01 (or the older 8 digits) after +229: check this one."}},
		{name: "ten digits not starting with 01", change: func(p *providers.Payout) { p.Fields[FieldPhone] = "97 80 80 80 80" },
			want: map[string]string{"phone_number": "Mobile numbers in Benin have 10 digits starting with 01 (or the older 8 digits) after +229: check this one."}},
		{name: "long description", change: func(p *providers.Payout) { p.Fields[FieldDescription] = string(make([]rune, 256)) },
			want: map[string]string{"description": "Keep the purpose to 255 characters."}},
		{name: "GNF outside Guinea", cfg: Config{Currencies: []string{"XOF", "GNF"}},
			change: func(p *providers.Payout) { p.Amount = providers.Money{Minor: 5000, Currency: "GNF"} },
			want:   map[string]string{"currency": "Payouts to Benin are in XOF, not GNF."}},
		{name: "XOF to Guinea", cfg: Config{Currencies: []string{"XOF", "GNF"}},
			change: func(p *providers.Payout) {
				p.Fields[FieldMode], p.Fields[FieldPhoneCountry], p.Fields[FieldPhone] = "mtn_open_gn", "gn", "620 00 00 00"
			},
			want: map[string]string{"currency": "Payouts to Guinea are in GNF, not XOF."}},
		{name: "GNF in Guinea, no XOF limit", cfg: Config{Currencies: []string{"XOF", "GNF"}},
			change: func(p *providers.Payout) {
				p.Amount = providers.Money{Minor: 5_000_000, Currency: "GNF"}
				p.Fields[FieldMode], p.Fields[FieldPhoneCountry], p.Fields[FieldPhone] = "mtn_open_gn", "gn", "620 00 00 00"
			},
			want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPayout()
			tt.change(&p)
			if diff := cmp.Diff(tt.want, New(tt.cfg).Check(p)); diff != "" {
				t.Errorf("Check mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBeneficiary(t *testing.T) {
	got := New(Config{}).Beneficiary(validPayout())
	want := providers.Beneficiary{Name: "Ama Kpoti", AccountMasked: "•••• 8080", Country: "BJ"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Beneficiary mismatch (-want +got):\n%s", diff)
	}
}

// The cap counts a number however it is typed, and Benin's eight-digit
// numbers as the ten-digit ones they became; other countries' numbers are
// left as they are.
func TestRecipientLimit(t *testing.T) {
	c := New(Config{})
	recipient := func(country, phone string) string {
		t.Helper()
		p := validPayout()
		p.Fields[FieldPhoneCountry], p.Fields[FieldPhone] = country, phone
		l, ok := c.RecipientLimit(p)
		if !ok {
			t.Fatalf("no limit for %s %q", country, phone)
		}
		if l.Max != 3 || l.Window != 24*time.Hour {
			t.Errorf("limit %d in %v, want 3 in 24h", l.Max, l.Window)
		}
		return l.Recipient
	}
	for _, typed := range []string{"97808080", "+229 97 80 80 80", "01 97 80 80 80", "+229 0197808080", "00229-01-97-80-80-80"} {
		if got := recipient("bj", typed); got != "+2290197808080" {
			t.Errorf("Benin %q counts as %q, want +2290197808080", typed, got)
		}
	}
	if got := recipient("tg", "90 12 34 56"); got != "+22890123456" {
		t.Errorf("Togo 90 12 34 56 counts as %q, want +22890123456", got)
	}
	if got := recipient("bj", "+229 01 97 80 80 81"); got == recipient("bj", "97808080") {
		t.Errorf("two different numbers count as one: %q", got)
	}
}

func TestCapabilities(t *testing.T) {
	for _, allow := range []bool{false, true} {
		got := New(Config{AllowCancel: allow}).Capabilities()
		want := providers.Capabilities{StatusLookup: true, Cancel: allow, Resumable: true, Signature: providers.SignatureTimedHMAC}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("AllowCancel %v: capabilities mismatch (-want +got):\n%s", allow, diff)
		}
	}
}
