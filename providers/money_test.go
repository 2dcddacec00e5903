package providers

import (
	"errors"
	"testing"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in, cur string
		want    int64
		wantErr bool
	}{
		{"150", "USD", 15000, false},
		{"150.5", "USD", 15050, false},
		{"150.25", "USD", 15025, false},
		{" 1,500.25 ", "USD", 150025, false},
		{"1,000,000", "XOF", 1000000, false},
		{"2000", "XOF", 2000, false},
		{"10.000", "XOF", 0, true},
		{"5.000", "XOF", 0, true},
		{"1.500", "SLE", 0, true},
		{"10.50", "USD", 1050, false},
		{"0.001", "KWD", 1, false},
		{"12.50", "SLE", 1250, false},
		{"1.005", "USD", 0, true},
		{"10.5", "XOF", 0, true},
		{"0", "USD", 0, true},
		{"0.00", "USD", 0, true},
		{"-5", "USD", 0, true},
		{"+5", "USD", 0, true},
		{"1e3", "USD", 0, true},
		{"NaN", "USD", 0, true},
		{"Inf", "USD", 0, true},
		{"", "USD", 0, true},
		{".5", "USD", 0, true},
		{"5.", "USD", 0, true},
		{"1,00", "USD", 0, true},
		{"0,500", "XOF", 0, true},
		{"012,000", "XOF", 0, true},
		// A first group of more than three digits is not thousands: in
		// XOF, "1000,000" may well mean one thousand, not a million.
		{"1000,000", "XOF", 0, true},
		{"1234,567.89", "USD", 0, true},
		{"1 000", "USD", 100000, false},
		{"1\u00a0000\u202f000", "XOF", 1000000, false},
		{"12 500.50", "USD", 1250050, false},
		{"1 00", "XOF", 0, true},
		{"1  000", "XOF", 0, true},
		{"1 000,000", "XOF", 0, true},
		{"1 000,50", "EUR", 0, true},
		{"0 500", "XOF", 0, true},
		{"١٢", "USD", 0, true},
		{"9999999999999", "USD", 0, true},
		{"999999999999", "USD", 99999999999900, false},
		{"10", "usd", 0, true},
		{"10", "ABC", 0, true},
		{"10", "", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseMoney(tt.in, tt.cur)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseMoney(%q, %s) error = %v, want error %v", tt.in, tt.cur, err, tt.wantErr)
			continue
		}
		if err == nil && (got.Minor != tt.want || got.Currency != tt.cur) {
			t.Errorf("ParseMoney(%q, %s) = %+v, want %d %s", tt.in, tt.cur, got, tt.want, tt.cur)
		}
	}
	if _, err := ParseMoney("0", "USD"); !errors.Is(err, ErrAmountPositive) {
		t.Errorf("zero: err = %v, want ErrAmountPositive", err)
	}
}

func TestMoneyFormats(t *testing.T) {
	tests := []struct {
		m            Money
		major, human string
	}{
		{Money{15000, "BRL"}, "150.00", "150.00 BRL"},
		{Money{5, "USD"}, "0.05", "0.05 USD"},
		// As many digits as the currency has decimals: the zero before
		// the dot is still written.
		{Money{50, "USD"}, "0.50", "0.50 USD"},
		{Money{100, "KWD"}, "0.100", "0.100 KWD"},
		{Money{-50, "USD"}, "-0.50", "-0.50 USD"},
		{Money{123456789, "USD"}, "1234567.89", "1,234,567.89 USD"},
		{Money{2000, "XOF"}, "2000", "2,000 XOF"},
		{Money{1000000, "XOF"}, "1000000", "1,000,000 XOF"},
		{Money{1, "KWD"}, "0.001", "0.001 KWD"},
		{Money{-150, "USD"}, "-1.50", "-1.50 USD"},
	}
	for _, tt := range tests {
		got, err := tt.m.Decimal()
		if err != nil || got != tt.major {
			t.Errorf("%+v.Decimal() = %q, %v; want %q", tt.m, got, err, tt.major)
		}
		if got := tt.m.String(); got != tt.human {
			t.Errorf("%+v.String() = %q, want %q", tt.m, got, tt.human)
		}
		back, err := ParseDecimal(got, tt.m.Currency)
		if tt.m.Minor > 0 && (err != nil || back != tt.m) {
			t.Errorf("ParseDecimal(%q) = %+v, %v; want the round trip %+v", got, back, err, tt.m)
		}
	}
	// An unknown currency has no known decimals: the wire form refuses it,
	// where writing 150.00 as "15000" would send a hundred times the amount.
	for _, m := range []Money{{15000, "usd"}, {15000, "ABC"}, {15000, ""}} {
		if got, err := m.Decimal(); !errors.Is(err, ErrCurrency) {
			t.Errorf("%+v.Decimal() = %q, %v; want ErrCurrency", m, got, err)
		}
	}
	if got := (Money{15000, "usd"}).String(); got != "15,000 usd" {
		t.Errorf("String() of an unknown currency = %q, want %q", got, "15,000 usd")
	}
}

func TestParseMinor(t *testing.T) {
	tests := []struct {
		in, cur string
		want    int64
		wantErr bool
	}{
		{"15000", "USD", 15000, false},
		{"2000", "XOF", 2000, false},
		{"0", "USD", 0, false},
		{"007", "USD", 7, false},
		{"9223372036854775807", "USD", 9223372036854775807, false},
		{"9223372036854775808", "USD", 0, true},
		{"-1", "USD", 0, true},
		{"+1", "USD", 0, true},
		{"1.5", "USD", 0, true},
		{"1e3", "USD", 0, true},
		{" 1", "USD", 0, true},
		{`"1"`, "USD", 0, true},
		{"", "USD", 0, true},
		{"15000", "usd", 0, true},
		{"15000", "XYZ", 0, true},
		{"15000", "", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseMinor(tt.in, tt.cur)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseMinor(%q, %q) error = %v, want error %v", tt.in, tt.cur, err, tt.wantErr)
			continue
		}
		if err == nil && got != (Money{tt.want, tt.cur}) {
			t.Errorf("ParseMinor(%q, %q) = %+v, want %d %s", tt.in, tt.cur, got, tt.want, tt.cur)
		}
	}
}

func TestWholeUnits(t *testing.T) {
	if n, err := (Money{2000, "XOF"}).WholeUnits(); err != nil || n != 2000 {
		t.Errorf("2000 XOF = %d, %v; want 2000", n, err)
	}
	if n, err := (Money{15000, "USD"}).WholeUnits(); err != nil || n != 150 {
		t.Errorf("150.00 USD = %d, %v; want 150", n, err)
	}
	if _, err := (Money{15050, "USD"}).WholeUnits(); err == nil {
		t.Error("150.50 USD converted to whole units")
	}
	if m, err := FromWholeUnits(150, "USD"); err != nil || m != (Money{15000, "USD"}) {
		t.Errorf("FromWholeUnits(150, USD) = %+v, %v", m, err)
	}
	if _, err := FromWholeUnits(1<<62, "USD"); err == nil {
		t.Error("an overflowing amount was accepted")
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"150", "1,500.25", "1 500 000", "1.005", "0", "NaN", "9999999999999", "00001.10"} {
		f.Add(s, "USD")
		f.Add(s, "XOF")
	}
	f.Fuzz(func(t *testing.T, s, cur string) {
		m, err := ParseMoney(s, cur)
		if err != nil {
			return
		}
		if m.Minor <= 0 || m.Currency != cur {
			t.Fatalf("ParseMoney(%q, %q) = %+v", s, cur, m)
		}
		// Whatever was accepted formats back to the same amount.
		dec, err := m.Decimal()
		if err != nil {
			t.Fatalf("%+v.Decimal(): %v", m, err)
		}
		back, err := ParseDecimal(dec, cur)
		if err != nil || back != m {
			t.Fatalf("round trip of %+v via %q = %+v, %v", m, dec, back, err)
		}
	})
}

// An amount that is not a number gets an example the currency can hold.
func TestParseMoneyFormatExample(t *testing.T) {
	for _, tt := range []struct {
		in, code string
		want     error
	}{
		{"", "XOF", ErrWholeFormat},
		{"abc", "XOF", ErrWholeFormat},
		{"1,00", "XOF", ErrWholeFormat},
		{"", "USD", ErrAmountFormat},
		{"12a", "KWD", ErrAmountFormat},
		{"150,00", "BRL", ErrDecimalComma},
		{"0,5", "USD", ErrDecimalComma},
		{"1,5000", "USD", ErrAmountFormat},
	} {
		if _, err := ParseMoney(tt.in, tt.code); !errors.Is(err, tt.want) {
			t.Errorf("ParseMoney(%q, %s) = %v, want %v", tt.in, tt.code, err, tt.want)
		}
	}
}

// ParseDecimal reads a provider's wire amount: exact, plain digits and an
// optional dot, nothing else. Accepting more would turn a provider's odd
// answer into a wrong amount on the payout, so each refusal here is a way
// an amount could otherwise be misread.
func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in, cur string
		want    int64
		wantErr error // nil: accepted; otherwise the error it must wrap, or errAny
	}{
		{"150.00", "USD", 15000, nil},
		{"150.5", "USD", 15050, nil},
		{"2000", "XOF", 2000, nil},
		{"0.001", "KWD", 1, nil},
		{"0", "USD", 0, nil},
		{"007.10", "USD", 710, nil},
		// Trailing zeros beyond the currency's decimals are exact: a
		// provider that writes XOF as "2000.00" means two thousand.
		{"2000.00", "XOF", 2000, nil},
		{"1.500", "USD", 150, nil},
		{"999999999999.99", "USD", 99999999999999, nil},

		// More decimals than the currency has: rounding or truncating
		// would pay a different amount from the one the provider reports.
		{"1.005", "USD", 0, errAny},
		{"10.5", "XOF", 0, errAny},
		{"0.0001", "KWD", 0, errAny},
		{"1.001", "XOF", 0, errAny},
		// Not a plain decimal.
		{"NaN", "USD", 0, ErrAmountFormat},
		{"Inf", "USD", 0, ErrAmountFormat},
		{"1e3", "USD", 0, ErrAmountFormat},
		{"-1", "USD", 0, ErrAmountFormat},
		{"+1", "USD", 0, ErrAmountFormat},
		{"", "USD", 0, ErrAmountFormat},
		{"", "XOF", 0, ErrWholeFormat},
		{" 1", "USD", 0, ErrAmountFormat},
		{"1 ", "USD", 0, ErrAmountFormat},
		{".5", "USD", 0, ErrAmountFormat},
		{"5.", "USD", 0, ErrAmountFormat},
		{"1.2.3", "USD", 0, ErrAmountFormat},
		{"1,000", "USD", 0, ErrAmountFormat},
		{"150,25", "USD", 0, ErrAmountFormat},
		{"١٢", "USD", 0, ErrAmountFormat},
		// Too large for minor units to fit in int64 and a float64 mantissa.
		{"9999999999999", "USD", 0, ErrAmountTooLarge},
		{"99999999999999999999", "USD", 0, ErrAmountTooLarge},
		{"9223372036854775808", "XOF", 0, ErrAmountTooLarge},
		// No known number of decimals: any reading could be off by 100×.
		{"150.00", "usd", 0, ErrCurrency},
		{"150.00", "ABC", 0, ErrCurrency},
		{"150.00", "", 0, ErrCurrency},
	}
	for _, tt := range tests {
		got, err := ParseDecimal(tt.in, tt.cur)
		switch {
		case tt.wantErr == nil && err != nil:
			t.Errorf("ParseDecimal(%q, %q): error %v, want %d", tt.in, tt.cur, err, tt.want)
		case tt.wantErr == nil && got != (Money{tt.want, tt.cur}):
			t.Errorf("ParseDecimal(%q, %q) = %+v, want %d %s", tt.in, tt.cur, got, tt.want, tt.cur)
		case tt.wantErr == errAny && err == nil:
			t.Errorf("ParseDecimal(%q, %q) = %+v, want an error", tt.in, tt.cur, got)
		case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
			t.Errorf("ParseDecimal(%q, %q) = %+v, %v; want %v", tt.in, tt.cur, got, err, tt.wantErr)
		case tt.wantErr != nil && got != (Money{}):
			t.Errorf("ParseDecimal(%q, %q) refused but returned %+v, want the zero Money", tt.in, tt.cur, got)
		}
	}
}

// errAny stands for a refusal whose message is the only thing it has: the
// too-many-decimals error wraps no sentinel.
var errAny = errors.New("any error")
