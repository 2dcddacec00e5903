package handlers

import (
	"errors"
	"reflect"
	"strings"

	"github.com/go-playground/locales/en"
	ut "github.com/go-playground/universal-translator"
	"github.com/go-playground/validator/v10"
	en_translations "github.com/go-playground/validator/v10/translations/en"
)

// validate and trans are created once: the validator caches struct metadata.
var validate, trans = newValidator()

func newValidator() (*validator.Validate, ut.Translator) {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Messages name a field by its label, as the page does; fieldErrors
	// keys them by the form field name, matching <input name>.
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		if label := f.Tag.Get("label"); label != "" {
			return label
		}
		return formName(f)
	})
	t, _ := ut.New(en.New()).GetTranslator("en")
	if err := en_translations.RegisterDefaultTranslations(v, t); err != nil {
		panic(err)
	}
	// Tags without an English default message, or with one written for
	// programmers ("must be one of [agent manager admin]").
	extra := map[string]string{
		"http_url":         "{0} must be a web address starting with http:// or https://",
		"oneof":            "{0} must be one of: {1}",
		"email":            "{0} must be an email address, such as name@example.com",
		"iso3166_1_alpha3": "{0} must be the three-letter ISO 3166 code of a country, such as BEL or USA",
	}
	for tag, text := range extra {
		err := v.RegisterTranslation(tag, t,
			func(ut ut.Translator) error { return ut.Add(tag, text, true) },
			func(ut ut.Translator, fe validator.FieldError) string {
				s, _ := ut.T(tag, fe.Field(), strings.ReplaceAll(fe.Param(), " ", ", "))
				return s
			})
		if err != nil {
			panic(err)
		}
	}
	return v, t
}

// varError validates one value against a validator tag and returns the
// English message for it, prefixed with the field's label; "" if valid.
func varError(label, value, tag string) string {
	err := validate.Var(value, tag)
	if err == nil {
		return ""
	}
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) || len(ves) == 0 {
		return label + " is not valid"
	}
	return label + ves[0].Translate(trans)
}

// formName is the form field name of a struct field: its form tag.
func formName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("form"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// fieldErrors validates s (a struct) and returns one English message per
// invalid field, keyed by its form name; nil when s is valid.
func fieldErrors(s any) map[string]string {
	err := validate.Struct(s)
	if err == nil {
		return nil
	}
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		return map[string]string{"": err.Error()}
	}
	typ := reflect.TypeOf(s)
	out := make(map[string]string, len(ves))
	for _, fe := range ves {
		key := fe.Field()
		if f, ok := typ.FieldByName(fe.StructField()); ok {
			key = formName(f)
		}
		if _, seen := out[key]; !seen {
			out[key] = fe.Translate(trans) + "."
		}
	}
	return out
}
