package kibramoa

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"payoutdesk/providers"
)

// Corridor is a country Kibramoa pays out in and the currency it pays in.
type Corridor struct {
	Country     string // ISO 3166-1 alpha-2
	CountryName string
	Currency    string // ISO 4217
}

// Corridors lists the country/currency pairs Kibramoa's payment-option list
// documents for Latin American bank payouts, in the form's order.
var Corridors = []Corridor{
	{"BR", "Brazil", "BRL"},
	{"MX", "Mexico", "MXN"},
	{"CO", "Colombia", "COP"},
	{"PE", "Peru", "PEN"},
	{"CL", "Chile", "CLP"},
	{"AR", "Argentina", "ARS"},
	{"EC", "Ecuador", "USD"},
	{"PA", "Panama", "USD"},
	{"SV", "El Salvador", "USD"},
	{"GT", "Guatemala", "GTQ"},
	{"CR", "Costa Rica", "CRC"},
}

// Form field names beyond amount and currency.
const (
	fieldCountry     = "country"
	fieldRedirectURL = "redirect_url"
	fieldUserID      = "user_id"
)

const (
	groupPayout   = "Payout"
	groupCustomer = "Customer"
	groupRefs     = "References"
)

// Form is the agent's form for a Kibramoa cashier payout.
func (c *Client) Form() providers.FormSpec {
	var countries, currencies []providers.Option
	seen := map[string]bool{}
	for _, k := range Corridors {
		countries = append(countries, providers.Option{Value: k.Country, Label: k.CountryName + " (" + k.Country + ")"})
		if !seen[k.Currency] {
			seen[k.Currency] = true
			currencies = append(currencies, providers.Option{Value: k.Currency, Label: k.Currency})
		}
	}
	extra := func(n string) providers.Field {
		return providers.Field{
			Name: "extra" + n, Label: "Extra " + n, Type: providers.FieldText, Group: groupRefs, MaxLen: 255,
			Hint: "Optional. Free text for your own tracking; Kibramoa echoes it back in notifications.",
		}
	}
	return providers.FormSpec{
		Provider: providers.Kibramoa,
		Intro: "Creates a Kibramoa cashier link. Send it to the customer: they choose how to receive the money " +
			"(PIX, SPEI, bank transfer…) and enter their own account. The payout completes when they confirm.",
		Fields: []providers.Field{
			{Name: providers.FieldNameAmount, Label: "Amount", Type: providers.FieldAmount, Group: groupPayout, Required: true,
				Placeholder: "150.00", Hint: "In major units, as the customer will see it (150.00). The customer's payout option may have its own minimum and maximum."},
			{Name: providers.FieldNameCurrency, Label: "Currency", Type: providers.FieldSelect, Group: groupPayout, Required: true,
				Options: currencies, Default: "BRL", Hint: "Must be the currency of the customer's country (BRL for Brazil, MXN for Mexico…)."},
			{Name: fieldCountry, Label: "Customer's country", Type: providers.FieldSelect, Group: groupPayout, Required: true,
				Options: countries, Default: "BR", Hint: "Where the customer receives the money; it decides which payout options the cashier offers."},
			{Name: "description", Label: "Description", Type: providers.FieldTextarea, Group: groupPayout, MaxLen: 255,
				Hint: "Optional. Shown to the customer in the cashier and sent to the bank; no internal notes."},
			{Name: fieldRedirectURL, Label: "Return page", Type: providers.FieldURL, Group: groupPayout, Required: true, MaxLen: 2048,
				Default: c.cfg.DefaultRedirectURL, Pattern: `https?://\S+`, PatternMessage: "must be a web address starting with https://",
				Hint: "Where the cashier sends the customer when they finish. Leave the default unless told otherwise."},
			{Name: fieldUserID, Label: "Customer ID", Type: providers.FieldText, Group: groupCustomer, Required: true, MaxLen: 36,
				Hint: "The customer's ID in our system (up to 36 characters), so the payout can be traced back to them."},
			{Name: "user_device", Label: "Customer's device", Type: providers.FieldSelect, Group: groupCustomer,
				Options: []providers.Option{{Value: "MOBILE", Label: "Mobile"}, {Value: "DESKTOP", Label: "Desktop"}, {Value: "TABLET", Label: "Tablet"}},
				Hint:    "Optional. The device the customer will open the cashier on, if you know it."},
			{Name: "user_agent", Label: "Customer's browser", Type: providers.FieldText, Group: groupCustomer, MaxLen: 255,
				Hint: "Optional. The CUSTOMER's browser user agent, if known; never paste your own."},
			{Name: "ip", Label: "Customer's IP address", Type: providers.FieldIP, Group: groupCustomer, MaxLen: 45,
				Placeholder: "13.12.11.10", Hint: "Optional. The CUSTOMER's IP address (IPv4 or IPv6), if known; never your own."},
			{Name: "language", Label: "Cashier language", Type: providers.FieldSelect, Group: groupCustomer,
				Options: []providers.Option{{Value: "PT", Label: "Portuguese (PT)"}, {Value: "ES", Label: "Spanish (ES)"}, {Value: "EN", Label: "English (EN)"}},
				Hint:    "Optional. The language the customer reads: PT for Brazil, ES for Spanish-speaking countries."},
			extra("1"), extra("2"), extra("3"),
		},
	}
}

// Check applies Kibramoa's rules beyond the form spec: the currency must be
// the one of the customer's country's corridor (all of whose currencies have
// at most the two decimals Kibramoa allows for fiat) and the return page an
// absolute web address. The spec's options already limit the country to a
// corridor. Per-option minimums and maximums are enforced by the cashier,
// where the customer picks the option.
func (c *Client) Check(p providers.Payout) map[string]string {
	errs := map[string]string{}
	if k, ok := corridor(p.Fields[fieldCountry]); ok && p.Amount.Currency != k.Currency {
		errs[providers.FieldNameCurrency] = fmt.Sprintf("Kibramoa pays out in %s in %s; choose %s or another country.", k.Currency, k.CountryName, k.Currency)
	}
	redirect := c.redirectURL(p.Fields)
	if u, err := url.Parse(redirect); redirect == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs[fieldRedirectURL] = "Enter the full web address the customer returns to, starting with https://."
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Beneficiary names the customer by their ID: the account is chosen by the
// customer in the cashier, so it is unknown here.
func (c *Client) Beneficiary(p providers.Payout) providers.Beneficiary {
	return providers.Beneficiary{
		Name:          strings.TrimSpace(p.Fields[fieldUserID]),
		AccountMasked: "chosen in cashier",
		Country:       p.Fields[fieldCountry],
	}
}

// redirectURL is where the cashier sends the customer back: the payout's
// return page, else the configured default.
func (c *Client) redirectURL(f map[string]string) string {
	if u := f[fieldRedirectURL]; u != "" {
		return u
	}
	return c.cfg.DefaultRedirectURL
}

func corridor(country string) (Corridor, bool) {
	i := slices.IndexFunc(Corridors, func(k Corridor) bool { return k.Country == country })
	if i < 0 {
		return Corridor{}, false
	}
	return Corridors[i], true
}
