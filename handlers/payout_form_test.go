package handlers

import (
	"strings"
	"testing"

	"payoutdesk/providers"
)

// A field's validator tag is applied with its English message: the ISO
// 3166 country fields take three capitals that name a country, and
// nothing else.
func TestFieldValidateTag(t *testing.T) {
	fl := providers.Field{Name: "country", Label: "Country", MaxLen: 3, Upper: true, Validate: "iso3166_1_alpha3"}
	for v, ok := range map[string]bool{"BEL": true, "USA": true, "ZZZ": false, "USD": false, "B1L": false, "US": false, "USAA": false} {
		msg := checkField(fl, v)
		if (msg == "") != ok {
			t.Errorf("%q: message %q, want accepted %v", v, msg, ok)
		}
		if !ok && v != "USAA" && !strings.Contains(msg, "three-letter ISO 3166 code of a country") {
			t.Errorf("%q: message %q does not say what is wanted", v, msg)
		}
	}
}

// A label inside a sentence starts in lower case, unless its first word is
// an initialism.
func TestMidSentence(t *testing.T) {
	for in, want := range map[string]string{
		"Card number":         "card number",
		"IBAN":                "IBAN",
		"IBAN of the account": "IBAN of the account",
		"Mobile money number": "mobile money number",
		"Évaluation":          "évaluation",
		"A":                   "a",
		"":                    "",
	} {
		if got := midSentence(in); got != want {
			t.Errorf("midSentence(%q) = %q, want %q", in, got, want)
		}
	}
}
