package components

import (
	"context"
	"strings"
	"testing"
)

// TestEmailBreaksBeforeItsAt: an address may break before its last "@",
// and only there; its text is unchanged, and other actors are written as
// they are, escaped.
func TestEmailBreaksBeforeItsAt(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"agent@payoutdesk.local", "agent<wbr>@payoutdesk.local"},
		{`"a@b"@example.com`, "&#34;a@b&#34;<wbr>@example.com"},
		{"system", "system"},
		{"provider:monime", "provider:monime"},
		{"@handle", "@handle"},
		{"<b>@x", "&lt;b&gt;<wbr>@x"},
	} {
		var sb strings.Builder
		if err := Email(tt.in).Render(context.Background(), &sb); err != nil {
			t.Fatal(err)
		}
		if got := strings.ReplaceAll(sb.String(), "<wbr/>", "<wbr>"); got != tt.want {
			t.Errorf("Email(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
