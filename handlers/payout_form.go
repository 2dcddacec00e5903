package handlers

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/a-h/templ"

	"payoutdesk/providers"
	"payoutdesk/views/components"
	payoutsview "payoutdesk/views/payouts"
)

// idempotencyKeyPattern is the shape of keys minted by NewIdempotencyKey
// (26 base32 characters).
var idempotencyKeyPattern = regexp.MustCompile(`^[A-Z2-7]{26}$`)

// NewIdempotencyKey mints the key of a payout form about to be shown.
func NewIdempotencyKey() string { return mintKey(time.Now()) }

// sortedBase32 is base32's alphabet in byte order, so that digits compare
// as their values do.
const sortedBase32 = "234567ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// mintKey returns a form's key minted at t: its time in milliseconds as
// ten digits of sortedBase32, then sixteen random characters (80 bits,
// from crypto/rand.Text). Keys minted together sort together, so the
// payouts' unique indexes on the key and on the reference made from it
// take new payouts near their end, on pages already in memory, rather than
// on a random page each: at a thousand payouts a second the writer's
// commits took 0.25 ms instead of 0.39. The key, and so the reference
// providers see, tells when the form was shown, as the payout's own
// record does.
func mintKey(t time.Time) string {
	ms := uint64(max(t.UnixMilli(), 0))
	var b [26]byte
	for i := 9; i >= 0; i-- {
		b[i] = sortedBase32[ms&31]
		ms >>= 5
	}
	copy(b[10:], rand.Text())
	return string(b[:])
}

// formOutOfDate is said above a form whose key could not be used, sent
// back with a fresh one.
const formOutOfDate = "This form is out of date. It has been refreshed: check the values and submit again."

// referenceFor derives the merchant reference providers see from the
// idempotency key: the same key always makes the same reference (29
// characters, within Kibramoa's 36).
func referenceFor(key string) string { return "PD-" + key }

// payoutForm is a submitted payout form after checking.
type payoutForm struct {
	key    string
	values map[string]string
	errors map[string]string
	payout providers.Payout
}

// parsePayoutForm checks a submitted form against the provider's form spec,
// then against the provider's own rules. Values outside the spec are
// ignored; fields that do not apply (a card number on a bank payout) are
// dropped.
func parsePayoutForm(rail providers.Rail, form url.Values) payoutForm {
	f := payoutForm{key: form.Get("idempotency_key"), values: map[string]string{}, errors: map[string]string{}}
	spec := rail.Form()
	for _, fl := range spec.Fields {
		v := form.Get(fl.Name)
		if fl.Type != providers.FieldTextarea {
			v = strings.TrimSpace(v)
		}
		if fl.Upper {
			v = strings.ToUpper(v)
		}
		f.values[fl.Name] = v
	}
	for _, fl := range spec.Fields {
		if !fl.Applies(f.values) {
			delete(f.values, fl.Name)
			continue
		}
		if msg := checkField(fl, f.values[fl.Name]); msg != "" {
			f.errors[fl.Name] = msg
		}
	}
	// The provider's rules below see the chosen currency even when the
	// amount is wrong, so that they do not blame the currency for it.
	currency := f.values[providers.FieldNameCurrency]
	f.payout.Amount.Currency = currency
	if _, bad := f.errors[providers.FieldNameCurrency]; !bad {
		amount, err := providers.ParseMoney(f.values[providers.FieldNameAmount], currency)
		if _, bad := f.errors[providers.FieldNameAmount]; !bad && err != nil {
			f.errors[providers.FieldNameAmount] = "Amount " + err.Error() + "."
		}
		if err == nil {
			f.payout.Amount = amount
		}
	}
	if !idempotencyKeyPattern.MatchString(f.key) {
		f.errors[""] = formOutOfDate
		f.key = NewIdempotencyKey()
	}
	f.payout.IdempotencyKey, f.payout.Reference = f.key, referenceFor(f.key)
	f.payout.Fields = f.values
	// The provider's own rules run even when some fields are wrong, so the
	// agent sees every problem at once; a field keeps its first message.
	for k, msg := range rail.Check(f.payout) {
		// Without a valid amount (a wrong amount or currency, already said),
		// the provider's amount rules have nothing to judge.
		if _, seen := f.errors[k]; !seen && (k != providers.FieldNameAmount || f.payout.Amount.Minor > 0) {
			f.errors[k] = msg
		}
	}
	return f
}

// textProblem says what makes v, typed into the field labelled label, not
// plain text; "" if nothing. Line breaks and tabs are text when multiline.
func textProblem(label, v string, multiline bool) string {
	if !utf8.ValidString(v) {
		return label + " contains characters that are not text."
	}
	for _, r := range v {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			return label + " must not contain control characters."
		}
		// Invisible format characters (zero-width spaces, direction
		// overrides) can make a name read differently on the approval
		// page from what is sent.
		if unicode.Is(unicode.Cf, r) {
			return label + " must not contain invisible characters (such as zero-width spaces or direction marks)."
		}
	}
	return ""
}

// checkField checks one value against its field spec and returns what is
// wrong with it, worded for the agent; "" if nothing.
func checkField(fl providers.Field, v string) string {
	if msg := textProblem(fl.Label, v, fl.Type == providers.FieldTextarea); msg != "" {
		return msg
	}
	if v == "" {
		if fl.Required {
			return fl.Label + " is required."
		}
		return ""
	}
	tags := []string{}
	if fl.MaxLen > 0 {
		tags = append(tags, "max="+strconv.Itoa(fl.MaxLen))
	}
	if fl.MinLen > 0 {
		tags = append(tags, "min="+strconv.Itoa(fl.MinLen))
	}
	switch fl.Type {
	case providers.FieldEmail:
		tags = append(tags, "email")
	case providers.FieldURL:
		tags = append(tags, "http_url")
	case providers.FieldIP:
		tags = append(tags, "ip")
	}
	if fl.Validate != "" {
		tags = append(tags, fl.Validate)
	}
	for _, tag := range tags {
		if msg := varError(fl.Label, v, tag); msg != "" {
			return msg + "."
		}
	}
	if _, ok := option(fl, v); len(fl.Options) > 0 && !ok {
		return fl.Label + ": choose one of the listed values."
	}
	if fl.Pattern != "" {
		re, err := fieldPattern(fl.Pattern)
		if err == nil && !re.MatchString(v) {
			if fl.PatternMessage != "" {
				return fl.PatternMessage
			}
			return fl.Label + " is not in the expected format."
		}
	}
	return ""
}

// patterns caches the compiled field patterns: the specs are fixed, and
// compiling on every submitted form showed in profiles.
var patterns sync.Map

func fieldPattern(p string) (*regexp.Regexp, error) {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(`^(?:` + p + `)$`)
	if err == nil {
		patterns.Store(p, re)
	}
	return re, err
}

// option finds the choice of fl whose value is v.
func option(fl providers.Field, v string) (providers.Option, bool) {
	for _, o := range fl.Options {
		if o.Value == v {
			return o, true
		}
	}
	return providers.Option{}, false
}

// formPage builds the form's view model from the provider's spec, with the
// given values (defaults on first render) and errors.
func (h *Payouts) formPage(rail providers.Rail, key string, values, errs map[string]string) payoutsview.FormPage {
	spec := rail.Form()
	p := payoutsview.FormPage{
		Provider: string(rail.Name()), Title: rail.Name().Title(), Intro: spec.Intro, Sandbox: sandboxed(h.Rails, rail.Name()),
		Key: key, Error: errs[""],
	}
	approval := approvalHint(h.Approvals, rail.Name(), spec)
	index := map[string]int{}
	for _, fl := range spec.Fields {
		group := fl.Group
		if group == "" {
			group = "Payout"
		}
		i, ok := index[group]
		if !ok {
			i = len(p.Groups)
			index[group] = i
			p.Groups = append(p.Groups, payoutsview.FieldGroup{Legend: group})
		}
		fp := fieldProps(spec, fl, values[fl.Name], errs[fl.Name])
		if fl.Name == providers.FieldNameAmount && approval != "" {
			fp.Hint = strings.TrimSpace(fp.Hint + " " + approval)
		}
		p.Groups[i].Fields = append(p.Groups[i].Fields, fp)
	}
	return p
}

// approvalHint tells the agent, before they submit, which amounts wait
// for a manager: the threshold of each currency the form offers.
func approvalHint(rules ApprovalRules, provider providers.Name, spec providers.FormSpec) string {
	cur, ok := spec.Field(providers.FieldNameCurrency)
	if !ok {
		return ""
	}
	var above, always []string
	for _, o := range cur.Options {
		if t, ok := rules.Threshold(string(provider), o.Value); ok {
			above = append(above, t.String())
		} else {
			always = append(always, o.Value)
		}
	}
	var parts []string
	if len(above) > 0 {
		parts = append(parts, "A manager must approve a payout above "+orList(above)+" before it is sent.")
	}
	if len(always) > 0 {
		parts = append(parts, "Every payout in "+strings.Join(always, ", ")+" needs a manager's approval.")
	}
	return strings.Join(parts, " ")
}

// midSentence writes a label as it reads inside a sentence: "Card number"
// becomes "card number", while an initialism ("IBAN") keeps its capitals.
func midSentence(label string) string {
	first, _, _ := strings.Cut(label, " ")
	if label == "" || len(first) > 1 && strings.ToUpper(first) == first {
		return label
	}
	r, n := utf8.DecodeRuneInString(label)
	return string(unicode.ToLower(r)) + label[n:]
}

// orList joins items as "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func fieldProps(spec providers.FormSpec, fl providers.Field, value, errMsg string) components.FieldProps {
	fp := components.FieldProps{
		Name: fl.Name, Label: fl.Label, Hint: fl.Hint, Placeholder: fl.Placeholder, Value: value, Error: errMsg,
		Required: fl.Required, MaxLen: fl.MaxLen, Attributes: templ.Attributes{},
	}
	switch fl.Type {
	case providers.FieldSelect:
		fp.Type = "select"
		for _, o := range fl.Options {
			fp.Options = append(fp.Options, components.Option{Value: o.Value, Label: o.Label})
		}
	case providers.FieldTextarea:
		fp.Type = "textarea"
	case providers.FieldEmail:
		fp.Type = "email"
	case providers.FieldTel:
		fp.Type = "tel"
	case providers.FieldURL:
		fp.Type = "url"
	case providers.FieldAmount:
		fp.Type = "text"
		fp.Attributes["inputmode"] = "decimal"
		fp.Attributes["autocomplete"] = "off"
	default:
		fp.Type = "text"
	}
	if fl.When != nil {
		fp.Hint = strings.TrimSpace(fp.Hint + " " + conditionText(spec, fl.When))
		// Required only under its condition, which the browser cannot
		// know; marked, as the script shows it only then.
		fp.Required, fp.MarkRequired = false, fl.Required
		fp.WhenField, fp.WhenValues = fl.When.Field, fl.When.Values
	}
	if fl.Account {
		fp.Attributes["autocomplete"] = "off"
	}
	return fp
}

// conditionText says when a conditional field applies: "Only when Payment
// method is Card."
func conditionText(spec providers.FormSpec, c *providers.Condition) string {
	label := c.Field
	var values []string
	if other, ok := spec.Field(c.Field); ok {
		label = other.Label
		for _, v := range c.Values {
			if o, ok := option(other, v); ok {
				v = o.Label
			}
			values = append(values, v)
		}
	}
	return fmt.Sprintf("Only when %s is %s.", label, strings.Join(values, " or "))
}
