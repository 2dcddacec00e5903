package components

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestFieldDescribedByErrorFirst: a screen reader reads a field's
// description in aria-describedby's order, so the error comes before the
// hint, as on screen: after a refused form the reader hears what is wrong
// at once, not after a long hint (the amount's approval limits). A field
// with neither has no aria-describedby at all.
func TestFieldDescribedByErrorFirst(t *testing.T) {
	tests := []struct {
		name  string
		field FieldProps
		want  string
	}{
		{"input with hint and error", FieldProps{Name: "amount", Label: "Amount", Hint: "In major units.", Error: "Amount is required."}, "f-amount-error f-amount-hint"},
		{"textarea with hint and error", FieldProps{Name: "reason", Label: "Reason", Type: "textarea", Hint: "10 to 1000 characters.", Error: "Too short."}, "f-reason-error f-reason-hint"},
		{"select with hint and error", FieldProps{Name: "mode", Label: "Operator", Type: "select", Hint: "The operator.", Error: "Operator is required."}, "f-mode-error f-mode-hint"},
		{"error only", FieldProps{Name: "email", Label: "Email", Error: "Email is required."}, "f-email-error"},
		{"hint only", FieldProps{Name: "email", Label: "Email", Hint: "Work address."}, "f-email-hint"},
		{"input with neither", FieldProps{Name: "email", Label: "Email"}, ""},
		{"textarea with neither", FieldProps{Name: "reason", Label: "Reason", Type: "textarea"}, ""},
		{"select with neither", FieldProps{Name: "mode", Label: "Operator", Type: "select"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, Field(tt.field))
			got, present := doc.Find("#f-" + tt.field.Name).Attr("aria-describedby")
			if got != tt.want {
				t.Errorf("aria-describedby %q, want %q", got, tt.want)
			}
			// Empty, it names nothing: it is left out.
			if present != (tt.want != "") {
				t.Errorf("aria-describedby present %v, want %v", present, tt.want != "")
			}
			for _, id := range strings.Fields(tt.want) {
				if doc.Find("#"+id).Length() != 1 {
					t.Errorf("aria-describedby names %s, which is not on the page", id)
				}
			}
		})
	}
}

// render renders c and parses it.
func render(t *testing.T, c interface {
	Render(context.Context, io.Writer) error
}) *goquery.Document {
	t.Helper()
	var sb strings.Builder
	if err := c.Render(context.Background(), &sb); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestFieldKeepsARefusedValue: a value refused is shown as it was sent,
// next to its error, so that the user sees what to correct. A select shows
// a value that is none of its choices rather than another choice, and a
// date the browser could not read is in a text input, which a browser
// does not empty.
func TestFieldKeepsARefusedValue(t *testing.T) {
	opts := []Option{{Value: "monime", Label: "Monime"}}
	tests := []struct {
		name      string
		field     FieldProps
		wantType  string
		wantValue string
	}{
		{"select, unknown value", FieldProps{Name: "provider", Label: "Provider", Type: "select", Value: "paypal", Options: opts, Error: "Choose a provider from the list."}, "", "paypal"},
		{"required select, unknown value", FieldProps{Name: "provider", Label: "Provider", Type: "select", Value: "paypal", Options: opts, Required: true}, "", "paypal"},
		{"select, known value", FieldProps{Name: "provider", Label: "Provider", Type: "select", Value: "monime", Options: opts}, "", "monime"},
		{"date, unreadable", FieldProps{Name: "from", Label: "From", Type: "date", Value: "yesterday", Error: "Enter a date like 2026-11-21."}, "text", "yesterday"},
		{"datetime, unreadable", FieldProps{Name: "from", Label: "From", Type: "datetime-local", Value: "noon", Error: "Enter a time."}, "text", "noon"},
		{"date, fine", FieldProps{Name: "from", Label: "From", Type: "date", Value: "2026-11-21"}, "date", "2026-11-21"},
		{"date, refused though readable", FieldProps{Name: "to", Label: "To", Type: "date", Value: "2026-11-20", Error: "Must be on or after the From date."}, "date", "2026-11-20"},
		{"datetime, refused though readable", FieldProps{Name: "to", Label: "To", Type: "datetime-local", Value: "2026-11-20T10:00", Error: "Must be after From."}, "datetime-local", "2026-11-20T10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, Field(tt.field))
			control := doc.Find("#f-" + tt.field.Name)
			var got string
			if tt.field.Type == "select" {
				selected := control.Find("option[selected]")
				if selected.Length() != 1 {
					t.Fatalf("%d options selected, want 1", selected.Length())
				}
				got, _ = selected.Attr("value")
				if n := control.Find(`option[value="` + tt.wantValue + `"]`).Length(); n != 1 {
					t.Errorf("the value is %d options, want 1", n)
				}
			} else {
				got, _ = control.Attr("value")
				if typ, _ := control.Attr("type"); typ != tt.wantType {
					t.Errorf("type %q, want %q", typ, tt.wantType)
				}
			}
			if got != tt.wantValue {
				t.Errorf("value %q, want %q", got, tt.wantValue)
			}
		})
	}
}

// TestFieldPlaceholderIsAnExample: an empty field's placeholder reads as an
// example, not as a value already filled in; no placeholder, no example.
func TestFieldPlaceholderIsAnExample(t *testing.T) {
	for _, typ := range []string{"text", "textarea"} {
		doc := render(t, Field(FieldProps{Name: "country", Label: "Country", Type: typ, Placeholder: "BEL"}))
		if got, _ := doc.Find("#f-country").Attr("placeholder"); got != "e.g. BEL" {
			t.Errorf("%s: placeholder %q, want %q", typ, got, "e.g. BEL")
		}
		doc = render(t, Field(FieldProps{Name: "country", Label: "Country", Type: typ}))
		if got, ok := doc.Find("#f-country").Attr("placeholder"); ok && got != "" {
			t.Errorf("%s without a placeholder: placeholder %q, want none", typ, got)
		}
	}
}

// TestErrorSummary: each field with an error is listed, linked to its
// input, and its label is not said twice.
func TestErrorSummary(t *testing.T) {
	errs := Invalid([]FieldProps{
		{Name: "from", Label: "From", Error: "Enter a date like 2026-11-21."},
		{Name: "to", Label: "To"},
		{Name: "amount", Label: "Amount", Error: "Amount is required."},
	})
	doc := render(t, ErrorSummary("Nothing was listed", "filter-errors", errs))
	if got := doc.Find(`[data-testid="filter-errors"][role="alert"] p`).Text(); got != "Nothing was listed, because of these 2 fields:" {
		t.Errorf("lead %q", got)
	}
	var got []string
	doc.Find(`[data-testid="filter-errors"] li`).Each(func(_ int, li *goquery.Selection) {
		href, _ := li.Find("a").Attr("href")
		got = append(got, href+" "+li.Text())
	})
	want := []string{"#f-from From: Enter a date like 2026-11-21.", "#f-amount Amount is required."}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("items %q, want %q", got, want)
	}
}
