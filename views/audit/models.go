// Package audit holds the audit log pages: the filtered list, one event
// with its before/after diff, and the integrity check's result.
package audit

import (
	"time"

	"payoutdesk/views/components"
)

// Filters are the list's filter values as typed, and their choices.
type Filters struct {
	From, To string
	Actor    string
	Action   string
	Provider string
	Payout   string
	Outcome  string
	Text     string
	Size     string
	// Views says whether the log's own views are "shown" or "hidden"; when
	// hidden, ShowViewsURL lists them too.
	Views        string
	ShowViewsURL string
	Actions      []components.Option
	Providers    []components.Option
	// Query is the encoded filter, for export links.
	Query string
	// ClearURL, when a filter is set, is the log without any.
	ClearURL string
}

// Row is one event in the list.
type Row struct {
	Seq      int64
	At       time.Time
	Actor    string
	Action   string
	Target   string
	PayoutID int64
	Outcome  string
	Provider string
	Summary  string
}

// ListPage is the audit log.
type ListPage struct {
	Filters Filters
	Rows    []Row
	NextURL string
	// FirstURL, on a later page, is the first page of the same filter.
	FirstURL string
	// Errors are the filter values that cannot be used, by field: no
	// event is then listed.
	Errors map[string]string
	// CursorError says that the link to this page of the log is damaged.
	CursorError string
}

// Change is one value an event changed. A status also has the labels the
// payout pages show, where they differ from the recorded codes.
type Change struct {
	Field, Before, After    string
	BeforeLabel, AfterLabel string
}

// EventPage is one event.
type EventPage struct {
	Seq       int64
	At        time.Time
	Actor     string
	ActorLink string
	Role      string
	Action    string
	// Title is the action as the payout timeline names it, if it has a name.
	Title     string
	Target    string
	PayoutID  int64
	Outcome   string
	Provider  string
	IP        string
	UserAgent string
	RequestID string
	Reason    string
	Changes   []Change
	Details   string
	Hash      string
	PrevSeq   int64
	NextSeq   int64
}

// VerifyPage is the result of the integrity check.
type VerifyPage struct {
	OK bool
	// Unverified says why the check could not run (a file it needs is
	// missing); the other fields are then empty.
	Unverified  string
	Events      int64
	Head        string
	Checkpoints int
	BrokenAt    int64
	Problem     string
	// Schema says how the audit table's schema was changed, if it was.
	Schema string
	Note   string
	Took   time.Duration
}
