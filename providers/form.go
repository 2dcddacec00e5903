package providers

import "strings"

// FieldType says how a form field is entered and checked.
type FieldType string

// Field types. Amount fields are parsed with ParseMoney against the value of
// the "currency" field.
const (
	FieldText     FieldType = "text"
	FieldTextarea FieldType = "textarea"
	FieldAmount   FieldType = "amount"
	FieldSelect   FieldType = "select"
	FieldEmail    FieldType = "email"
	FieldTel      FieldType = "tel"
	FieldURL      FieldType = "url"
	FieldIP       FieldType = "ip"
)

// Standard field names every provider's form has.
const (
	FieldNameAmount   = "amount"
	FieldNameCurrency = "currency"
)

// Option is one allowed value of a select field.
type Option struct {
	Value string
	Label string
}

// Condition makes a field apply only when another field holds one of Values
// (Smart Glocal's card number applies only to card payouts).
type Condition struct {
	Field  string
	Values []string
}

// Field is one input of a provider's payout form.
type Field struct {
	// Name is the form field name and the key in Payout.Fields.
	Name  string
	Label string
	// Hint explains the field to an agent in a hurry.
	Hint        string
	Placeholder string
	Type        FieldType
	Group       string
	Required    bool
	// Options are the allowed values of a select; any other value is refused.
	Options []Option
	// MinLen and MaxLen count characters (runes); 0 means no bound.
	MinLen, MaxLen int
	// Pattern is an RE2 regular expression the whole value must match, and
	// PatternMessage what the agent is told when it does not.
	Pattern        string
	PatternMessage string
	// Validate is a further go-playground/validator tag the value must
	// pass, for rules with well-kept data behind them (ISO country codes).
	Validate string
	Default  string
	// Account marks a value that identifies a bank or wallet account, card
	// or phone: it is masked wherever it is displayed.
	Account bool
	// Upper takes the value in capitals, however it was typed (country
	// codes): "bel" is BEL, not a mistake to send back.
	Upper bool
	// When restricts the field to some values of another field; otherwise
	// the field is ignored and need not be filled.
	When *Condition
}

// Applies reports whether f is in force for the given form values.
func (f Field) Applies(values map[string]string) bool {
	if f.When == nil {
		return true
	}
	for _, v := range f.When.Values {
		if values[f.When.Field] == v {
			return true
		}
	}
	return false
}

// FormSpec is a provider's payout form: the fields an agent fills in, in
// display order, grouped by Field.Group.
type FormSpec struct {
	Provider Name
	// Intro is one or two sentences on what this provider's payout does.
	Intro  string
	Fields []Field
}

// Field returns the field with the given name.
func (s FormSpec) Field(name string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Defaults returns the default value of every field that has one.
func (s FormSpec) Defaults() map[string]string {
	out := make(map[string]string)
	for _, f := range s.Fields {
		if f.Default != "" {
			out[f.Name] = f.Default
		}
	}
	return out
}

// StripSeparators drops the spaces, tabs, dots, dashes and brackets people
// type inside phone and account numbers ("+229 (97) 80-80.80").
func StripSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '.', '-', '(', ')':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}
