package components

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestFieldDescribedByErrorFirst: a screen reader reads a field's
// description in aria-describedby's order, so the error comes before the
// hint, as on screen: after a refused form the reader hears what is wrong
// at once, not after a long hint (the amount's approval limits).
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sb strings.Builder
			if err := Field(tt.field).Render(context.Background(), &sb); err != nil {
				t.Fatal(err)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(sb.String()))
			if err != nil {
				t.Fatal(err)
			}
			control := doc.Find("#f-" + tt.field.Name)
			if got, _ := control.Attr("aria-describedby"); got != tt.want {
				t.Errorf("aria-describedby %q, want %q", got, tt.want)
			}
			for _, id := range strings.Fields(tt.want) {
				if doc.Find("#"+id).Length() != 1 {
					t.Errorf("aria-describedby names %s, which is not on the page", id)
				}
			}
		})
	}
}
