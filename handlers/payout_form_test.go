package handlers

import (
	"strings"
	"testing"
	"time"

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

// Keys are still 26 base32 characters, unique, and sort as they were
// minted, to the millisecond and across a carry of every time digit.
func TestMintedKeysSortByTime(t *testing.T) {
	base := time.UnixMilli(1<<45 - 3) // the ten time digits carry at 1<<45
	var prev string
	seen := map[string]bool{}
	for i := range 2000 {
		k := mintKey(base.Add(time.Duration(i/4) * time.Millisecond))
		if !idempotencyKeyPattern.MatchString(k) {
			t.Fatalf("minted %q, not of the form's pattern", k)
		}
		if seen[k] {
			t.Fatalf("minted %q twice", k)
		}
		seen[k] = true
		if i%4 == 0 && prev != "" && k <= prev {
			t.Fatalf("key %q minted a millisecond after %q sorts before it", k, prev)
		}
		if i%4 == 3 {
			prev = k
		}
		if k[:10] != mintKey(base.Add(time.Duration(i/4) * time.Millisecond))[:10] {
			t.Fatalf("two keys of the same millisecond differ in their time digits: %q", k)
		}
	}
	if a, b := mintKey(time.UnixMilli(1<<45-1)), mintKey(time.UnixMilli(1<<45)); a >= b {
		t.Errorf("across the carry: %q then %q", a, b)
	}
}
