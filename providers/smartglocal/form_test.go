package smartglocal

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

func TestForm(t *testing.T) {
	c := New(Config{Sender: Sender{CompanyName: "Acme Ltd", CountryISO3: "GBR"}})
	spec := c.Form()
	if spec.Provider != providers.SmartGlocal {
		t.Errorf("got provider %q, want %q", spec.Provider, providers.SmartGlocal)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	groups := map[string]bool{"Payout": true, "Recipient": true, "Sender": true, "Customer": true}
	seen := map[string]bool{}
	for _, f := range spec.Fields {
		if !snake.MatchString(f.Name) || seen[f.Name] {
			t.Errorf("field name %q: not snake_case or repeated", f.Name)
		}
		seen[f.Name] = true
		if f.Label == "" || !groups[f.Group] {
			t.Errorf("field %s: label %q, group %q", f.Name, f.Label, f.Group)
		}
		if f.Pattern != "" {
			if _, err := regexp.Compile(`^(?:` + f.Pattern + `)$`); err != nil || f.PatternMessage == "" {
				t.Errorf("field %s: pattern %q: %v, message %q", f.Name, f.Pattern, err, f.PatternMessage)
			}
		}
		if f.Type == providers.FieldSelect && len(f.Options) == 0 {
			t.Errorf("field %s: select without options", f.Name)
		}
	}
	for _, name := range []string{"idempotency_key", "reference", "merchant_reference"} {
		if seen[name] {
			t.Errorf("form has %s, which the app mints", name)
		}
	}
	amount, _ := spec.Field("amount")
	if amount.Type != providers.FieldAmount || !amount.Required {
		t.Errorf("amount: got type %s required %v, want amount, required", amount.Type, amount.Required)
	}
	cur, _ := spec.Field("currency")
	var codes []string
	for _, o := range cur.Options {
		codes = append(codes, o.Value)
	}
	if diff := cmp.Diff([]string{"USD", "EUR", "GBP"}, codes); cur.Type != providers.FieldSelect || diff != "" {
		t.Errorf("currency: type %s, options (-want +got):\n%s", cur.Type, diff)
	}
	method, _ := spec.Field("payment_method")
	var methods []string
	for _, o := range method.Options {
		methods = append(methods, o.Value)
	}
	if diff := cmp.Diff([]string{methodBankAccount, methodCard}, methods); !method.Required || diff != "" {
		t.Errorf("payment_method: required %v, options (-want +got):\n%s", method.Required, diff)
	}
	// Check leaves the ISO 3166 codes to the spec: validator's country
	// data, on the value taken in capitals.
	for _, name := range []string{"recipient_country_iso3", "sender_country_iso3"} {
		if f, _ := spec.Field(name); f.Validate != iso3Country || !f.Upper || f.MaxLen != 3 {
			t.Errorf("%s: validate %q, upper %v, max length %d; want %q, true, 3", name, f.Validate, f.Upper, f.MaxLen, iso3Country)
		}
	}
	accounts := map[string]string{"iban": methodBankAccount, "card_number": methodCard}
	for name, method := range accounts {
		f, ok := spec.Field(name)
		if !ok || !f.Account || !f.Required || f.When == nil || f.When.Field != "payment_method" || f.When.Values[0] != method {
			t.Errorf("%s: got %+v, want a required account field when payment_method=%s", name, f, method)
		}
	}
	defaults := spec.Defaults()
	wantDefaults := map[string]string{"currency": "USD", "payment_method": "bank_account", "recipient_currency": "EUR",
		"sender_company_name": "Acme Ltd", "sender_country_iso3": "GBR"}
	if diff := cmp.Diff(wantDefaults, defaults); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func bankPayout(iban string) providers.Payout {
	return providers.Payout{Amount: providers.Money{Minor: 15000, Currency: "EUR"}, Fields: map[string]string{
		"payment_method": "bank_account", "iban": iban, "recipient_first_name": "John", "recipient_last_name": "Johnson",
		"recipient_currency": "EUR", "recipient_country_iso3": "BEL", "sender_country_iso3": "USA",
	}}
}

func cardPayout(number string) providers.Payout {
	return providers.Payout{Amount: providers.Money{Minor: 15000, Currency: "USD"}, Fields: map[string]string{
		"payment_method": "card", "card_number": number, "recipient_full_name": "Ann Lee", "recipient_country_iso3": "FRA",
	}}
}

func TestCheck(t *testing.T) {
	with := func(p providers.Payout, k, v string) providers.Payout { p.Fields[k] = v; return p }
	tests := []struct {
		name string
		p    providers.Payout
		want []string // fields with a message
	}{
		{"valid IBAN", bankPayout("BE71 0961 2345 6769"), nil},
		{"valid IBAN compact lowercase", bankPayout("gb82west12345698765432"), nil},
		{"IBAN checksum wrong", bankPayout("BE71 0961 2345 6768"), []string{"iban"}},
		{"IBAN too short", bankPayout("BE71 0961"), []string{"iban"}},
		{"IBAN bad characters", bankPayout("BE71 0961 2345 676!"), []string{"iban"}},
		{"recipient currency unknown", with(bankPayout("DE89370400440532013000"), "recipient_currency", "EUX"), []string{"recipient_currency"}},
		{"valid card with spaces", cardPayout("4111 1111 1111 1111"), nil},
		{"card Luhn wrong", cardPayout("4111111111111112"), []string{"card_number"}},
		{"card too short", cardPayout("42424242424"), []string{"card_number"}},
		{"card too long", cardPayout("41111111111111111111"), []string{"card_number"}},
		{"zero amount", func() providers.Payout { p := cardPayout("4111111111111111"); p.Amount.Minor = 0; return p }(), []string{"amount"}},
	}
	c := New(Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Check(tt.p)
			var fields []string
			for _, name := range []string{"amount", "currency", "payment_method", "iban", "card_number", "recipient_currency", "recipient_country_iso3", "sender_country_iso3"} {
				if got[name] != "" {
					fields = append(fields, name)
				}
			}
			if diff := cmp.Diff(tt.want, fields); diff != "" || len(got) != len(fields) {
				t.Errorf("fields with messages (-want +got):\n%s\nall: %v", diff, got)
			}
		})
	}
}

func TestBeneficiary(t *testing.T) {
	c := New(Config{})
	tests := []struct {
		name string
		p    providers.Payout
		want providers.Beneficiary
	}{
		{"bank", bankPayout("be71 0961 2345 6769"), providers.Beneficiary{Name: "John Johnson", AccountMasked: "•••• 6769", Country: "BEL",
			AccountPrint: providers.AccountPrint("BE71096123456769")}},
		{"card", cardPayout("4111 1111 1111 1111"), providers.Beneficiary{Name: "Ann Lee", AccountMasked: "•••• 1111", Country: "FRA",
			AccountPrint: providers.AccountPrint("4111111111111111")}},
		// Not whole (fails its check): compared by its last characters only.
		{"card failing Luhn", cardPayout("4111 1111 1111 1234"), providers.Beneficiary{Name: "Ann Lee", AccountMasked: "•••• 1234", Country: "FRA"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, c.Beneficiary(tt.p)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// An account is printed only when it is whole: as typed in the form and
// as an answer gives it, a whole IBAN or card number prints the same;
// masked ones, as an answer may give them, print nothing rather than a
// print that would never match.
func TestAccountPrints(t *testing.T) {
	for _, tt := range []struct {
		typed, answered string
		print           func(string) string
	}{
		{"be71 0961 2345 6769", "BE71096123456769", ibanPrint},
		{"4111 1111 1111 1111", "4111111111111111", cardPrint},
		{"4111-1111-1111-1111", "4111111111111111", cardPrint},
	} {
		if typed, answered := tt.print(tt.typed), tt.print(tt.answered); typed == "" || typed != answered {
			t.Errorf("%q and %q print %q and %q, want one print", tt.typed, tt.answered, typed, answered)
		}
	}
	for _, masked := range []string{"BE71 **** **** 6769", "BE71XXXXXXXX6769", "411111******1111", "4111 11•• •••• 1111", "•••• 1111", ""} {
		if p := ibanPrint(masked) + cardPrint(masked); p != "" {
			t.Errorf("masked %q prints %q", masked, p)
		}
	}
	if ibanPrint("BE71096123456769") == ibanPrint("BE15539107547034") {
		t.Error("two IBANs print alike")
	}
}
