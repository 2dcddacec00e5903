package static_test

import (
	"testing"

	"payoutdesk/static"
	"payoutdesk/views/overview"
)

// TestChartColours checks the overview chart's provider colours as WCAG
// asks of graphics (3:1 against the card they are drawn on), and that no
// two are alike in lightness, so that someone who cannot tell the hues
// apart can still tell the stacked segments apart.
func TestChartColours(t *testing.T) {
	css := static.Rules(t)
	panel := css[":root"]["--panel"]
	if got := css[".chart-bars rect"]["stroke"]; got != panel {
		t.Errorf("stacked segments are parted by %q, want the card's colour %s", got, panel)
	}
	keys := []string{"kibramoa", "smartglocal", "monime", "fedapay"}
	var series []overview.Series
	for _, k := range keys {
		series = append(series, overview.Series{Key: k, Label: k})
	}
	legend := overview.NewChart(series, nil).Legend
	if len(legend) != len(keys) {
		t.Fatalf("legend has %d items, want %d", len(legend), len(keys))
	}
	for i, a := range legend {
		if r := static.Contrast(t, a.Fill, panel); r < 3 {
			t.Errorf("%s's %s on the card: %.2f:1, want at least 3:1", a.Provider, a.Fill, r)
		}
		for _, b := range legend[i+1:] {
			if r := static.Contrast(t, a.Fill, b.Fill); r < 1.3 {
				t.Errorf("%s's %s and %s's %s: %.2f:1 apart in lightness, want at least 1.3:1", a.Provider, a.Fill, b.Provider, b.Fill, r)
			}
		}
	}
}
