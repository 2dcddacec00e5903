// Package overview holds the manager's overview: totals for a period,
// the approval and unknown-outcome backlogs, failure reasons and a chart of
// payouts per day drawn as server-rendered SVG.
package overview

// Page is the overview's view model.
type Page struct {
	Period Period
	// Presets are the quick choices of period, in order.
	Presets []Preset
	// PeriodError says which period parameters were ignored, and why.
	PeriodError string
	Summary     Summary
	Backlog     Backlog
	Providers   []ProviderTotals
	Failures    []Failure
	// FailureLimit is how many failure reasons are shown at most.
	FailureLimit int
	Chart        Chart
}

// Period is the period shown: whole UTC days, both ends included.
type Period struct {
	// Key is today, 7d, 30d, 90d, or custom for explicit dates.
	Key   string
	Label string
	// From and To are the first and last days, as 2006-01-02.
	From string
	To   string
	Days int
}

// Preset is a quick choice of period.
type Preset struct {
	Key     string
	Label   string
	Href    string
	Current bool
}

// Amount is a sum of amounts in one currency, already formatted. Amounts of
// different currencies are listed side by side, never added up.
type Amount struct {
	Currency string
	Text     string
}

// Summary is the headline of the period.
type Summary struct {
	Count     int64
	PaidCount int64
	Paid      []Amount
	Failed    int64
}

// Backlog is what waits for a manager now, whatever the period.
type Backlog struct {
	PendingApproval int64
	Unknown         int64
}

// ProviderTotals is one provider's payouts in the period, overall and by
// status.
type ProviderTotals struct {
	Provider string
	Title    string
	// Sandbox marks a provider served by the sandbox: no money moved.
	Sandbox  bool
	Count    int64
	Amounts  []Amount
	Statuses []StatusTotals
}

// StatusTotals is the payouts of one provider in one status.
type StatusTotals struct {
	Status  string
	Label   string
	Count   int64
	Amounts []Amount
}

// Failure is one reason of failure with how many payouts failed with it.
type Failure struct {
	Provider string
	Title    string
	Code     string
	Message  string
	Count    int64
}
