package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"payoutdesk/db"
	"payoutdesk/providers"
)

// TestBrowserApprovalJourney is the maker-checker journey in a real browser:
// an agent creates a FedaPay payout above the approval threshold, a manager
// approves it from the approvals inbox and watches it get paid, then finds
// the whole story in the audit log and exports it as CSV.
//
// The agent and the manager each need their own cookie jar. The agent uses
// the browser's first tab (default browser context); the manager uses a tab
// in a second browser context (chromedp.WithNewBrowserContext, like an
// incognito profile), which shares no cookies with the first. Both stay
// signed in at once, so the agent's tab can keep polling its payout page
// while the manager works, which signing out and in again would not allow.
func TestBrowserApprovalJourney(t *testing.T) {
	began := time.Now()
	ts := newTestServer(t)
	agent := newBrowser(t)
	manager := newBrowserContextTab(t, agent)

	form := bigFedaPay(ts)
	amount := wantAmount(t, form.Get("amount"), form.Get("currency"))
	if amount == "" {
		t.FailNow()
	}
	var id int64
	var path string // /payouts/{id}

	if !t.Run("agent creates the large payout", func(t *testing.T) {
		signInInBrowser(t, agent, ts, "agent@example.com", db.RoleAgent)
		step(t, agent, "open New payout from the navigation",
			chromedp.Click(chromedp.CSS(`nav.nav a[href="/payouts/new"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="pick-fedapay"]`)),
		)
		step(t, agent, "pick FedaPay",
			chromedp.Click(chromedp.CSS(`[data-testid="pick-fedapay"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="payout-form"]`)),
		)
		id = submitPayoutForm(t, agent, ts, providers.FedaPay, form)
		path = "/payouts/" + strconv.FormatInt(id, 10)
		t.Logf("payout %d created", id)

		if got := attrOf(t, agent, `[data-testid="status"]`, "data-status"); got != string(db.StatusPendingApproval) {
			t.Errorf("the new payout's page shows data-status=%q, want pending_approval; %s", got, pageDiag(agent))
		}
		if got := textOf(t, agent, `[data-testid="status"]`); got != "waiting for approval" {
			t.Errorf("the status badge reads %q, want %q", got, "waiting for approval")
		}
		if got := textOf(t, agent, `[data-testid="flash"]`); !strings.Contains(got, "needs a manager's approval") {
			t.Errorf("the agent is told %q, want the message that the payout needs a manager's approval", got)
		}
		if got := textOf(t, agent, `[data-testid="payout-amount"]`); got != amount {
			t.Errorf("the payout page shows the amount %q, want %q", got, amount)
		}
		if got := textOf(t, agent, `[data-testid="approval"]`); !strings.Contains(got, "This payout needs a second person") {
			t.Errorf("the agent's approval card reads %q, want it to say the payout needs a second person", got)
		}
		if got := textOf(t, agent, `[data-testid="approve"]`); got != notOnPage {
			t.Errorf("the agent is offered an approve button (%q)", got)
		}
	}) {
		return
	}

	if !t.Run("manager approves it from the inbox", func(t *testing.T) {
		signInInBrowser(t, manager, ts, "manager@example.com", db.RoleManager)
		if got := textOf(t, manager, `[data-testid="count/approvals"]`); got != "1" {
			t.Errorf("the manager's navigation shows the approvals count %q, want 1", got)
		}
		row := `[data-testid="approval-` + strconv.FormatInt(id, 10) + `"]`
		step(t, manager, "open Approvals from the navigation",
			chromedp.Click(chromedp.CSS(`nav.nav a[href="/approvals"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="approvals"], [data-testid="no-approvals"]`)),
		)
		if got := textOf(t, manager, row); got == notOnPage {
			t.Fatalf("payout %d is not in the approvals inbox, which shows: %q", id, textOf(t, manager, `main`))
		} else if !strings.Contains(got, amount) || !strings.Contains(got, "agent@example.com") {
			t.Errorf("the inbox row of payout %d reads %q, want the amount %s and the creator agent@example.com", id, got, amount)
		}
		step(t, manager, "click Review",
			chromedp.Click(chromedp.CSS(row+` [data-testid="review"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="approval"]`)),
		)
		if loc := value(t, manager, "location", chromedp.Location()); loc != ts.URL+path {
			t.Fatalf("Review led to %s, want %s%s", loc, ts.URL, path)
		}
		if got := textOf(t, manager, `[data-testid="payout-amount"]`); got != amount {
			t.Errorf("the page the manager approves shows the amount %q, want exactly %q", got, amount)
		}
		card := textOf(t, manager, `[data-testid="approval"]`)
		if !strings.Contains(card, "above the approval threshold") || !strings.Contains(card, "You approve exactly what this card shows") {
			t.Errorf("the approval card reads %q, want why it needs approval and what is approved", card)
		}
		if got := textOf(t, manager, `[data-testid="approve"]`); got == notOnPage {
			t.Fatalf("the manager is offered no approve button; the approval card reads %q", card)
		}

		step(t, manager, "click Approve",
			chromedp.Click(chromedp.CSS(`[data-testid="approve"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="approved-by"], [data-testid="approval-error"]`)),
		)
		if got := textOf(t, manager, `[data-testid="approval-error"]`); got != notOnPage {
			t.Fatalf("the approval was refused: %q", got)
		}
		if got, want := textOf(t, manager, `[data-testid="flash"]`), fmt.Sprintf("Payout %d: Approved. The payout is queued for sending.", id); got != want {
			t.Errorf("after approving, the page says %q, want %q", got, want)
		}
		if loc := value(t, manager, "location", chromedp.Location()); payoutIDFromURL(ts, loc) != id {
			t.Fatalf("after approving, the manager is on %s, want the page of payout %d", loc, id)
		}
		// A full reload would drop this mark: it proves the page reaches
		// paid through htmx polling, not by navigation.
		step(t, manager, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__approvalPageMark = true`))
		first := attrOf(t, manager, `[data-testid="status"]`, "data-status")
		t.Logf("after approval the payout page first showed %s", first)
		if first != string(db.StatusPaid) && !value(t, manager, "htmx", chromedp.Evaluate[bool](`typeof window.htmx === "object"`)) {
			t.Errorf("htmx is not loaded on the payout page, so it cannot poll; %s", pageDiag(manager))
		}
		waitPageStatus(t, manager, db.StatusPaid)
		if !value(t, manager, "page mark", chromedp.Evaluate[bool](`window.__approvalPageMark === true`)) {
			t.Errorf("the payout page was reloaded to show paid; it should update in place by polling")
		}
		if got := textOf(t, manager, `[data-testid="approved-by"]`); !strings.Contains(got, "Approved by manager@example.com") {
			t.Errorf("the paid payout's approval line reads %q, want it approved by manager@example.com", got)
		}
		if polls := value(t, manager, "polling", chromedp.AttributeValue(chromedp.CSS(`#live`), "hx-trigger")); polls.Exists {
			t.Errorf("the paid payout's page still polls (hx-trigger=%q)", polls.Value)
		}
		// The agent's tab, left open on the payout, follows it too.
		waitPageStatus(t, agent, db.StatusPaid)
		if got := textOf(t, agent, `[data-testid="approved-by"]`); !strings.Contains(got, "manager@example.com") {
			t.Errorf("the agent's payout page says %q about its approval, want manager@example.com", got)
		}
	}) {
		return
	}

	// The table of the audit log filtered on the payout, newest first.
	var listed []auditTableRow
	if !t.Run("manager finds the story in the audit log", func(t *testing.T) {
		step(t, manager, "open the audit log from the navigation",
			chromedp.Click(chromedp.CSS(`nav.nav a[href="/audit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="audit-filters"]`)),
		)
		ids := strconv.FormatInt(id, 10)
		step(t, manager, "filter by payout "+ids,
			chromedp.Evaluate[chromedp.Void](`document.getElementById("f-payout").value = ""`),
			chromedp.SendKeys(chromedp.CSS(`#f-payout`), ids),
			chromedp.Click(chromedp.CSS(`[data-testid="audit-filters"] button[type="submit"]`)),
			// The value attribute is the server's rendering of the filter:
			// it is there only once the filtered page has loaded.
			chromedp.WaitVisible(chromedp.CSS(`#f-payout[value="`+ids+`"]`)),
		)
		if loc := value(t, manager, "location", chromedp.Location()); !strings.Contains(loc, "payout="+ids) {
			t.Errorf("the filtered audit log is at %s, want a payout=%s filter in its URL", loc, ids)
		}
		if got := textOf(t, manager, `[data-testid="filter-errors"]`); got != notOnPage {
			t.Errorf("the audit log refused its filters: %q", got)
		}
		listed = auditTable(t, manager)
		t.Logf("the audit log lists for payout %d: %s", id, describeRows(listed))
		checkPayoutStory(t, ts, id, listed)

		approved := rowWith(listed, "payout.approved")
		if approved == nil {
			t.FailNow() // reported by checkPayoutStory
		}
		seq := strconv.FormatInt(approved.Seq, 10)
		step(t, manager, "open the payout.approved event",
			chromedp.Click(chromedp.CSS(`[data-testid="event-`+seq+`"] a[href="/audit/`+seq+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="event-action"]`)),
		)
		if got := textOf(t, manager, `[data-testid="event-action"]`); got != "payout.approved" {
			t.Fatalf("event %s's page shows the action %q, want payout.approved", seq, got)
		}
		if got := textOf(t, manager, `[data-testid="event-actor"]`); !strings.Contains(got, "manager@example.com") {
			t.Errorf("the approval event's actor reads %q, want manager@example.com", got)
		}
		if got := attrOf(t, manager, `[data-testid="payout-link"]`, "href"); got != path {
			t.Errorf("the approval event links to %q, want the payout %s", got, path)
		}
		// Each cell as its recorded value, then the label under it if any.
		diff := value(t, manager, "diff", chromedp.Evaluate[[][]string](
			`[...document.querySelectorAll('[data-testid="diff"] tbody tr')].map(tr => [...tr.cells].flatMap(c =>
				[c.firstChild ? c.firstChild.textContent.trim() : "", c.querySelector('[data-testid="diff-label"]')?.textContent.trim() ?? ""]))`))
		if !slices.ContainsFunc(diff, func(r []string) bool {
			return slices.Equal(r, []string{"status", "", string(db.StatusPendingApproval), db.StatusPendingApproval.Label(), string(db.StatusQueued), ""})
		}) {
			t.Errorf("the approval event's diff is %q, want status pending_approval (%s) → queued", diff, db.StatusPendingApproval.Label())
		}
		if got := textOf(t, manager, `[data-testid="event-title"]`); got != "Approved" {
			t.Errorf("event %s's action is titled %q, want Approved", seq, got)
		}
	}) {
		return
	}

	if !t.Run("manager exports the filtered log as CSV", func(t *testing.T) {
		ids := strconv.FormatInt(id, 10)
		step(t, manager, "follow the event's link to its payout's audit events",
			chromedp.Click(chromedp.CSS(`a[href="/audit?payout=`+ids+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#f-payout[value="`+ids+`"]`)),
		)
		shown := auditTable(t, manager)
		if got, want := describeRows(withoutViews(shown)), describeRows(withoutViews(listed)); got != want {
			t.Errorf("the payout's audit events changed between two views:\nfirst  %s\nsecond %s", want, got)
		}
		if got := textOf(t, manager, `[data-testid="next-page"]`); got != notOnPage {
			t.Errorf("the payout's events do not fit on one page; this test compares one page with the export")
		}
		href := attrOf(t, manager, `[data-testid="export-csv"]`, "href")
		if !strings.HasPrefix(href, "/audit/export?") || !strings.Contains(href, "format=csv") || !strings.Contains(href, "payout="+ids) {
			t.Fatalf("the Export CSV link is %q, want /audit/export with format=csv and payout=%s", href, ids)
		}
		// Headless Chromium does not easily save downloads: fetch the link
		// from the page instead, with the manager's session cookie, as the
		// download would.
		res := value(t, manager, "fetch the CSV export", chromedp.Evaluate[fetchedExport](`fetch(`+strconv.Quote(href)+`, {credentials: "same-origin"})
			.then(async r => ({status: r.status, type: r.headers.get("Content-Type") || "", disposition: r.headers.get("Content-Disposition") || "", body: await r.text()}))`,
			chromedp.EvalAwaitPromise))
		if res.Status != 200 || res.Type != "text/csv; charset=utf-8" || !strings.Contains(res.Disposition, "attachment") {
			t.Fatalf("the export answered %d, %q, %q; body: %.300s", res.Status, res.Type, res.Disposition, res.Body)
		}
		records, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
		if err != nil {
			t.Fatalf("the export is not valid CSV: %v; body: %.500s", err, res.Body)
		}
		if len(records) == 0 {
			t.Fatal("the CSV export is empty, without even a header")
		}
		col := map[string]int{}
		for i, name := range records[0] {
			col[name] = i
		}
		for _, name := range []string{"seq", "at", "actor_email", "action", "target_type", "target_id", "hash"} {
			if _, ok := col[name]; !ok {
				t.Fatalf("the CSV header %q has no column %q", records[0], name)
			}
		}
		var exported []auditTableRow
		for i, rec := range records[1:] {
			if len(rec) != len(records[0]) {
				t.Fatalf("CSV line %d has %d cells, the header %d", i+2, len(rec), len(records[0]))
			}
			if rec[col["target_type"]] != "payout" || rec[col["target_id"]] != ids {
				t.Errorf("CSV line %d is about %s %s, want only payout %s", i+2, rec[col["target_type"]], rec[col["target_id"]], ids)
			}
			seq, _ := strconv.ParseInt(rec[col["seq"]], 10, 64)
			exported = append(exported, auditTableRow{Seq: seq, Actor: rec[col["actor_email"]], Action: rec[col["action"]]})
		}
		// One line per listed event, in the same order (newest first); the
		// manager's own audit.viewed events are not the payout's story.
		if got, want := seqsOf(withoutViews(exported)), seqsOf(withoutViews(shown)); !slices.Equal(got, want) {
			t.Errorf("the CSV has %d event lines %v, the page listed %d %v:\nCSV  %s\npage %s",
				len(got), got, len(want), want, describeRows(withoutViews(exported)), describeRows(withoutViews(shown)))
		}

		var mine []db.Event
		for _, e := range ts.forT(t).events("audit.exported") {
			if e.Details["filter"] == "payout="+ids+"&views=hidden" {
				mine = append(mine, e)
			}
		}
		if len(mine) != 1 {
			t.Errorf("%d audit.exported events for the filter payout=%s, want 1 (all exports: %+v)", len(mine), ids, ts.forT(t).events("audit.exported"))
		} else if e := mine[0]; e.Actor.Email != "manager@example.com" || e.Details["format"] != "csv" {
			t.Errorf("the export is audited as by %q in format %v, want by manager@example.com in csv", e.Actor.Email, e.Details["format"])
		}
	}) {
		return
	}

	t.Run("database and provider agree", func(t *testing.T) {
		p, err := db.NewPayouts(ts.DB).Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != db.StatusPaid {
			t.Errorf("payout %d is stored as %s, want paid", id, p.Status)
		}
		if p.ApprovedBy != ts.Users[db.RoleManager].ID || p.ApprovedByEmail != "manager@example.com" || p.ApprovalHash == "" {
			t.Errorf("payout %d is stored as approved by %d %q (hash %q), want the manager %d", id, p.ApprovedBy, p.ApprovedByEmail, p.ApprovalHash, ts.Users[db.RoleManager].ID)
		}
		if p.CreatedBy != ts.Users[db.RoleAgent].ID {
			t.Errorf("payout %d is stored as created by user %d, want the agent %d", id, p.CreatedBy, ts.Users[db.RoleAgent].ID)
		}
		if n := ts.App.Sandbox().Count(providers.FedaPay, "payout created"); n != 1 {
			t.Errorf("the FedaPay sandbox saw %d payouts created, want exactly 1", n)
		}
	})
	t.Logf("journey took %s", time.Since(began).Round(time.Millisecond))
}

// notOnPage is what textOf and attrOf return for an element that is not there.
const notOnPage = "(not on the page)"

// newBrowserContextTab opens a tab in a new browser context of parent's
// browser: its own cookies, so a second user can be signed in at once.
func newBrowserContextTab(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel) // runs before newBrowser's clean-up stops the browser
	// The first run creates the browser context and the tab.
	attach(t, ctx, "a tab in a new browser context")
	return ctx
}

// signInInBrowser signs in through the login page and checks who the
// dashboard says is signed in.
func signInInBrowser(t *testing.T, ctx context.Context, ts *testServer, email, role string) {
	t.Helper()
	step(t, ctx, "open the login page",
		chromedp.Navigate(ts.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
	)
	signInOnLoginPage(t, ctx, email, role)
}

// signInOnLoginPage signs in through the login page the browser shows, and
// checks who the page it lands on says is signed in.
func signInOnLoginPage(t *testing.T, ctx context.Context, email, role string) {
	t.Helper()
	step(t, ctx, "sign in as "+email,
		chromedp.SendKeys(chromedp.CSS(`#f-email`), email),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), testPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="dashboard-email"], [data-testid="flash"]`)),
	)
	if got, want := textOf(t, ctx, `[data-testid="whoami"]`), email+" · "+role; got != want {
		t.Fatalf("after signing in as %s the page shows %q signed in, want %q; flash %q", email, got, want, textOf(t, ctx, `[data-testid="flash"]`))
	}
}

// textOf returns the trimmed text of the first element matching sel, or
// notOnPage, without waiting: for checks whose failure should say what the
// page shows.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return value(t, ctx, "read "+sel, chromedp.Evaluate[string](`(() => {
		const e = document.querySelector(`+strconv.Quote(sel)+`);
		return e ? e.textContent.trim().replace(/\s+/g, " ") : `+strconv.Quote(notOnPage)+`;
	})()`))
}

// attrOf returns attribute name of the first element matching sel, or notOnPage,
// without waiting.
func attrOf(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	return value(t, ctx, "read "+name+" of "+sel, chromedp.Evaluate[string](`(() => {
		const e = document.querySelector(`+strconv.Quote(sel)+`);
		const v = e && e.getAttribute(`+strconv.Quote(name)+`);
		return v === null ? `+strconv.Quote(notOnPage)+` : v;
	})()`))
}

// auditTableRow is a row of the audit log's table (or a line of its export).
type auditTableRow struct {
	Seq     int64  `json:"seq"`
	Actor   string `json:"actor"`
	Action  string `json:"action"`
	Target  string `json:"target"`
	Summary string `json:"summary"`
}

// auditTable reads the rows of the audit log's table on the page.
func auditTable(t *testing.T, ctx context.Context) []auditTableRow {
	t.Helper()
	return value(t, ctx, "read the audit table", chromedp.Evaluate[[]auditTableRow](
		`[...document.querySelectorAll('[data-testid="events"] tbody tr')].map(tr => {
			const text = e => e ? e.textContent.trim().replace(/\s+/g, " ") : "";
			const part = id => text(tr.querySelector('[data-testid="' + id + '"]'));
			return {seq: Number(tr.getAttribute("data-testid").replace("event-", "")), actor: text(tr.cells[2]),
				action: part("row-action"), target: part("row-target"), summary: part("row-summary")};
		})`))
}

// checkPayoutStory checks that the rows, newest first, tell payout id's
// story: created by the agent, approved by the manager, sent, paid; and
// that they are all of its events.
func checkPayoutStory(t *testing.T, ts *testServer, id int64, rows []auditTableRow) {
	t.Helper()
	story := withoutViews(rows)
	if len(story) == 0 {
		t.Fatalf("the audit log filtered by payout %d lists no events", id)
	}
	for i, r := range rows {
		if i > 0 && r.Seq >= rows[i-1].Seq {
			t.Errorf("the audit log is not newest first: event %d after %d", r.Seq, rows[i-1].Seq)
		}
	}
	for _, r := range story {
		if r.Target != "payout "+strconv.FormatInt(id, 10) {
			t.Errorf("the audit log filtered by payout %d lists event %d (%s) about %q", id, r.Seq, r.Action, r.Target)
		}
	}
	var seqs []int64
	// The summaries name statuses as the payout pages do, not by code.
	for _, want := range []struct{ action, actor, summary string }{
		{"payout.created", "agent@example.com", "Created"},
		{"payout.approved", "manager@example.com", "Approved · waiting for approval → queued"},
		{"payout.submitting", "", "Sending started · queued → sending"},
		{"payout.submitted", "", ""},
	} {
		r := rowWith(story, want.action)
		switch {
		case r == nil:
			t.Errorf("the audit log of payout %d has no %s event: %s", id, want.action, describeRows(story))
			continue
		case want.actor != "" && r.Actor != want.actor:
			t.Errorf("the %s event is by %q, want %s", want.action, r.Actor, want.actor)
		case want.summary != "" && !strings.HasPrefix(r.Summary, want.summary):
			t.Errorf("the %s event's summary reads %q, want it to start %q", want.action, r.Summary, want.summary)
		}
		seqs = append(seqs, r.Seq)
	}
	paid := slices.IndexFunc(story, func(r auditTableRow) bool { return strings.HasSuffix(r.Summary, "→ paid") })
	if paid < 0 {
		t.Errorf("the audit log of payout %d shows no status change to paid: %s", id, describeRows(story))
	} else {
		seqs = append(seqs, story[paid].Seq)
	}
	// Created, approved, then claimed for sending; after that the worker's
	// payout.submitted and the provider's webhooks race (a webhook can be
	// recorded before the submit's answer is), so they are not ordered.
	if len(seqs) == 5 && !(seqs[0] < seqs[1] && seqs[1] < seqs[2] && seqs[2] < seqs[3] && seqs[2] < seqs[4]) {
		t.Errorf("the payout's events are out of order (created, approved, submitting, then submitted and paid): seqs %v; %s", seqs, describeRows(story))
	}
	// Everything the database holds about the payout is listed.
	all, err := db.NewAudit(ts.DB).ByTarget(context.Background(), "payout", strconv.FormatInt(id, 10))
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for i := len(all) - 1; i >= 0; i-- {
		want = append(want, all[i].Seq)
	}
	if got := seqsOf(story); !slices.Equal(got, want) {
		t.Errorf("the audit log lists events %v for payout %d, the database holds %v", got, id, want)
	}
}

// rowWith returns the oldest row with action, or nil.
func rowWith(rows []auditTableRow, action string) *auditTableRow {
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Action == action {
			return &rows[i]
		}
	}
	return nil
}

// withoutViews leaves out the audit.viewed events: the manager's own
// viewing of the log.
func withoutViews(rows []auditTableRow) []auditTableRow {
	var out []auditTableRow
	for _, r := range rows {
		if r.Action != "audit.viewed" {
			out = append(out, r)
		}
	}
	return out
}

func seqsOf(rows []auditTableRow) []int64 {
	out := make([]int64, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.Seq)
	}
	return out
}

func describeRows(rows []auditTableRow) string {
	parts := make([]string, 0, len(rows))
	for _, r := range rows {
		s := strconv.FormatInt(r.Seq, 10) + " " + r.Action
		if r.Actor != "" {
			s += " by " + r.Actor
		}
		if r.Summary != "" {
			s += " (" + r.Summary + ")"
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// fetchedExport is what the page's fetch of a URL answered.
type fetchedExport struct {
	Status      int    `json:"status"`
	Type        string `json:"type"`
	Disposition string `json:"disposition"`
	Body        string `json:"body"`
}

// pendingPayoutInBrowser signs the agent in, in a new browser, and submits
// a FedaPay payout above the approval threshold, leaving its page open as it
// waits for a manager.
func pendingPayoutInBrowser(t *testing.T, ts *testServer) context.Context {
	t.Helper()
	agent := newBrowser(t)
	signInInBrowser(t, agent, ts, "agent@example.com", db.RoleAgent)
	step(t, agent, "open the FedaPay form",
		chromedp.Navigate(ts.URL+"/payouts/new/fedapay"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="payout-form"]`)),
	)
	submitPayoutForm(t, agent, ts, providers.FedaPay, bigFedaPay(ts))
	return agent
}

// TestBrowserWithdrawReasonSurvivesPolling: the page polls its live parts
// every 2 s; the creator's withdraw form is not among them, so what they
// type stays.
func TestBrowserWithdrawReasonSurvivesPolling(t *testing.T) {
	ts := newTestServer(t)
	agent := pendingPayoutInBrowser(t, ts)
	step(t, agent, "open the withdraw form and type a reason",
		chromedp.Click(chromedp.CSS(`[data-testid="withdraw"] summary`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="withdraw"] textarea`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="withdraw"] textarea`), "wrong phone number typed"),
	)
	watchPolls(t, agent)
	waitPolls(t, agent, 2)
	got := value(t, agent, "reason", chromedp.Evaluate[string](`(document.querySelector('[data-testid="withdraw"] textarea') || {value: "<gone>"}).value`))
	open := value(t, agent, "open", chromedp.Evaluate[bool](`!!(document.querySelector('[data-testid="withdraw"]') || {}).open`))
	if got != "wrong phone number typed" || !open {
		t.Errorf("after polling the withdraw form holds %q, open %v", got, open)
	}
}

// TestBrowserUnchangedPollKeepsThePage: polls that find nothing new leave
// the page's live parts in place (a reader's focus and place with them),
// and only move its "Status as of" time on.
func TestBrowserUnchangedPollKeepsThePage(t *testing.T) {
	ts := newTestServer(t)
	// It waits for a manager: nothing changes.
	agent := pendingPayoutInBrowser(t, ts)
	step(t, agent, "mark the live parts",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="as-of"]`)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("live").dataset.kept = "1"`),
	)
	ts.Clock.Advance(time.Minute)
	// The clock goes on ticking: the last poll read it at some second
	// between now and the check below.
	low := ts.Clock.Now().UTC().Format("15:04:05") + " UTC"
	watchPolls(t, agent)
	waitPolls(t, agent, 2)
	kept := value(t, agent, "mark", chromedp.Evaluate[bool](`document.getElementById("live").dataset.kept === "1"`))
	asOf := value(t, agent, "as of", chromedp.Text(chromedp.CSS(`[data-testid="as-of"] time`)))
	high := ts.Clock.Now().UTC().Format("15:04:05") + " UTC"
	inRange := low <= asOf && asOf <= high
	if high < low { // past midnight
		inRange = asOf >= low || asOf <= high
	}
	if !kept || !inRange {
		t.Errorf("after unchanged polls the live parts were kept: %v, and say as of %q, want %s to %s", kept, asOf, low, high)
	}
}

// TestBrowserCashierCardKeepsFocusThroughPolling: an agent about to copy
// the cashier link keeps the focus on "Copy link" and the link selected
// while the page polls; polling used to redraw the card every 2 seconds.
func TestBrowserCashierCardKeepsFocusThroughPolling(t *testing.T) {
	ts := newTestServer(t)
	agent := newBrowser(t)
	signInInBrowser(t, agent, ts, "agent@example.com", db.RoleAgent)
	step(t, agent, "open the Kibramoa form",
		chromedp.Navigate(ts.URL+"/payouts/new/kibramoa"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="payout-form"]`)),
	)
	submitPayoutForm(t, agent, ts, providers.Kibramoa, validForms(ts)[providers.Kibramoa])
	step(t, agent, "focus Copy link once the cashier card is there",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="copy-cashier"]`)),
		chromedp.Focus(chromedp.CSS(`[data-testid="copy-cashier"]`)),
	)
	if !value(t, agent, "polling", chromedp.AttributeValue(chromedp.CSS(`#live`), "hx-trigger")).Exists {
		t.Fatal("the page waiting for the customer does not poll: the test proves nothing")
	}
	watchPolls(t, agent)
	waitPolls(t, agent, 2)
	focused := value(t, agent, "focus", chromedp.Evaluate[string](`document.activeElement ? (document.activeElement.dataset.testid || document.activeElement.tagName) : ""`))
	if focused != "copy-cashier" {
		t.Errorf("after polling the focus is on %q, want Copy link", focused)
	}
	// Where the clipboard refuses, Copy link selects the link and says how
	// to copy it.
	step(t, agent, "refuse the clipboard and copy",
		chromedp.Evaluate[chromedp.Void](`navigator.clipboard.writeText = () => Promise.reject(new Error("denied"))`),
		chromedp.Click(chromedp.CSS(`[data-testid="copy-cashier"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="copy-cashier"]`)),
	)
	time.Sleep(200 * time.Millisecond)
	said := value(t, agent, "button", chromedp.Text(chromedp.CSS(`[data-testid="copy-cashier"]`)))
	// Screen readers hear it once, from the live region beside the button.
	told := value(t, agent, "live region", chromedp.Evaluate[string](`document.querySelector('[data-testid="cashier"] [data-copy-said]').textContent`))
	if told != said || value(t, agent, "button live", chromedp.Evaluate[bool](`document.querySelector('[data-testid="copy-cashier"]').hasAttribute("aria-live")`)) {
		t.Errorf("the live region says %q while the button says %q (and the button must not be a live region itself)", told, said)
	}
	selected := value(t, agent, "selection", chromedp.Evaluate[bool](`(() => {
		const f = document.querySelector('[data-testid="cashier-link"]');
		return document.activeElement === f && f.selectionStart === 0 && f.selectionEnd === f.value.length && f.value !== "";
	})()`))
	if !strings.HasPrefix(said, "Selected: press Ctrl+C") || !selected {
		t.Errorf("with the clipboard refused, Copy link says %q and the link is selected: %v", said, selected)
	}
}

// TestBrowserOpenExchangeKeptThroughStatusChange: an agent reading a
// provider's answer in the timeline ("Request and answer" unfolded, the
// focus on it) keeps it unfolded and keeps the focus there when the
// payout's status changes and polling redraws the timeline; it used to
// fold, and the focus fell back to the top of the page.
func TestBrowserOpenExchangeKeptThroughStatusChange(t *testing.T) {
	ts := newTestServerWith(t, false)
	p := ts.seedPayout()
	payouts := db.NewPayouts(ts.DB)
	system := db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.status_changed"}
	sent := db.Change{To: db.StatusSubmitting, SubmittedAt: time.Now(), FromProvider: true}
	answered := db.Change{To: db.StatusProcessing, ProviderID: "po-1", RawStatus: "pending", FromProvider: true,
		Exchanges: []db.Exchange{{At: time.Now(), Op: "create", Method: "POST", URL: "https://provider.example/payouts",
			RequestBody: `{"amount":1000}`, Status: 201, ResponseBody: `{"id":"po-1","status":"pending"}`}}}
	for _, ch := range []db.Change{sent, answered} {
		if err := payouts.Change(t.Context(), p.ID, ch, system); err != nil {
			t.Fatal(err)
		}
	}
	agent := newBrowser(t)
	signInInBrowser(t, agent, ts, "agent@example.com", db.RoleAgent)
	step(t, agent, "open the payout and unfold the provider's answer",
		chromedp.Navigate(ts.URL+"/payouts/"+strconv.FormatInt(p.ID, 10)),
		chromedp.WaitVisible(chromedp.CSS(`#history details summary`)),
		chromedp.Click(chromedp.CSS(`#history details summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#history details pre`)),
	)
	if err := payouts.Change(t.Context(), p.ID, db.Change{To: db.StatusPaid, RawStatus: "completed", FromProvider: true}, system); err != nil {
		t.Fatal(err)
	}
	step(t, agent, "wait for the page to say the status changed",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="status"][data-status="paid"]`)))
	got := value(t, agent, "the timeline", chromedp.Evaluate[[]bool](`(() => {
		const d = document.querySelector("#history details");
		return [!!d && d.open, !!d && document.activeElement === d.querySelector("summary")];
	})()`))
	if !got[0] || !got[1] {
		t.Errorf("after the status changed, the provider's answer is unfolded: %v, and holds the focus: %v; want both", got[0], got[1])
	}
}
