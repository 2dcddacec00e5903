package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"payoutdesk/providers"
)

// kibSessionReq is a validated POST /payout-session body. The sandbox has its
// own wire structs so that it catches the client's mistakes.
type kibSessionReq struct {
	Country, Currency, RedirectURL, MerchantReference string
	Description, UserID, UserAgent, UserDevice, IP    string
	Language, Extra1, Extra2, Extra3                  string
}

// kibCountry is what the simulated cashier offers in one country.
type kibCountry struct {
	currency string
	options  []kibOption
	// account labels the account input for that country's options.
	account string
}

// kibOption is one way the cashier offers to receive the money, with the
// amounts it takes in minor units of the country's currency (0: no
// bound). Kibramoa lists a minimum and maximum per method; the sandbox
// keeps the two that providers.md §1.8 quotes, and no others.
type kibOption struct {
	name     string
	min, max int64
}

var bankTransfer = kibOption{name: "Bank Transfer"}

var kibCountries = map[string]kibCountry{
	"BR": {"BRL", []kibOption{{"PIX", 1_00, 5_000_00}, bankTransfer}, "PIX key (CPF, e-mail or phone) or bank account"},
	"MX": {"MXN", []kibOption{{"SPEI", 0, 10_000_00}, bankTransfer}, "CLABE (18 digits)"},
	"CO": {"COP", []kibOption{bankTransfer, {name: "TPaga"}}, "Bank account or TPaga phone number"},
	"PE": {"PEN", []kibOption{bankTransfer}, "Interbank account number (CCI)"},
	"CL": {"CLP", []kibOption{bankTransfer}, "Bank account number"},
	"AR": {"ARS", []kibOption{bankTransfer}, "CBU or CVU (22 digits)"},
	"EC": {"USD", []kibOption{bankTransfer}, "Bank account number"},
	"PA": {"USD", []kibOption{bankTransfer}, "Bank account number"},
	"SV": {"USD", []kibOption{bankTransfer}, "Bank account number"},
	"GT": {"GTQ", []kibOption{bankTransfer}, "Bank account number"},
	"CR": {"CRC", []kibOption{bankTransfer}, "IBAN (CR…)"},
}

// option returns the country's option called name.
func (c kibCountry) option(name string) (kibOption, bool) {
	i := slices.IndexFunc(c.options, func(o kibOption) bool { return o.name == name })
	if i < 0 {
		return kibOption{}, false
	}
	return c.options[i], true
}

// refuses says why o cannot carry m ("PIX takes 1.00 to 5,000.00 BRL"),
// or "" when it can.
func (o kibOption) refuses(m providers.Money) string {
	if (o.min == 0 || m.Minor >= o.min) && (o.max == 0 || m.Minor <= o.max) {
		return ""
	}
	bound := func(v int64) string { return providers.Money{Minor: v, Currency: m.Currency}.String() }
	switch {
	case o.min == 0:
		return o.name + " takes up to " + bound(o.max)
	case o.max == 0:
		return o.name + " takes from " + bound(o.min)
	}
	return o.name + " takes " + strings.TrimSuffix(bound(o.min), " "+m.Currency) + " to " + bound(o.max)
}

var (
	kibCountryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
	kibDevices        = []string{"MOBILE", "DESKTOP", "TABLET"}
)

const kibConforming = "amount must be a number conforming to the specified constraints"

// kibValidate reads a POST /payout-session body the way Kibramoa's NestJS
// ValidationPipe does (whitelist, forbidNonWhitelisted). On failure it returns
// the HTTP status and the envelope's message (a string or a list).
func kibValidate(r *http.Request, minorUnits bool) (req kibSessionReq, amount providers.Money, status int, msg any) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 100<<10))
	if err != nil {
		return req, amount, http.StatusRequestEntityTooLarge, "request entity too large"
	}
	fields := map[string]json.RawMessage{}
	// Like express's JSON parser, a body sent as another content type is
	// not read at all, so every required property is then missing.
	if jsonContent(r) && len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &fields); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return req, amount, http.StatusBadRequest, fmt.Sprintf("Unexpected token in JSON at position %d", se.Offset)
			}
			return req, amount, http.StatusBadRequest, []string{"an unknown value was passed to the validate function"}
		}
	}
	v := kibValidator{fields: fields, known: make(map[string]bool)}
	req.Country = v.str("country", true, 0)
	if req.Country != "" && !kibCountryPattern.MatchString(req.Country) {
		v.fail("country must be a valid ISO31661 Alpha2 code")
	}
	req.Currency = v.str("currency", true, 0)
	if req.Currency != "" {
		if _, err := providers.Exponent(req.Currency); err != nil {
			v.fail("currency must be a valid ISO4217 currency code")
			req.Currency = ""
		}
	}
	amount = v.amount(req.Currency, minorUnits)
	req.RedirectURL = v.str("redirectUrl", true, 0)
	if u, err := url.Parse(req.RedirectURL); req.RedirectURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		v.fail("redirectUrl must be a URL address")
	}
	req.MerchantReference = v.str("merchantReference", false, 36)
	req.Description = v.str("description", false, 255)
	req.UserID = v.str("userId", false, 36)
	req.UserAgent = v.str("userAgent", false, 255)
	if req.UserDevice = v.str("userDevice", false, 0); v.has("userDevice") && !slices.Contains(kibDevices, req.UserDevice) {
		v.fail("userDevice must be one of the following values: " + strings.Join(kibDevices, ", "))
	}
	if req.IP = v.str("ip", false, 0); v.has("ip") && net.ParseIP(req.IP) == nil {
		v.fail("ip must be an ip address")
	}
	if req.Language = v.str("language", false, 0); v.has("language") && utf8.RuneCountInString(req.Language) != 2 {
		v.fail("language must be exactly 2 characters")
	}
	req.Extra1 = v.str("extra1", false, 255)
	req.Extra2 = v.str("extra2", false, 255)
	req.Extra3 = v.str("extra3", false, 255)
	extra := make([]string, 0)
	for name := range fields {
		if !v.known[name] {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		v.fail("property " + name + " should not exist")
	}
	if len(v.msgs) > 0 {
		return req, amount, http.StatusBadRequest, v.msgs
	}
	return req, amount, 0, nil
}

// kibValidator collects class-validator style messages.
type kibValidator struct {
	fields map[string]json.RawMessage
	known  map[string]bool
	msgs   []string
}

func (v *kibValidator) fail(m string) { v.msgs = append(v.msgs, m) }

// has reports whether an optional property was sent (null counts as absent).
func (v *kibValidator) has(name string) bool {
	raw, ok := v.fields[name]
	return ok && string(raw) != "null"
}

// str validates a string property; it returns "" when the property is
// missing or invalid.
func (v *kibValidator) str(name string, required bool, maxLen int) string {
	v.known[name] = true
	if !v.has(name) {
		if required {
			v.fail(name + " should not be empty")
			v.fail(name + " must be a string")
		}
		return ""
	}
	var s string
	if json.Unmarshal(v.fields[name], &s) != nil {
		v.fail(name + " must be a string")
		return ""
	}
	if required && s == "" {
		v.fail(name + " should not be empty")
	}
	if maxLen > 0 && utf8.RuneCountInString(s) > maxLen {
		v.fail(fmt.Sprintf("%s must be shorter than or equal to %d characters", name, maxLen))
	}
	return s
}

// amount validates "amount": a JSON number, positive, in decimal major units
// with no more decimals than the currency has, or a whole number of minor
// units when minorUnits is set.
func (v *kibValidator) amount(currency string, minorUnits bool) providers.Money {
	v.known["amount"] = true
	if !v.has("amount") {
		v.fail("amount should not be empty")
		v.fail(kibConforming)
		return providers.Money{}
	}
	text := strings.TrimSpace(string(v.fields["amount"]))
	var n json.Number
	if json.Unmarshal([]byte(text), &n) != nil || text == "" || text[0] == '"' {
		v.fail(kibConforming)
		return providers.Money{}
	}
	if strings.HasPrefix(text, "-") {
		v.fail("amount must be a positive number")
		return providers.Money{}
	}
	if currency == "" {
		return providers.Money{}
	}
	m, err := providers.ParseDecimal(text, currency)
	if minorUnits {
		var minor int64
		minor, err = strconv.ParseInt(text, 10, 64)
		m = providers.Money{Minor: minor, Currency: currency}
	}
	switch {
	case err != nil:
		v.fail(kibConforming)
	case m.Minor == 0:
		v.fail("amount must be a positive number")
	}
	return m
}
