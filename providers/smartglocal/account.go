package smartglocal

import (
	"strings"

	"payoutdesk/providers"
)

// compactIBAN removes spaces and upper-cases an IBAN as typed by an agent.
func compactIBAN(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// validIBAN checks an IBAN's shape (15 to 34 letters and digits, country
// letters, check digits) and its ISO 13616 mod-97 checksum.
func validIBAN(s string) bool {
	s = compactIBAN(s)
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i < 2 && (c < 'A' || c > 'Z'):
			return false
		case i >= 2 && i < 4 && (c < '0' || c > '9'):
			return false
		case !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z'):
			return false
		}
	}
	rem := 0
	for _, c := range s[4:] + s[:4] {
		if c >= 'A' {
			rem = (rem*100 + int(c-'A'+10)) % 97
		} else {
			rem = (rem*10 + int(c-'0')) % 97
		}
	}
	return rem == 1
}

// digits keeps only the ASCII digits of s (a card number typed with spaces).
func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// luhn reports whether a string of digits passes the Luhn check.
func luhn(n string) bool {
	if n == "" {
		return false
	}
	sum := 0
	double := false
	for i := len(n) - 1; i >= 0; i-- {
		d := int(n[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// ibanPrint is the print of a whole IBAN, "" for one that is not whole
// (masked, as an answer may give it) or not valid, which is then compared
// by its last characters only.
func ibanPrint(s string) string {
	if !validIBAN(s) {
		return ""
	}
	return providers.AccountPrint(compactIBAN(s))
}

// cardPrint is the print of a whole card number: digits and separators
// only, passing the Luhn check; "" for a masked one ("411111******1111").
func cardPrint(s string) string {
	n := digits(s)
	if len(n) < 12 || n != strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s)) || !luhn(n) {
		return ""
	}
	return providers.AccountPrint(n)
}
