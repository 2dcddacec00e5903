package overview

import (
	"math"
	"strconv"
	"time"

	"payoutdesk/views"
)

// Series is one provider drawn on the chart.
type Series struct {
	Key   string
	Label string
}

// ChartDay is one UTC day of the chart and its count per series key.
type ChartDay struct {
	Date   time.Time
	Counts map[string]int64
}

// Chart is a stacked bar chart of payouts per day, one colour per provider,
// with every coordinate computed here so the template only places elements.
type Chart struct {
	ViewBox string
	// Summary is the chart said in one sentence, for assistive technology.
	Summary string
	Total   int64
	Bars    []Bar
	Grid    []GridLine
	XLabels []AxisLabel
	Legend  []LegendItem
	// Rows repeat the chart as numbers, one per day, counts in Legend order.
	Rows []ChartRow
	// Baseline is the x axis.
	Baseline GridLine
}

// Bar is one provider's share of one day's bar.
type Bar struct {
	X, Y, W, H string
	Fill       string
	Provider   string
	Day        string
	Count      int64
	Title      string
}

// GridLine is a horizontal line of the y axis with its label.
type GridLine struct {
	X1, X2, Y      string
	Label          string
	LabelX, LabelY string
}

// AxisLabel is a day written under the x axis.
type AxisLabel struct {
	X, Y string
	Text string
}

// LegendItem names a provider's colour and its total in the period.
type LegendItem struct {
	Provider string
	Label    string
	Fill     string
	Count    int64
}

// ChartRow is one day of the chart as numbers.
type ChartRow struct {
	Day    string
	Counts []int64
	Total  int64
}

// Drawing area, in viewBox units; the stylesheet scales the SVG to its box.
const (
	chartW      = 720.0
	chartH      = 240.0
	padLeft     = 40.0
	padRight    = 8.0
	padTop      = 12.0
	padBottom   = 28.0
	maxBarW     = 48.0
	maxXLabels  = 10
	yIntervals  = 4
	dayLayout   = "2006-01-02"
	shortLayout = "2 Jan"
)

// providerColours keeps each provider's colour the same whatever the period.
// Each stands out from the card at 3:1 or more, and no two share a
// lightness (1.3:1 or more between any two), so they can be told apart
// without telling hues apart; the stylesheet also parts stacked segments
// with a line of the card's colour.
var providerColours = map[string]string{
	"kibramoa":    "#1f5fd1",
	"smartglocal": "#0f8b7a",
	"monime":      "#d97706",
	"fedapay":     "#4c1d95",
}

var spareColours = []string{"#db2777", "#4b5563", "#65a30d", "#0891b2"}

// NewChart lays out days (in order, one per day of the period) as stacked
// bars, one segment per series with payouts that day.
func NewChart(series []Series, days []ChartDay) Chart {
	c := Chart{ViewBox: "0 0 " + num(chartW) + " " + num(chartH)}
	plotW, plotH := chartW-padLeft-padRight, chartH-padTop-padBottom
	bottom := padTop + plotH

	spare := 0
	for _, s := range series {
		fill, ok := providerColours[s.Key]
		if !ok {
			fill = spareColours[spare%len(spareColours)]
			spare++
		}
		c.Legend = append(c.Legend, LegendItem{Provider: s.Key, Label: s.Label, Fill: fill})
	}
	var peak int64
	for _, d := range days {
		row := ChartRow{Day: d.Date.Format(dayLayout), Counts: make([]int64, len(series))}
		for i, s := range series {
			n := d.Counts[s.Key]
			row.Counts[i] = n
			row.Total += n
			c.Legend[i].Count += n
		}
		peak = max(peak, row.Total)
		c.Total += row.Total
		c.Rows = append(c.Rows, row)
	}
	if len(days) == 0 {
		return c
	}

	step := niceStep(peak)
	top := max(step, (peak+step-1)/step*step)
	scale := plotH / float64(top)
	for v := int64(0); v <= top; v += step {
		y := bottom - float64(v)*scale
		c.Grid = append(c.Grid, GridLine{X1: num(padLeft), X2: num(chartW - padRight), Y: num(y),
			Label: strconv.FormatInt(v, 10), LabelX: num(padLeft - 6), LabelY: num(y + 4)})
	}
	c.Baseline = GridLine{X1: num(padLeft), X2: num(chartW - padRight), Y: num(bottom)}

	slot := plotW / float64(len(days))
	barW := min(slot*0.72, maxBarW)
	every := (len(days) + maxXLabels - 1) / maxXLabels
	for i, d := range days {
		x := padLeft + float64(i)*slot + (slot-barW)/2
		y := bottom
		for j, s := range series {
			n := c.Rows[i].Counts[j]
			if n == 0 {
				continue
			}
			h := float64(n) * scale
			y -= h
			c.Bars = append(c.Bars, Bar{X: num(x), Y: num(y), W: num(barW), H: num(h), Fill: c.Legend[j].Fill,
				Provider: s.Key, Day: c.Rows[i].Day, Count: n,
				Title: s.Label + ", " + d.Date.Format("2 Jan 2006") + ": " + views.Count(n, "payout", "payouts")})
		}
		if i%every == 0 {
			c.XLabels = append(c.XLabels, AxisLabel{X: num(x + barW/2), Y: num(bottom + 18), Text: d.Date.Format(shortLayout)})
		}
	}
	c.Summary = "Payouts per day by provider, " + days[0].Date.Format("2 Jan 2006") + " to " +
		days[len(days)-1].Date.Format("2 Jan 2006") + ": " + views.Count(c.Total, "payout", "payouts") + "."
	return c
}

// niceStep is the y-axis step: 1, 2 or 5 times a power of ten, so that
// about yIntervals steps reach peak.
func niceStep(peak int64) int64 {
	if peak <= yIntervals {
		return 1
	}
	raw := float64(peak) / yIntervals
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw {
			return int64(m * pow)
		}
	}
	return int64(10 * pow)
}

// num writes a coordinate with at most two decimals.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
