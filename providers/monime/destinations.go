package monime

import (
	"regexp"
	"strings"

	"payoutdesk/providers"
)

// Kind is the sort of account a destination provider pays into.
type Kind string

// Destination kinds.
const (
	KindMobileMoney Kind = "momo"
	KindBank        Kind = "bank"
)

// Destination is one payout provider Monime can pay to, as offered in the
// agent's form.
type Destination struct {
	// Code is Monime's providerCode ("m17", "slb001").
	Code string
	// Label is what the agent sees in the provider list.
	Label string
	Kind  Kind
}

// DefaultDestinations are the providers of the legacy API. Only m17 is named
// in Monime's own spec (Orange Money); the other names are unconfirmed and
// say so, until a deployment replaces them (Config.Destinations) with the
// names from Monime's GET /v1/momos and GET /v1/banks?country=SL.
var DefaultDestinations = []Destination{
	{Code: "m17", Label: "Orange Money (m17)", Kind: KindMobileMoney},
	{Code: "m18", Label: "Africell / AfriMoney (m18, name unconfirmed)", Kind: KindMobileMoney},
	{Code: "slb001", Label: "Bank slb001 (name unconfirmed)", Kind: KindBank},
	{Code: "slb004", Label: "Bank slb004 (name unconfirmed)", Kind: KindBank},
	{Code: "slb007", Label: "Bank slb007 (name unconfirmed)", Kind: KindBank},
}

// msisdnRE is a Sierra Leone phone number in the international form Monime
// takes: +232 followed by the 8-digit national number, which never starts
// with 0 (that is the trunk prefix, dropped after +232): "078 123 45", a
// digit short, must not become the valid-looking +23207812345.
var msisdnRE = regexp.MustCompile(`^\+232[1-9][0-9]{7}$`)

// bankAccountRE is a bank account number once spaces and dashes are removed.
// Monime does not publish the banks' formats, so it is deliberately broad.
var bankAccountRE = regexp.MustCompile(`^[0-9A-Z]{6,34}$`)

// NormalizeAccount returns the accountId Monime is sent for an account typed
// by an agent: for mobile money a phone number in +232XXXXXXXX form (from
// "+232 78 000 000", "0023278000000", "23278000000", "078000000" or
// "78000000"); for banks the account number without spaces or dashes, upper
// case. ok is false when the result is not a valid account of that kind.
func NormalizeAccount(kind Kind, s string) (account string, ok bool) {
	s = providers.StripSeparators(s)
	switch kind {
	case KindMobileMoney:
		digits := s
		switch {
		case strings.HasPrefix(s, "+232"):
			digits = s[4:]
		case strings.HasPrefix(s, "00232"):
			digits = s[5:]
		case strings.HasPrefix(s, "232") && len(s) == 11:
			digits = s[3:]
		case strings.HasPrefix(s, "0") && len(s) == 9:
			digits = s[1:]
		}
		account = "+232" + digits
		return account, msisdnRE.MatchString(account)
	case KindBank:
		account = strings.ToUpper(s)
		return account, bankAccountRE.MatchString(account)
	}
	return s, false
}
