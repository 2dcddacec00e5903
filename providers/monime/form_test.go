package monime

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

func TestFormSpec(t *testing.T) {
	c := New(Config{DefaultSourceAccount: "fac-main"})
	spec := c.Form()
	if spec.Provider != providers.Monime {
		t.Errorf("got provider %q, want monime", spec.Provider)
	}
	tests := []struct {
		name     string
		typ      providers.FieldType
		group    string
		required bool
		account  bool
		def      string
	}{
		{providers.FieldNameAmount, providers.FieldAmount, "Payout", true, false, ""},
		{providers.FieldNameCurrency, providers.FieldSelect, "Payout", true, false, "SLE"},
		{FieldProviderCode, providers.FieldSelect, "Destination", true, false, ""},
		{FieldAccountID, providers.FieldText, "Destination", true, true, ""},
		{FieldSourceAccount, providers.FieldText, "Source", false, false, "fac-main"},
		{FieldMetadata, providers.FieldTextarea, "Metadata", false, false, ""},
	}
	if len(spec.Fields) != len(tests) {
		t.Errorf("got %d fields, want %d", len(spec.Fields), len(tests))
	}
	for _, tt := range tests {
		f, ok := spec.Field(tt.name)
		if !ok {
			t.Errorf("field %q missing", tt.name)
			continue
		}
		got := []any{f.Type, f.Group, f.Required, f.Account, f.Default, f.Label != "", f.Hint != ""}
		want := []any{tt.typ, tt.group, tt.required, tt.account, tt.def, true, true}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("field %q [type group required account default label hint] (-want +got):\n%s", tt.name, diff)
		}
	}
	cur, _ := spec.Field(providers.FieldNameCurrency)
	if diff := cmp.Diff([]providers.Option{{Value: "SLE", Label: "SLE"}}, cur.Options); diff != "" {
		t.Errorf("currency options (-want +got):\n%s", diff)
	}
	dest, _ := spec.Field(FieldProviderCode)
	var codes []string
	for _, o := range dest.Options {
		codes = append(codes, o.Value)
	}
	if diff := cmp.Diff([]string{"m17", "m18", "slb001", "slb004", "slb007"}, codes); diff != "" {
		t.Errorf("provider codes (-want +got):\n%s", diff)
	}
	// Check leaves spaces in the source account to the spec: anchored as the
	// handler anchors it, the pattern must refuse them.
	src, _ := spec.Field(FieldSourceAccount)
	re := regexp.MustCompile(`^(?:` + src.Pattern + `)$`)
	for v, want := range map[string]bool{"fac-1": true, "fac 1": false, "fac\t1": false, "fac\n1": false} {
		if got := re.MatchString(v); got != want || src.PatternMessage != "must not contain spaces" {
			t.Errorf("source account pattern on %q: got %v (message %q), want %v", v, got, src.PatternMessage, want)
		}
	}
	usd := New(Config{Currencies: []string{"SLE", "USD"}}).Form()
	if f, _ := usd.Field(providers.FieldNameCurrency); len(f.Options) != 2 {
		t.Errorf("got %d currency options with USD configured, want 2", len(f.Options))
	}
}

func TestCheck(t *testing.T) {
	valid := func() providers.Payout {
		return providers.Payout{
			Amount: providers.Money{Minor: 15000, Currency: "SLE"},
			Fields: map[string]string{FieldProviderCode: "m17", FieldAccountID: "+23276123456"},
		}
	}
	manyLines := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString("k" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "=v\n")
		}
		return b.String()
	}
	tests := []struct {
		name   string
		change func(*providers.Payout)
		want   []string // fields with a message
	}{
		{"valid", func(*providers.Payout) {}, nil},
		{"local phone accepted", func(p *providers.Payout) { p.Fields[FieldAccountID] = "076 123 456" }, nil},
		{"bank account", func(p *providers.Payout) {
			p.Fields[FieldProviderCode], p.Fields[FieldAccountID] = "slb004", "0123-4567-89"
		}, nil},
		{"zero amount", func(p *providers.Payout) { p.Amount.Minor = 0 }, []string{"amount"}},
		{"unknown provider", func(p *providers.Payout) { p.Fields[FieldProviderCode] = "m99" }, []string{FieldProviderCode}},
		{"short phone", func(p *providers.Payout) { p.Fields[FieldAccountID] = "+2327612345" }, []string{FieldAccountID}},
		{"foreign phone", func(p *providers.Payout) { p.Fields[FieldAccountID] = "+22997808080" }, []string{FieldAccountID}},
		{"bank account too short", func(p *providers.Payout) {
			p.Fields[FieldProviderCode], p.Fields[FieldAccountID] = "slb001", "123"
		}, []string{FieldAccountID}},
		{"metadata ok", func(p *providers.Payout) { p.Fields[FieldMetadata] = "ticket=SUP-1\nagent=ana" }, nil},
		{"metadata not key=value", func(p *providers.Payout) { p.Fields[FieldMetadata] = "ticket SUP-1" }, []string{FieldMetadata}},
		{"metadata reserved key", func(p *providers.Payout) { p.Fields[FieldMetadata] = ReferenceKey + "=x" }, []string{FieldMetadata}},
		{"metadata key too long", func(p *providers.Payout) {
			p.Fields[FieldMetadata] = strings.Repeat("k", 65) + "=v"
		}, []string{FieldMetadata}},
		{"metadata value too long", func(p *providers.Payout) {
			p.Fields[FieldMetadata] = "k=" + strings.Repeat("é", 101)
		}, []string{FieldMetadata}},
		{"63 entries plus reference", func(p *providers.Payout) { p.Fields[FieldMetadata] = manyLines(63) }, nil},
		{"64 entries plus reference", func(p *providers.Payout) { p.Fields[FieldMetadata] = manyLines(64) }, []string{FieldMetadata}},
	}
	c := New(Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.change(&p)
			errs := c.Check(p)
			var got []string
			for _, f := range []string{"amount", "currency", FieldProviderCode, FieldAccountID, FieldSourceAccount, FieldMetadata} {
				if errs[f] != "" {
					got = append(got, f)
				}
			}
			if len(got) != len(errs) {
				t.Errorf("messages for unexpected fields: %v", errs)
			}
			// Shown under their fields as the other providers' are:
			// sentences.
			for f, msg := range errs {
				if first, _ := utf8.DecodeRuneInString(msg); !unicode.IsUpper(first) || !strings.HasSuffix(msg, ".") {
					t.Errorf("the message for %s is not a sentence: %q", f, msg)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fields with messages (-want +got):\n%s\nmessages: %v", diff, errs)
			}
		})
	}
}

func TestNormalizeAccount(t *testing.T) {
	tests := []struct {
		kind   Kind
		in     string
		want   string
		wantOK bool
	}{
		{KindMobileMoney, "+23278000000", "+23278000000", true},
		{KindMobileMoney, "+232 78 000-000", "+23278000000", true},
		{KindMobileMoney, "0023278000000", "+23278000000", true},
		{KindMobileMoney, "23278000000", "+23278000000", true},
		{KindMobileMoney, "078000000", "+23278000000", true},
		{KindMobileMoney, "78000000", "+23278000000", true},
		{KindMobileMoney, "+2327800000", "+2327800000", false},
		{KindMobileMoney, "078 123 45", "+23207812345", false},
		{KindMobileMoney, "+232 078 123 45", "+23207812345", false},
		{KindMobileMoney, "+44 7700 900000", "+232+447700900000", false},
		{KindMobileMoney, "", "+232", false},
		{KindBank, "0012 3456-7890", "001234567890", true},
		{KindBank, "sl12ab345678", "SL12AB345678", true},
		{KindBank, "12345", "12345", false},
		{Kind("wallet"), "dw-1", "dw1", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeAccount(tt.kind, tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("NormalizeAccount(%s, %q): got %q %v, want %q %v", tt.kind, tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestParseMetadata(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		want         map[string]string
		wantProblems int
	}{
		{"empty", "", map[string]string{}, 0},
		{"blank lines and spaces", "\n a = b \r\n\nc=\n", map[string]string{"a": "b", "c": ""}, 0},
		{"value with equals", "q=a=b", map[string]string{"q": "a=b"}, 0},
		{"missing key", "=v", nil, 1},
		{"no equals", "hello", nil, 1},
		{"duplicate", "a=1\na=2", nil, 1},
		{"two problems", "x\n" + strings.Repeat("k", 65) + "=v", nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := ParseMetadata(tt.in)
			if len(problems) != tt.wantProblems {
				t.Errorf("got problems %q, want %d", problems, tt.wantProblems)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBeneficiary(t *testing.T) {
	c := New(Config{})
	tests := []struct {
		fields map[string]string
		want   providers.Beneficiary
	}{
		{map[string]string{FieldProviderCode: "m17", FieldAccountID: "078 123 456"},
			providers.Beneficiary{Name: "Orange Money (m17)", AccountMasked: "•••• 3456", Country: "SL"}},
		{map[string]string{FieldProviderCode: "zz9", FieldAccountID: "12345678"},
			providers.Beneficiary{Name: "zz9", AccountMasked: "•••• 5678", Country: "SL"}},
	}
	for _, tt := range tests {
		got := c.Beneficiary(providers.Payout{Fields: tt.fields})
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Beneficiary(%v) (-want +got):\n%s", tt.fields, diff)
		}
	}
}
