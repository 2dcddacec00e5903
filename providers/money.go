package providers

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bojanz/currency"
)

// Money is an amount in integer minor units of an ISO 4217 currency.
// It is never a float: a payout's amount goes from the agent's text to
// minor units and from minor units to each provider's wire unit exactly.
type Money struct {
	Minor    int64
	Currency string
}

// Errors returned by ParseMoney, worded for the agent who typed the amount.
var (
	ErrCurrency     = errors.New("is not a known ISO 4217 currency")
	ErrAmountFormat = errors.New("must be a number such as 150 or 150.25")
	// ErrDecimalComma is ErrAmountFormat for "150,25": a comma where the
	// app takes a dot, which it will not guess.
	ErrDecimalComma = errors.New("must use a dot for decimals, such as 150.25 (a comma only groups thousands: 1,500)")
	// ErrWholeFormat is ErrAmountFormat in a currency without decimals.
	ErrWholeFormat    = errors.New("must be a whole number such as 5000")
	ErrAmountPositive = errors.New("must be greater than zero")
	ErrAmountTooLarge = errors.New("is too large")
)

// maxMajorDigits bounds the integer part so that minor units always fit in
// int64 and in a float64 mantissa at a provider's edge (2^53 ≈ 9.0e15).
const maxMajorDigits = 12

// Exponent returns the number of minor-unit digits of an ISO 4217 currency
// (2 for USD, 0 for XOF, 3 for KWD), from the CLDR/ISO data of
// github.com/bojanz/currency.
func Exponent(code string) (int, error) {
	d, ok := currency.GetDigits(code)
	if !ok || code != strings.ToUpper(code) {
		return 0, fmt.Errorf("%q %w", code, ErrCurrency)
	}
	return int(d), nil
}

// ParseMoney reads an amount typed in major units ("150", "150.25",
// "1,500.25") for the currency code. It accepts "," only between groups of
// three digits, never rounds, and refuses an amount that the currency cannot
// represent ("1.005" USD, "10.5" XOF), a sign, an exponent, NaN, infinity and
// zero. More decimals than the currency has are refused even when they are
// zeros: where a dot groups thousands, "5.000" XOF means five thousand.
func ParseMoney(s, code string) (Money, error) {
	intPart, frac, hasDot := strings.Cut(strings.TrimSpace(s), ".")
	grouped := intPart
	intPart, ok := stripGrouping(intPart)
	if !ok {
		if exp, err := Exponent(code); err == nil && exp > 0 && !hasDot && decimalComma(grouped) {
			return Money{}, ErrDecimalComma
		}
		return Money{}, formatError(code)
	}
	if exp, err := Exponent(code); err == nil && hasDot && len(frac) > exp {
		if exp == 0 {
			return Money{}, fmt.Errorf("must be a whole number: %s has no decimals (for five thousand, type 5000)", code)
		}
		return Money{}, fmt.Errorf("can have at most %d decimal places in %s; to group thousands, use commas (1,500)", exp, code)
	}
	m, err := parseDecimal(intPart, frac, hasDot, code)
	if err == nil && m.Minor == 0 {
		return Money{}, ErrAmountPositive
	}
	return m, err
}

// formatError is ErrAmountFormat with an example the currency can hold.
func formatError(code string) error {
	if exp, err := Exponent(code); err == nil && exp == 0 {
		return ErrWholeFormat
	}
	return ErrAmountFormat
}

// ParseDecimal reads a plain decimal amount in major units as providers send
// it on the wire ("150.00", "2000"), with the same exactness as ParseMoney
// but without grouping; zero is allowed.
func ParseDecimal(s, code string) (Money, error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	return parseDecimal(intPart, frac, hasDot, code)
}

// ParseMinor reads an amount in integer minor units as providers send it on
// the wire ("15000" for 150.00 USD): digits only, so no sign, fraction or
// exponent, in a currency whose code Exponent knows; zero is allowed.
func ParseMinor(s, code string) (Money, error) {
	if _, err := Exponent(code); err != nil {
		return Money{}, err
	}
	if s == "" || !allDigits(s) {
		return Money{}, fmt.Errorf("%.40q is not a whole number of minor units", s)
	}
	minor, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return Money{}, ErrAmountTooLarge
	}
	return Money{Minor: minor, Currency: code}, nil
}

func parseDecimal(intPart, frac string, hasDot bool, code string) (Money, error) {
	exp, err := Exponent(code)
	if err != nil {
		return Money{}, err
	}
	if intPart == "" || !allDigits(intPart) || (hasDot && (frac == "" || !allDigits(frac))) {
		return Money{}, formatError(code)
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > maxMajorDigits {
		return Money{}, ErrAmountTooLarge
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > exp {
		if exp == 0 {
			return Money{}, fmt.Errorf("must be a whole number: %s has no minor unit", code)
		}
		return Money{}, fmt.Errorf("can have at most %d decimal places in %s", exp, code)
	}
	minor, err := strconv.ParseInt("0"+intPart+frac+strings.Repeat("0", exp-len(frac)), 10, 64)
	if err != nil {
		return Money{}, ErrAmountTooLarge
	}
	return Money{Minor: minor, Currency: code}, nil
}

// noBreakSpaces makes no-break spaces (plain and narrow) plain spaces.
var noBreakSpaces = strings.NewReplacer("\u00a0", " ", "\u202f", " ")

// stripGrouping removes thousands separators, accepting them only in
// well-formed positions ("1,000,000" but not "1,00"): commas, or spaces
// as much of French-speaking Africa writes them ("1 000 000", with
// ordinary or no-break spaces), one kind in an amount.
func stripGrouping(s string) (string, bool) {
	sep := ","
	if spaced := noBreakSpaces.Replace(s); strings.Contains(spaced, " ") {
		if strings.Contains(s, ",") {
			return "", false
		}
		s, sep = spaced, " "
	}
	if !strings.Contains(s, sep) {
		return s, true
	}
	groups := strings.Split(s, sep)
	// A leading zero ("0,500", "012,000") reads as a decimal comma in
	// much of the world: refused rather than taken as thousands.
	if len(groups[0]) == 0 || len(groups[0]) > 3 || groups[0][0] == '0' {
		return "", false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return "", false
		}
	}
	return strings.Join(groups, ""), true
}

// decimalComma reports whether s reads as digits with a decimal comma,
// "150,25" or "0,5": one comma followed by one or two digits.
func decimalComma(s string) bool {
	whole, frac, ok := strings.Cut(s, ",")
	return ok && whole != "" && allDigits(whole) && len(frac) >= 1 && len(frac) <= 2 && allDigits(frac)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Decimal formats m in major units with exactly the currency's number of
// decimals and no grouping ("150.00", "2000"), the form used on the wire by
// providers that take decimal amounts. It fails for a currency that is not
// ISO 4217, whose number of decimals is unknown.
func (m Money) Decimal() (string, error) {
	exp, err := Exponent(m.Currency)
	if err != nil {
		return "", err
	}
	return decimal(m.Minor, exp), nil
}

func decimal(minor int64, exp int) string {
	u := uint64(minor)
	if minor < 0 {
		u = uint64(-minor)
	}
	s := strconv.FormatUint(u, 10)
	if exp > 0 {
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if minor < 0 {
		s = "-" + s
	}
	return s
}

// String formats m for people: grouped major units and the code
// ("1,500.00 USD", "2,000 XOF"). An unknown currency is shown without
// decimals rather than hidden.
func (m Money) String() string {
	exp, _ := Exponent(m.Currency)
	major := decimal(m.Minor, exp)
	sign := ""
	if strings.HasPrefix(major, "-") {
		sign, major = "-", major[1:]
	}
	intPart, frac, hasDot := strings.Cut(major, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasDot {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return sign + b.String() + " " + m.Currency
}

// WholeUnits returns m in whole major units, for providers whose wire amount
// is an integer of major units (FedaPay). It fails if m has a fractional part.
func (m Money) WholeUnits() (int64, error) {
	exp, err := Exponent(m.Currency)
	if err != nil {
		return 0, err
	}
	scale := int64(math.Pow10(exp))
	if m.Minor%scale != 0 {
		return 0, fmt.Errorf("%s cannot be sent in whole units", m)
	}
	return m.Minor / scale, nil
}

// FromWholeUnits is the inverse of WholeUnits.
func FromWholeUnits(units int64, code string) (Money, error) {
	exp, err := Exponent(code)
	if err != nil {
		return Money{}, err
	}
	scale := int64(math.Pow10(exp))
	if units > math.MaxInt64/scale || units < math.MinInt64/scale {
		return Money{}, ErrAmountTooLarge
	}
	return Money{Minor: units * scale, Currency: code}, nil
}
