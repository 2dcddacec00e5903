// Package payouts holds the payout pages: the provider picker, the
// per-provider form, the list, the payout page and the unknown-outcome queue.
package payouts

import (
	"time"

	"payoutdesk/views"
	"payoutdesk/views/components"
)

// ProviderChoice is one provider on the picker.
type ProviderChoice struct {
	Name    string
	Title   string
	Intro   string
	Sandbox bool
}

// PickerPage lets the agent choose a provider.
type PickerPage struct {
	Providers []ProviderChoice
	// Error says why a submitted form came back here.
	Error string
}

// FormPage is a provider's payout form with its values and errors.
type FormPage struct {
	Provider string
	Title    string
	Intro    string
	Sandbox  bool
	// Key is the idempotency key minted when the form was first rendered.
	Key    string
	Groups []FieldGroup
	// Error is a message about the whole form.
	Error string
}

// FieldGroup is a fieldset of the form.
type FieldGroup struct {
	Legend string
	Fields []components.FieldProps
}

// Row is one payout in a list.
type Row struct {
	ID          int64
	CreatedAt   time.Time
	Provider    string
	Sandbox     bool
	Amount      string
	Beneficiary string
	Account     string
	Status      string
	StatusLabel string
	Reference   string
	CreatedBy   string
	// Problem and NextCheckAt are what the queue of unknown outcomes shows:
	// why the outcome is unknown, and when the provider is asked next.
	Problem     string
	NextCheckAt time.Time
	// Yours marks, on the queue, a payout the viewer created: another
	// manager settles it.
	Yours bool
}

// Option is a choice in a filter.
type Option = components.Option

// ListPage is the payout list with its filters.
type ListPage struct {
	Title string
	// Queue is set on the unknown-outcomes queue.
	Queue     bool
	Rows      []Row
	Provider  string
	Status    string
	CreatedBy string
	From      string
	To        string
	Text      string
	Providers []Option
	Statuses  []Option
	Creators  []Option
	// NextURL continues the list after its last row; "" at the end.
	NextURL string
	// FirstURL, on a later page, is the first page of the same list.
	FirstURL string
	// Errors are the filter values that cannot be used, by field: none
	// of the payouts is then listed.
	Errors map[string]string
	// CursorError says that the link to this page of the list is damaged.
	CursorError string
	// EveryoneURL, when the list shows the user's own payouts, is the same
	// search over everyone's.
	EveryoneURL string
	// Exact is the listed payout whose number is the text searched for.
	Exact int64
	// ClearURL, when a filter is set, is the list without any.
	ClearURL string
}

// ShowPage is one payout.
type ShowPage struct {
	ID            int64
	ProviderTitle string
	Sandbox       bool
	Status        string
	StatusLabel   string
	Final         bool
	// Sent: the payout has gone to its provider, which can be asked about it.
	Sent bool
	// Reversed: paid, but the provider later reported the money came back.
	Reversed bool
	// Unpaid: ended without paying anything, as far as anyone knows, so
	// that creating it again cannot pay twice.
	Unpaid bool
	// EndedWhy says in people's words how an unpaid payout ended, when its
	// provider gave no words of its own (a Kibramoa customer cancelling in
	// the cashier, say).
	EndedWhy string
	// Contradicted: ended unpaid, but the provider later reported it paid.
	Contradicted bool
	// SettledPaid says who settled the payout as paid by hand, and why:
	// no provider ever said so.
	SettledPaid        string
	Amount             string
	Reference          string
	BeneficiaryName    string
	BeneficiaryAccount string
	BeneficiaryCountry string
	ProviderID         string
	PaymentID          string
	ProviderReference  string
	RawStatus          string
	ErrorCode          string
	ErrorMessage       string
	CashierURL         string
	// Withheld says the viewer may not see the cashier link, nor the
	// provider requests and answers, which carry it: another agent's payout.
	Withheld bool
	// Provider names the provider, for links (ProviderTitle is for people).
	Provider string
	// PayoutOption is what the customer picked in Kibramoa's cashier.
	PayoutOption string
	CreatedBy    string
	CreatedAt    time.Time
	NextCheckAt  time.Time
	// AsOf is when the page was drawn: a page left open, or one whose
	// polling stopped, says how old what it shows is.
	AsOf time.Time
	// Version identifies what the polled parts show, AsOf aside: polling
	// sends it back, and a poll that finds the same is answered with no
	// content, so that the page is not redrawn under the reader (focus,
	// open details and a screen reader's place would be lost).
	Version string
	// StatusSaid tells screen readers, through a live region, of a status
	// that changed while the page was open.
	StatusSaid string
	// Notice is the message the page was opened with (?notice=, named by
	// NoticeName), about what was just done: "Payout created", say.
	Notice     views.Flash
	NoticeName string
	// Details are the submitted form values, account numbers masked.
	Details []Detail
	// Timeline merges the payout's audit events and provider exchanges.
	Timeline []TimelineItem
	// CanResolve: a manager may settle this unknown outcome by hand.
	CanResolve bool
	// ResolveRefused says why a manager may not settle this unknown
	// outcome (they created the payout); empty otherwise.
	ResolveRefused string
	// Resolve holds the resolve form's values and errors.
	ResolveOutcome string
	ResolveReason  string
	ResolveErrors  map[string]string
	Approval       Approval
}

// Decides reports whether the page offers its viewer a decision: approving,
// rejecting or withdrawing the payout, or settling its outcome by hand.
// Such forms stay out of the polled parts, which would wipe what is typed.
func (p ShowPage) Decides() bool { return p.Approval.Decides() || p.CanResolve }

// NoticeShown reports whether the page shows its Notice. A success told
// on opening is taken back once the payout's status says otherwise (its
// outcome unknown, ended unpaid, or paid and then reversed): a green
// "created and queued" above "Outcome unknown" reads as if all went well.
func (p ShowPage) NoticeShown() bool {
	if p.Notice.Message == "" {
		return false
	}
	return p.Notice.Kind != "success" || !(p.Status == "unknown" || p.Unpaid || p.Reversed)
}

// Refused reports whether a reason or a decision sent from the page was
// refused.
func (p ShowPage) Refused() bool {
	return p.Approval.Error != "" || p.Approval.ReasonError != "" || len(p.ResolveErrors) > 0
}

// CashierShown reports whether the page offers the Kibramoa cashier: its
// link is known and the customer may still use it.
func (p ShowPage) CashierShown() bool {
	return p.CashierURL != "" && (p.Status == "awaiting_customer" || p.Status == "unknown")
}

// Decides reports whether the approval card holds a form for the viewer:
// approve or reject, or withdraw.
func (a Approval) Decides() bool { return a.CanDecide || a.CanWithdraw }

// Approval is the payout's maker-checker state as the viewer sees it.
type Approval struct {
	// Pending: the payout waits for approval.
	Pending bool
	// CanDecide: the viewer is a manager and not the payout's creator.
	CanDecide bool
	Own       bool
	// CanWithdraw: the viewer created the payout and may take it back.
	CanWithdraw bool
	// Hash is the hash of what this page shows, posted with the approval.
	Hash      string
	Why       string
	ExpiresAt time.Time
	// Error and Reason are the decision form's message and typed reason;
	// ReasonError is what is wrong with that reason.
	Error       string
	Reason      string
	ReasonError string
	// ApprovedBy and ApprovedAt are set once approved.
	ApprovedBy string
	ApprovedAt time.Time
}

// ApprovalRow is one payout in the approvals inbox.
type ApprovalRow struct {
	ID        int64
	CreatedAt time.Time
	ExpiresAt time.Time
	Provider  string
	// Sandbox marks a provider served by the sandbox: no money moves.
	Sandbox     bool
	Amount      string
	Beneficiary string
	Account     string
	CreatedBy   string
	Own         bool
	Why         string
}

// ApprovalsPage is the inbox of payouts waiting for approval.
type ApprovalsPage struct {
	Rows []ApprovalRow
	// NextURL continues the inbox with the payouts that came in later.
	NextURL string
	// CursorError says the page's link was damaged; nothing is listed.
	CursorError string
}

// Detail is one labelled value.
type Detail struct {
	Label string
	Value string
}

// TimelineItem is an audit event or a provider exchange.
type TimelineItem struct {
	At      time.Time
	Title   string
	Who     string
	Summary string
	// Payload is a request or answer body, shown folded.
	Request  string
	Response string
	// Exchange is the provider exchange they are from, which names the
	// fold: polling keeps it as the reader left it.
	Exchange int64
	Outcome  string
}
