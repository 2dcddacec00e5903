package fedapay

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"payoutdesk/providers"
)

// Names of the FedaPay form's fields, the keys of Payout.Fields.
const (
	FieldMode         = "mode"
	FieldDescription  = "description"
	FieldFirstname    = "firstname"
	FieldLastname     = "lastname"
	FieldEmail        = "email"
	FieldPhone        = "phone_number"
	FieldPhoneCountry = "phone_country"
)

// MaxAmountXOF is FedaPay's documented limit for one payout.
const MaxAmountXOF = 1_000_000

// maxDescription is the length of description the form accepts.
const maxDescription = 255

// Mode is a FedaPay payout mode: a mobile money operator in one country.
type Mode struct {
	Code  string
	Label string
	// Country is the lower-case ISO 3166 code used in phone_number.country.
	Country string
}

// DefaultModes returns the mode codes FedaPay documents. Which of them are
// enabled for payouts depends on the account and is unconfirmed.
func DefaultModes() []Mode {
	return []Mode{
		{"mtn_open", "MTN Benin", "bj"},
		{"moov", "Moov Benin", "bj"},
		{"sbin", "Celtiis Benin", "bj"},
		{"moov_tg", "Moov Togo", "tg"},
		{"togocel", "Mixx by Yas Togo", "tg"},
		{"mtn_ci", "MTN Côte d'Ivoire", "ci"},
		{"mtn_open_gn", "MTN Guinea", "gn"},
		{"airtel_ne", "Airtel Niger", "ne"},
		{"free_sn", "Free Senegal", "sn"},
	}
}

type country struct {
	Code, Name, CallingCode, Currency string
	// Mobile matches a mobile number of the country's numbering plan
	// without its country code; Digits says the same in words.
	Mobile *regexp.Regexp
	Digits string
}

// countries are FedaPay's, with their mobile numbering plans: Benin's
// numbers gained a leading 01 in November 2024 (customers still give the
// eight digits), Côte d'Ivoire's mobiles are 01, 05 or 07 and eight digits
// since 2021, Guinea's start with 6 and Senegal's with 7.
var countries = []country{
	{"bj", "Benin", "229", "XOF", regexp.MustCompile(`^(?:01[0-9]{8}|[2-9][0-9]{7})$`), "10 digits starting with 01 (or the older 8 digits)"},
	{"tg", "Togo", "228", "XOF", regexp.MustCompile(`^[1-9][0-9]{7}$`), "8 digits"},
	{"ci", "Côte d'Ivoire", "225", "XOF", regexp.MustCompile(`^0[157][0-9]{8}$`), "10 digits starting with 01, 05 or 07"},
	{"gn", "Guinea", "224", "GNF", regexp.MustCompile(`^6[0-9]{8}$`), "9 digits starting with 6"},
	{"ne", "Niger", "227", "XOF", regexp.MustCompile(`^[1-9][0-9]{7}$`), "8 digits"},
	{"sn", "Senegal", "221", "XOF", regexp.MustCompile(`^7[0-9]{8}$`), "9 digits starting with 7"},
}

func countryByCode(code string) (country, bool) {
	code = strings.ToLower(strings.TrimSpace(code))
	for _, c := range countries {
		if c.Code == code {
			return c, true
		}
	}
	return country{}, false
}

func (c *Client) mode(code string) (Mode, bool) {
	for _, m := range c.cfg.Modes {
		if m.Code == strings.TrimSpace(code) {
			return m, true
		}
	}
	return Mode{}, false
}

// Form is the agent's FedaPay payout form.
func (c *Client) Form() providers.FormSpec {
	var currencies, modes, phoneCountries []providers.Option
	for _, cur := range c.cfg.Currencies {
		currencies = append(currencies, providers.Option{Value: cur, Label: cur})
	}
	// Operators and countries whose currency is not configured could never
	// be paid: they are not offered.
	for _, m := range c.cfg.Modes {
		name := m.Country
		if ct, ok := countryByCode(m.Country); ok {
			if !slices.Contains(c.cfg.Currencies, ct.Currency) {
				continue
			}
			name = ct.Name
		}
		modes = append(modes, providers.Option{Value: m.Code, Label: fmt.Sprintf("%s (%s, %s)", m.Label, name, m.Code)})
	}
	for _, ct := range countries {
		if !slices.Contains(c.cfg.Currencies, ct.Currency) {
			continue
		}
		phoneCountries = append(phoneCountries, providers.Option{Value: ct.Code, Label: fmt.Sprintf("%s (+%s)", ct.Name, ct.CallingCode)})
	}
	return providers.FormSpec{
		Provider: providers.FedaPay,
		Intro: "FedaPay sends CFA francs to a mobile money wallet in West Africa. " +
			"The payout is created and started at once; the operator usually credits the wallet within minutes.",
		Fields: []providers.Field{
			{Name: providers.FieldNameAmount, Label: "Amount", Type: providers.FieldAmount, Group: "Payout", Required: true,
				Placeholder: "5000",
				Hint:        "Whole francs, no decimals. At most 1,000,000 XOF per payout, and at most 3 payouts to one number in 24 hours."},
			{Name: providers.FieldNameCurrency, Label: "Currency", Type: providers.FieldSelect, Group: "Payout", Required: true,
				Options: currencies, Default: c.cfg.Currencies[0],
				Hint: "FedaPay pays out in West African CFA francs (XOF)."},
			{Name: FieldMode, Label: "Operator", Type: providers.FieldSelect, Group: "Payout", Required: true, Options: modes,
				Hint: "The beneficiary's mobile money operator; it must be in the phone number's country. " +
					"Only operators enabled on our FedaPay account work: if one is refused, ask a manager."},
			{Name: FieldDescription, Label: "Purpose of the funds", Type: providers.FieldTextarea, Group: "Payout", MaxLen: maxDescription,
				Placeholder: "Refund of order 1234",
				Hint:        "Optional. Why the money is sent, as the central bank (BCEAO) asks; the beneficiary may see it."},
			{Name: FieldFirstname, Label: "First name", Type: providers.FieldText, Group: "Beneficiary", Required: true, MaxLen: 100,
				Hint: "As registered with the mobile money account."},
			{Name: FieldLastname, Label: "Last name", Type: providers.FieldText, Group: "Beneficiary", Required: true, MaxLen: 100,
				Hint: "As registered with the mobile money account."},
			{Name: FieldPhoneCountry, Label: "Phone country", Type: providers.FieldSelect, Group: "Beneficiary", Required: true,
				Options: phoneCountries, Default: "bj",
				Hint: "Country of the mobile money number; it must match the operator's country."},
			{Name: FieldPhone, Label: "Mobile money number", Type: providers.FieldTel, Group: "Beneficiary", Required: true, Account: true,
				Placeholder: "01 97 80 80 80", MaxLen: 24,
				Pattern:        `^\+?[0-9](?:[ .-]?[0-9]){6,15}$`,
				PatternMessage: "Use 7 to 16 digits (spaces allowed), optionally starting with + and the country code.",
				Hint:           "The wallet's number without the country code, e.g. 01 97 80 80 80 in Benin; +229… is accepted too."},
			{Name: FieldEmail, Label: "Email", Type: providers.FieldEmail, Group: "Beneficiary", MaxLen: 254,
				Hint: "Optional. FedaPay keeps one customer per email and overwrites that customer's name and number " +
					"with these: leave it empty unless it is the beneficiary's own address."},
		},
	}
}

// Check applies FedaPay's rules beyond the form: currency, whole amounts,
// the per-payout limit, and an operator and phone number in one country.
func (c *Client) Check(p providers.Payout) map[string]string {
	errs := make(map[string]string)
	f := p.Fields
	cur := p.Amount.Currency
	if !slices.Contains(c.cfg.Currencies, cur) {
		errs[providers.FieldNameCurrency] = fmt.Sprintf("FedaPay pays out in %s only.", strings.Join(c.cfg.Currencies, ", "))
	}
	units, err := p.Amount.WholeUnits()
	switch {
	case err != nil:
		errs[providers.FieldNameAmount] = "Use whole francs: FedaPay amounts have no decimals."
	case units <= 0:
		errs[providers.FieldNameAmount] = "Enter an amount greater than zero."
	case cur == "XOF" && units > MaxAmountXOF:
		errs[providers.FieldNameAmount] = "FedaPay pays out at most 1,000,000 XOF per payout."
	}

	m, modeOK := c.mode(f[FieldMode])
	if !modeOK {
		errs[FieldMode] = "Choose one of the listed operators."
	}
	ct, countryOK := countryByCode(f[FieldPhoneCountry])
	if !countryOK {
		errs[FieldPhoneCountry] = "Choose the country of the mobile money number."
	}
	if modeOK && countryOK && m.Country != ct.Code {
		modeCountry, _ := countryByCode(m.Country)
		errs[FieldPhoneCountry] = fmt.Sprintf("%s pays to numbers in %s only: pick that country or another operator.", m.Label, modeCountry.Name)
	}
	if countryOK && cur != ct.Currency && slices.Contains(c.cfg.Currencies, cur) {
		errs[providers.FieldNameCurrency] = fmt.Sprintf("Payouts to %s are in %s, not %s.", ct.Name, ct.Currency, cur)
	}
	if countryOK && strings.TrimSpace(f[FieldPhone]) != "" {
		if _, err := formatPhone(f[FieldPhone], ct.Code, PhoneInternational); err != nil {
			errs[FieldPhone] = err.Error()
		}
	}
	if utf8.RuneCountInString(f[FieldDescription]) > maxDescription {
		errs[FieldDescription] = fmt.Sprintf("Keep the purpose to %d characters.", maxDescription)
	}
	return errs
}

// Payouts FedaPay takes to one mobile money number in a rolling window.
const (
	MaxPayoutsPerNumber = 3
	NumberWindow        = 24 * time.Hour
)

// RecipientLimit is FedaPay's cap of 3 payouts to one number in 24 hours,
// the number written in international form so that "97 80 80 80" and
// "+229 97808080" count as one.
func (c *Client) RecipientLimit(p providers.Payout) (providers.RecipientLimit, bool) {
	n, err := formatPhone(p.Fields[FieldPhone], p.Fields[FieldPhoneCountry], PhoneInternational)
	if err != nil {
		return providers.RecipientLimit{}, false
	}
	return providers.RecipientLimit{Field: FieldPhone, Noun: "mobile money number", Recipient: oneLine(n), Max: MaxPayoutsPerNumber, Window: NumberWindow}, true
}

// oneLine writes an international number the way its line is numbered now.
// Benin moved to ten digits in November 2024 by putting 01 before every
// eight-digit number; customers still give the old form, and both reach
// the same wallet, so both must count against the cap as one number.
// The payout itself is sent with the number as the agent gave it.
func oneLine(intl string) string {
	if national, ok := strings.CutPrefix(intl, "+229"); ok && len(national) == 8 {
		return "+22901" + national
	}
	return intl
}

// Beneficiary is the payout's customer name, masked phone number and country.
func (c *Client) Beneficiary(p providers.Payout) providers.Beneficiary {
	f := p.Fields
	b := providers.Beneficiary{
		Name:    strings.TrimSpace(strings.TrimSpace(f[FieldFirstname]) + " " + strings.TrimSpace(f[FieldLastname])),
		Country: strings.ToUpper(strings.TrimSpace(f[FieldPhoneCountry])),
	}
	if b.Country == "" {
		if m, ok := c.mode(f[FieldMode]); ok {
			b.Country = strings.ToUpper(m.Country)
		}
	}
	if phone := strings.TrimSpace(f[FieldPhone]); phone != "" {
		b.AccountMasked = providers.MaskAccount(phone)
	}
	return b
}

var errPhoneDigits = errors.New("Use digits only, optionally starting with + and the country code.")

// formatPhone writes a phone number typed by an agent in the given format,
// checking that a country code, if typed, is the country's, and that the
// number is a mobile number there: a digit too few must not pay someone
// else. Its errors are worded for the agent and never repeat the number.
func formatPhone(raw, countryCode string, format PhoneFormat) (string, error) {
	n := providers.StripSeparators(raw)
	if strings.HasPrefix(n, "00") {
		n = "+" + n[2:]
	}
	digits, intl := strings.CutPrefix(n, "+")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", errPhoneDigits
	}
	if format == PhoneAsTyped {
		return n, nil
	}
	ct, ok := countryByCode(countryCode)
	if !ok {
		return "", fmt.Errorf("Unknown phone country %q.", countryCode)
	}
	// "229 97 80 80 80": the country code typed without + or 00, known by
	// a whole mobile number following it.
	if rest, ok := strings.CutPrefix(digits, ct.CallingCode); !intl && ok && ct.Mobile.MatchString(rest) {
		intl = true
	}
	if intl {
		local, ok := strings.CutPrefix(digits, ct.CallingCode)
		if !ok || local == "" {
			return "", fmt.Errorf("This number does not start with +%s, the code of %s.", ct.CallingCode, ct.Name)
		}
		digits = local
	}
	if !ct.Mobile.MatchString(digits) {
		return "", fmt.Errorf("Mobile numbers in %s have %s after +%s: check this one.", ct.Name, ct.Digits, ct.CallingCode)
	}
	if format == PhoneInternational {
		return "+" + ct.CallingCode + digits, nil
	}
	return digits, nil
}
