package static

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// rules reads app.css's top-level rules (those inside @media left out) as
// selector → property → value, with var(--x) resolved from :root.
func rules(t *testing.T) map[string]map[string]string {
	t.Helper()
	b, err := FS.ReadFile("css/app.css")
	if err != nil {
		t.Fatal(err)
	}
	css := regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(string(b), "")
	out := map[string]map[string]string{}
	depth, start := 0, 0
	var sel string
	for i, c := range css {
		switch c {
		case '{':
			if depth == 0 {
				sel, start = strings.TrimSpace(css[start:i]), i+1
			}
			depth++
		case '}':
			depth--
			if depth == 0 {
				if !strings.HasPrefix(sel, "@") {
					decls := map[string]string{}
					for _, d := range strings.Split(css[start:i], ";") {
						if k, v, ok := strings.Cut(d, ":"); ok {
							decls[strings.TrimSpace(k)] = strings.TrimSpace(v)
						}
					}
					out[sel] = decls
				}
				start = i + 1
			}
		}
	}
	root := out[":root"]
	varRef := regexp.MustCompile(`var\((--[a-z0-9-]+)\)`)
	for _, decls := range out {
		for k, v := range decls {
			decls[k] = varRef.ReplaceAllStringFunc(v, func(m string) string { return root[varRef.FindStringSubmatch(m)[1]] })
		}
	}
	return out
}

func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	hex = strings.TrimPrefix(hex, "#")
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	if len(hex) != 6 {
		t.Fatalf("colour %q is not #rgb or #rrggbb", hex)
	}
	var l [3]float64
	for i := range l {
		n, err := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		if err != nil {
			t.Fatal(err)
		}
		c := float64(n) / 255
		if c <= 0.03928 {
			l[i] = c / 12.92
		} else {
			l[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

// contrast is the WCAG contrast ratio of two colours.
func contrast(t *testing.T, fg, bg string) float64 {
	t.Helper()
	a, b := luminance(t, fg), luminance(t, bg)
	return (math.Max(a, b) + 0.05) / (math.Min(a, b) + 0.05)
}

// TestTextContrast checks text colours against their backgrounds at WCAG
// AA: 4.5:1, or 3:1 for large text (24px, or 18.7px bold, and over).
func TestTextContrast(t *testing.T) {
	css := rules(t)
	page, panel := css[":root"]["--bg"], css[":root"]["--panel"]
	refused := css[".field.invalid input, .field.invalid select, .field.invalid textarea"]["background"]
	tests := []struct {
		name, selector, background string
		min                        float64
	}{
		{"muted text on the page", ".muted", page, 4.5},
		{"muted text on a card", ".muted", panel, 4.5},
		{"table headers", "th", panel, 4.5},
		{"badge", ".badge", "", 4.5},
		{"paid badge", ".badge-ok", "", 4.5},
		{"failed badge", ".badge-danger", "", 4.5},
		{"unknown badge", ".badge-warn", "", 4.5},
		{"waiting badge", ".badge-info", "", 4.5},
		{"sandbox badge", ".badge-sandbox", "", 4.5},
		{"error page's status code", ".error-page .code", page, 3},
		// Browsers draw it pale by default: Firefox at 3.8:1 on white.
		{"placeholder in a field", "::placeholder", "#fff", 4.5},
		{"placeholder in a refused field", "::placeholder", refused, 4.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			decls, ok := css[tt.selector]
			if !ok {
				t.Fatalf("no rule %s in app.css", tt.selector)
			}
			fg, bg := decls["color"], tt.background
			if bg == "" {
				bg = decls["background"]
			}
			if ratio := contrast(t, fg, bg); ratio < tt.min {
				t.Errorf("%s on %s: contrast %.2f:1, want at least %.1f:1", fg, bg, ratio, tt.min)
			}
		})
	}
}
