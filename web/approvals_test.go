package web_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"payoutdesk/db"
	"payoutdesk/providers"
)

// bigFedaPay is a FedaPay payout above the default XOF approval threshold.
func bigFedaPay(ts *testServer) url.Values {
	return withValues(validForms(ts)[providers.FedaPay], map[string]string{"amount": "600000"})
}

// wantStoredMasked checks that FedaPay payout p, final, stores its phone
// number masked to its last digits, however it ended.
func wantStoredMasked(t *testing.T, p db.Payout) {
	t.Helper()
	if got := p.Fields["phone_number"]; got == "97808080" || !strings.HasPrefix(got, "•") || !strings.HasSuffix(got, "8080") {
		t.Errorf("payout %d, %s, stores phone number %q: want it masked to its last digits", p.ID, p.Status, got)
	}
}

func TestMakerChecker(t *testing.T) {
	ts := newTestServer(t)
	agent, manager, admin := ts.as(db.RoleAgent), ts.as(db.RoleManager), ts.as(db.RoleAdmin)

	// The form says where the threshold is before anything is submitted.
	form := agent.get("/payouts/new/" + string(providers.FedaPay)).doc(t)
	if hint := form.Find(`#f-amount-hint`).Text(); !strings.Contains(hint, "A manager must approve a payout above 500,000 XOF before it is sent.") {
		t.Errorf("the amount's hint is %q; want the approval threshold", hint)
	}
	// Over the threshold: it waits, and nothing reaches the provider.
	id := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	path := "/payouts/" + strconv.FormatInt(id, 10)
	page := agent.get(path + "?notice=pending").doc(t)
	if got := page.Find(`[data-testid="status"]`).Text(); strings.TrimSpace(got) != "waiting for approval" {
		t.Errorf("the agent sees %q, want waiting for approval", got)
	}
	if asOf, _ := page.Find(`[data-testid="as-of"] time`).Attr("datetime"); asOf == "" {
		t.Error("a payout still under way does not say when its status was read")
	}
	if !strings.Contains(page.Find(`[data-testid="flash"]`).Text(), "needs a manager's approval") {
		t.Error("the agent is not told the payout needs approval")
	}
	if page.Find(`[data-testid="approve"]`).Length() != 0 {
		t.Error("the agent is offered the approve button")
	}
	if page.Find(`[data-testid="approval-wait"]`).Length() != 1 || page.Find(`[data-testid="approval-own"]`).Length() != 0 {
		t.Error("the agent is not told that a manager will review it")
	}
	// Below it, the same provider sends at once.
	small := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), validForms(ts)[providers.FedaPay])
	ts.waitStatus(small, db.StatusPaid)
	if p, _ := db.NewPayouts(ts.DB).Get(t.Context(), id); p.Status != db.StatusPendingApproval {
		t.Fatalf("the big payout is %s, want still pending_approval", p.Status)
	}
	if n := ts.App.Sandbox().Count(providers.FedaPay, "payout created"); n != 1 {
		t.Errorf("FedaPay saw %d payouts, want only the small one", n)
	}

	// The inbox and the navigation show it to managers.
	inbox := manager.get("/approvals")
	if inbox.doc(t).Find(`[data-testid="approval-`+strconv.FormatInt(id, 10)+`"]`).Length() != 1 {
		t.Error("the payout is not in the approvals inbox")
	}
	if got := inbox.doc(t).Find(`[data-testid="count/approvals"]`).Text(); got != "1" {
		t.Errorf("navigation count %q, want 1", got)
	}
	wantStatus(t, agent.get("/approvals"), http.StatusForbidden)

	// The manager sees what they are approving next to the button.
	decide := manager.get(path).doc(t)
	// The submitted details (operator, names, the masked number) too.
	if got := decide.Find(`[data-testid="approval-summary"]`).Text(); !strings.Contains(got, "600,000") || !strings.Contains(got, "XOF") ||
		!strings.Contains(got, "Koffi") || !strings.Contains(got, "MTN") || !strings.Contains(got, "•••• 8080") {
		t.Errorf("the approval card shows %q, want the amount and the submitted details", got)
	}

	// An agent cannot approve, whatever it posts.
	seen, _ := decide.Find(`input[name="seen"]`).Attr("value")
	wantStatus(t, agent.postForm(path+"/approve", url.Values{"seen": {seen}}), http.StatusForbidden)

	// Nobody approves their own payout: a manager's own large payout.
	own := manager.submit(providers.FedaPay, manager.openForm(providers.FedaPay), bigFedaPay(ts))
	ownPath := "/payouts/" + strconv.FormatInt(own, 10)
	ownPage := manager.get(ownPath).doc(t)
	if ownPage.Find(`[data-testid="approval-own"]`).Length() != 1 || ownPage.Find(`[data-testid="approve"]`).Length() != 0 {
		t.Error("a manager's own payout offers them the approve button")
	}
	ownSeen := admin.approveHash(own)
	r := manager.postForm(ownPath+"/approve", url.Values{"seen": {ownSeen}})
	wantStatus(t, r, http.StatusForbidden)
	if !strings.Contains(r.doc(t).Find(`[data-testid="approval-error"]`).Text(), "own payout") {
		t.Error("the refusal does not say why")
	}
	// A page answering a POST shows the navigation's counts too.
	// Their own is not counted for them: they cannot approve it.
	if got := r.doc(t).Find(`[data-testid="count/approvals"]`).Text(); got != "1" {
		t.Errorf("navigation count on the refusal %q, want 1 (the agent's, not the manager's own)", got)
	}
	if got := admin.get("/approvals").doc(t).Find(`[data-testid="count/approvals"]`).Text(); got != "2" {
		t.Errorf("another manager's navigation count %q, want 2", got)
	}
	// Another manager (here the admin) may.
	admin.approve(own)
	ts.waitStatus(own, db.StatusPaid)

	// An approval of details that changed since the page was opened is refused.
	if _, err := ts.DB.W.Exec(`UPDATE payouts SET fields = replace(fields, 'Koffi', 'Koffee') WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	r = manager.postForm(path+"/approve", url.Values{"seen": {seen}})
	wantStatus(t, r, http.StatusConflict)
	if p, _ := db.NewPayouts(ts.DB).Get(t.Context(), id); p.Status != db.StatusPendingApproval {
		t.Errorf("a stale approval moved the payout to %s", p.Status)
	}
	// Approved as now shown, it is sent. Text the form does not offer (a
	// crafted "note" with a NUL and a direction override) is not kept.
	r = manager.postForm(path+"/approve", url.Values{"seen": {manager.approveHash(id)}, "note": {"ok\x00nul\u202ex"}})
	wantStatus(t, r, http.StatusSeeOther)
	p := ts.waitStatus(id, db.StatusPaid)
	if p.ApprovedByEmail != "manager@example.com" || p.ApprovalHash == "" {
		t.Errorf("approval recorded as %q %q", p.ApprovedByEmail, p.ApprovalHash)
	}
	if got := agent.get(path).doc(t).Find(`[data-testid="approved-by"]`).Text(); !strings.Contains(got, "manager@example.com") {
		t.Errorf("the payout page says %q about its approval", got)
	}

	refused := ts.events("payout.approval_refused")
	if len(refused) != 2 || refused[0].Outcome != db.OutcomeFailure || !strings.Contains(refused[0].Reason, "own payout") || !strings.Contains(refused[1].Reason, "changed") {
		t.Errorf("refused approvals audited as %+v", refused)
	}
	approved := ts.events("payout.approved")
	if len(approved) != 2 || approved[1].Actor.Email != "manager@example.com" || approved[1].Details["approval_hash"] != p.ApprovalHash || approved[1].Reason != "" {
		t.Errorf("approvals audited as %+v", approved)
	}
	statuses, _ := ts.trail(id)
	if got := strings.Join(statuses, " "); got != "pending_approval queued submitting processing paid" {
		t.Errorf("statuses %q", got)
	}
}

// TestLateDecisionAudited: when another manager decided first, a second
// decision changes nothing, says so, and is audited as a failure.
func TestLateDecisionAudited(t *testing.T) {
	ts := newTestServer(t)
	agent, manager, admin := ts.as(db.RoleAgent), ts.as(db.RoleManager), ts.as(db.RoleAdmin)
	id := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	path := "/payouts/" + strconv.FormatInt(id, 10)
	seen := admin.approveHash(id)
	wantStatus(t, manager.postForm(path+"/reject", url.Values{"reason": {"Beneficiary flagged by compliance review"}}), http.StatusSeeOther)
	wantStatus(t, admin.postForm(path+"/approve", url.Values{"seen": {seen}}), http.StatusSeeOther)
	wantStatus(t, admin.postForm(path+"/reject", url.Values{"reason": {"Rejecting it as well, to be sure."}}), http.StatusSeeOther)
	if p, _ := db.NewPayouts(ts.DB).Get(t.Context(), id); p.Status != db.StatusRejected {
		t.Fatalf("the payout is %s, want rejected", p.Status)
	}
	for _, action := range []string{"payout.approved_too_late", "payout.rejected_too_late"} {
		late := ts.events(action)
		if len(late) != 1 || late[0].Outcome != db.OutcomeFailure || late[0].Actor.Email != "admin@example.com" || late[0].TargetID != strconv.FormatInt(id, 10) {
			t.Errorf("%s events = %+v, want one failure by the admin on the payout", action, late)
		}
		if len(late) == 1 && late[0].Details["problem"] != "it is rejected" {
			t.Errorf("%s says %q, want %q", action, late[0].Details["problem"], "it is rejected")
		}
	}
}

// TestDecisionOnMovedPayoutSaysSo: a reject or a settle-by-hand sent for a
// payout no longer waiting for it says so, whatever its reason: the page
// shows no form that a message about the reason could be next to.
func TestDecisionOnMovedPayoutSaysSo(t *testing.T) {
	ts := newTestServerWith(t, false)
	manager := ts.as(db.RoleManager)
	queued := ts.seedPayout()
	path := "/payouts/" + strconv.FormatInt(queued.ID, 10)
	tests := []struct {
		name, action string
		form         url.Values
		want         string
	}{
		{"reject, no reason", "/reject", nil, "not waiting for approval any more (it is queued)"},
		{"reject, short reason", "/reject", url.Values{"reason": {"no"}}, "not waiting for approval"},
		{"settle, no reason", "/resolve", url.Values{"outcome": {"paid"}}, "this payout is queued"},
		{"settle, no outcome", "/resolve", url.Values{"reason": {"Confirmed in the provider's dashboard."}}, "this payout is queued"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := manager.forT(t)
			r := c.postForm(path+tt.action, tt.form)
			wantStatus(t, r, see)
			wantLocation(t, r, path)
			if got := c.get(path).doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(got, tt.want) || !strings.Contains(got, "nothing was changed") {
				t.Errorf("the payout's page says %q, want %q and that nothing was changed", got, tt.want)
			}
		})
	}
	if p, _ := db.NewPayouts(ts.DB).Get(t.Context(), queued.ID); p.Status != db.StatusQueued {
		t.Errorf("the payout is %s, want queued still", p.Status)
	}
}

// TestRejectOwnPayout: as with approving, nobody rejects their own payout;
// the page offers no button for it, and the server refuses it, audited.
func TestRejectOwnPayout(t *testing.T) {
	ts := newTestServer(t)
	manager := ts.as(db.RoleManager)
	own := manager.submit(providers.FedaPay, manager.openForm(providers.FedaPay), bigFedaPay(ts))
	path := "/payouts/" + strconv.FormatInt(own, 10)
	if manager.get(path).doc(t).Find(`[data-testid="reject"]`).Length() != 0 {
		t.Error("a manager's own payout offers them the reject button")
	}
	r := manager.postForm(path+"/reject", url.Values{"reason": {"I would rather not send this one after all."}})
	wantStatus(t, r, http.StatusForbidden)
	if !strings.Contains(r.doc(t).Find(`[data-testid="approval-error"]`).Text(), "own payout") {
		t.Error("the refusal does not say why")
	}
	if p, _ := db.NewPayouts(ts.DB).Get(t.Context(), own); p.Status != db.StatusPendingApproval {
		t.Errorf("a refused rejection moved the payout to %s", p.Status)
	}
	refused := ts.events("payout.rejection_refused")
	if len(refused) != 1 || refused[0].Outcome != db.OutcomeFailure || !strings.Contains(refused[0].Reason, "own payout") ||
		refused[0].Actor.Email != "manager@example.com" {
		t.Errorf("refused rejections audited as %+v", refused)
	}
	if ev := ts.events("payout.rejected"); len(ev) != 0 {
		t.Errorf("rejections audited as %+v, want none", ev)
	}
}

// TestApprovalPagePolling: polling a payout page reads its live parts
// again, never the decision forms a manager may be typing in; once the
// decision is taken elsewhere, it sends the browser to the page afresh.
func TestApprovalPagePolling(t *testing.T) {
	ts := newTestServer(t)
	agent, manager, admin := ts.as(db.RoleAgent), ts.as(db.RoleManager), ts.as(db.RoleAdmin)
	id := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	path := "/payouts/" + strconv.FormatInt(id, 10)
	pollURL, _ := manager.get(path).doc(t).Find(`#live`).Attr("hx-get")
	if !strings.HasPrefix(pollURL, path+"?shown=pending_approval&v=pending_approval.") {
		t.Fatalf("the manager's page polls %q, want %s?shown=pending_approval&v=pending_approval.…", pollURL, path)
	}
	// A page drawn without a version (before versions) reads the parts.
	r := manager.poll(path+"?shown=pending_approval", nil)
	wantStatus(t, r, http.StatusOK)
	doc := r.doc(t)
	if doc.Find(`#live [data-testid="status"]`).Length() != 1 || doc.Find(`#history [data-testid="timeline"]`).Length() != 1 {
		t.Errorf("the poll lacks the status or the timeline: %.300s", r.Body)
	}
	if n := doc.Find(`textarea, [data-testid="approve"], [data-testid="approval"], nav`).Length(); n != 0 {
		t.Errorf("the poll holds %d decision forms or page chrome, want none: %.300s", n, r.Body)
	}

	admin.approve(id)
	r = manager.poll(pollURL, nil)
	wantStatus(t, r, http.StatusNoContent)
	// A redirect, a GET, not a reload: the polling page may be the answer
	// to a POST (a refused reason), which a reload would send again.
	if got := r.Header.Get("HX-Redirect"); got != path+"?notice=moved" {
		t.Errorf("once decided elsewhere, the poll answers HX-Redirect %q, want %s?notice=moved", got, path)
	}
	// The page it loads says why it was loaded again.
	if got := manager.get(path + "?notice=moved").doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(got, "moved on while its page was open") {
		t.Errorf("the page loaded again says %q, want why", got)
	}
	// The agent's page has no decision to drop: it follows in place.
	r = agent.poll(path, nil)
	wantStatus(t, r, http.StatusOK)
	if got := r.doc(t).Find(`#live [data-testid="approved-by"]`).Text(); !strings.Contains(got, "admin@example.com") {
		t.Errorf("the agent's poll says %q about the approval, want admin@example.com", got)
	}
}

// TestPollingLeavesAnUnchangedPageAlone: a poll that finds nothing new is
// answered with no content (the page is not redrawn under its reader) and
// the time it was read; once something changes, the parts come with a new
// version, and screen readers are told of the new status.
func TestPollingLeavesAnUnchangedPageAlone(t *testing.T) {
	ts := newTestServer(t)
	agent, admin := ts.as(db.RoleAgent), ts.as(db.RoleAdmin)
	id := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	path := "/payouts/" + strconv.FormatInt(id, 10)
	poll := func(target string) response { t.Helper(); return agent.poll(target, nil) }
	page := agent.get(path).doc(t)
	pollURL, _ := page.Find(`#live`).Attr("hx-get")
	_, version, ok := strings.Cut(pollURL, "&v=")
	if !ok || !strings.HasPrefix(version, "pending_approval.") {
		t.Fatalf("the agent's page polls %q, want a version of the pending payout", pollURL)
	}
	if said := page.Find(`[data-testid="status-said"]`); said.Length() != 1 || strings.TrimSpace(said.Text()) != "" {
		t.Errorf("a page just drawn has %d status announcements saying %q, want one, empty", said.Length(), said.Text())
	}
	for range 3 {
		ts.Clock.Advance(5 * time.Second)
		r := poll(pollURL)
		wantStatus(t, r, http.StatusNoContent)
		at, err := time.Parse(time.RFC3339, r.Header.Get("X-Status-As-Of"))
		if err != nil || !at.Equal(ts.Clock.Now().UTC().Truncate(time.Second)) {
			t.Errorf("an unchanged poll says it was read at %q (%v), want %s", r.Header.Get("X-Status-As-Of"), err, ts.Clock.Now().UTC().Format(time.RFC3339))
		}
	}

	// A page drawn before something else changed (same status, another
	// version) reads the parts, with nothing to announce.
	r := poll(path + "?shown=pending_approval&v=pending_approval.0123456789abcdef01234567")
	wantStatus(t, r, http.StatusOK)
	if said := r.doc(t).Find(`#status-said`).Text(); said != "" {
		t.Errorf("with the status unchanged the announcement says %q, want nothing", said)
	}

	// Approved, the payout leaves the agent's page without its withdraw
	// card: a page drawn with the old version, and no card, reads the parts.
	admin.approve(id)
	r = poll(path + "?v=" + version)
	wantStatus(t, r, http.StatusOK)
	doc := r.doc(t)
	next, _ := doc.Find(`#live`).Attr("hx-get")
	if _, v, _ := strings.Cut(next, "v="); v == "" || v == version {
		t.Errorf("after a change the parts poll %q, want a new version (was %q)", next, version)
	}
	if said := doc.Find(`#status-said`).Text(); !strings.HasPrefix(said, "Status changed: ") || strings.Contains(said, "waiting for approval") {
		t.Errorf("the status announcement says %q, want the new status", said)
	}
}

// approveHash reads the hash an approver's page carries.
func (c *client) approveHash(id int64) string {
	c.ts.t.Helper()
	seen, ok := c.get("/payouts/" + strconv.FormatInt(id, 10)).doc(c.ts.t).Find(`input[name="seen"]`).Attr("value")
	if !ok {
		c.ts.t.Fatalf("no approval form for payout %d", id)
	}
	return seen
}

func TestRejectAndExpire(t *testing.T) {
	ts := newTestServer(t)
	agent, manager := ts.as(db.RoleAgent), ts.as(db.RoleManager)
	a := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	b := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	path := "/payouts/" + strconv.FormatInt(a, 10)

	short := manager.postForm(path+"/reject", url.Values{"reason": {"too short"}})
	wantStatus(t, short, http.StatusUnprocessableEntity)
	field := short.doc(t).Find(`textarea#f-reason`)
	if short.doc(t).Find(`[data-testid="error-reason"]`).Text() == "" || field.AttrOr("aria-invalid", "") != "true" || field.Text() != "too short" {
		t.Errorf("a too-short reason is not marked at its field, with the text kept")
	}
	if title := short.doc(t).Find("title").Text(); !strings.HasPrefix(title, "Error: Payout "+strconv.FormatInt(a, 10)) {
		t.Errorf("the refused reason's page is titled %q, want it to say Error first", title)
	}
	// A reason is shown on the payout and kept in the audit log: it must be
	// the plain text it reads as.
	for bad, want := range map[string]string{
		"\xff\xfe\xff\xfe\xff\xfe\xff\xfe\xff\xfe\xff": "not text",
		"Compliance said no\u0085, see ticket":         "control characters",
		"Approved\u202e by compliance review":          "invisible characters",
	} {
		r := manager.postForm(path+"/reject", url.Values{"reason": {bad}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if msg := r.doc(t).Find(`[data-testid="error-reason"]`).Text(); !strings.Contains(msg, want) {
			t.Errorf("reason %q: message %q, want it to say %q", bad, msg, want)
		}
	}
	reason := "The customer's account is under review by compliance."
	wantStatus(t, manager.postForm(path+"/reject", url.Values{"reason": {reason}}), http.StatusSeeOther)
	p := ts.waitStatus(a, db.StatusRejected)
	if !strings.Contains(p.ErrorMessage, reason) {
		t.Errorf("the rejected payout says %q", p.ErrorMessage)
	}
	page := agent.get(path).doc(t)
	if got := page.Find(`[data-testid="provider-error"]`).Text(); !strings.Contains(got, reason) {
		t.Errorf("the agent sees %q, want the reason", got)
	}
	// Under a heading that does not make it the provider's word.
	if page.Find(`[data-testid="not-sent"]`).Length() != 1 {
		t.Error("the rejected payout's card does not say it was never sent")
	}
	wantStoredMasked(t, p)
	if ev := ts.events("payout.rejected"); len(ev) != 1 || ev[0].Reason != reason {
		t.Errorf("rejections audited as %+v", ev)
	}

	// 72 hours later the other one has expired on its own.
	ts.Clock.Advance(73 * time.Hour)
	expired := ts.waitStatus(b, db.StatusExpired)
	wantStoredMasked(t, expired)
	if want := "Expired: nobody approved it within 72 hours."; expired.ErrorMessage != want {
		t.Errorf("the expired payout says %q, want %q", expired.ErrorMessage, want)
	}
	// The timeline shows the event's reason beside the payout's message:
	// both say the time alike.
	if ev := ts.events("payout.expired"); len(ev) != 1 || ev[0].Actor.Type != db.ActorSystem || ev[0].Reason != "not approved within 72 hours" {
		t.Errorf("expiry audited as %+v", ev)
	}
	if n := ts.App.Sandbox().Count(providers.FedaPay, "payout created"); n != 0 {
		t.Errorf("FedaPay saw %d payouts, want none", n)
	}
}

// A payout found past its approval time by a decision, before the expiry
// job got to it, expires: neither approved, rejected nor withdrawn.
func TestDecisionsPastTheApprovalTimeExpire(t *testing.T) {
	ts := newTestServerWith(t, false) // no expiry job
	agent, manager := ts.as(db.RoleAgent), ts.as(db.RoleManager)
	ids := map[string]int64{}
	for _, action := range []string{"approve", "reject", "withdraw"} {
		ids[action] = agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	}
	seen := manager.approveHash(ids["approve"])
	ts.Clock.Advance(73 * time.Hour)
	agent, manager = ts.as(db.RoleAgent), ts.as(db.RoleManager) // signed in again
	reason := url.Values{"reason": {"Decided long after it was asked for."}}
	for action, c := range map[string]*client{"approve": manager, "reject": manager, "withdraw": agent} {
		id := ids[action]
		form := reason
		if action == "approve" {
			form = url.Values{"seen": {seen}}
		}
		path := "/payouts/" + strconv.FormatInt(id, 10)
		wantStatus(t, c.postForm(path+"/"+action, form), http.StatusSeeOther)
		if p, _ := db.NewPayouts(ts.DB).Get(t.Context(), id); p.Status != db.StatusExpired {
			t.Errorf("%s past the approval time: the payout is %s, want expired", action, p.Status)
		}
		if msg := c.get(path).doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "waited too long") {
			t.Errorf("%s past the approval time: the page says %q", action, msg)
		}
	}
}

func TestWorkerRefusesWhatWasNotApproved(t *testing.T) {
	// After the approval and before the worker sends it, the payout is
	// changed behind the application's back: its amount with the field
	// typed, or only the amount sent (the field keeps what was approved).
	for name, set := range map[string]string{
		"amount and its field": `amount_minor = 900000, fields = replace(fields, '600000', '900000')`,
		"amount only":          `amount_minor = 900000`,
		"currency only":        `currency = 'GNF'`,
	} {
		t.Run(name, func(t *testing.T) {
			ts := newTestServerWith(t, false)
			agent, manager := ts.as(db.RoleAgent), ts.as(db.RoleManager)
			id := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
			manager.approve(id)
			if _, err := ts.DB.W.Exec(`UPDATE payouts SET `+set+` WHERE id = ?`, id); err != nil {
				t.Fatal(err)
			}
			ts.startWorkers()
			p := ts.waitStatus(id, db.StatusFailed)
			if p.ErrorCode != "approval_mismatch" {
				t.Errorf("failed with %s %q, want approval_mismatch", p.ErrorCode, p.ErrorMessage)
			}
			if n := ts.App.Sandbox().Count(providers.FedaPay, "payout created"); n != 0 {
				t.Errorf("FedaPay saw %d payouts, want none", n)
			}
			if ev := ts.events("payout.send_refused"); len(ev) != 1 || ev[0].Outcome != db.OutcomeFailure {
				t.Errorf("refusal audited as %+v", ev)
			}
		})
	}
}

// TestApprovalHashIsKeyed: the hash an approval form carries (and the
// audit log keeps) covers the full account number, which the page shows
// masked. It is keyed by the installation's own secret, so the hidden
// digits cannot be found by hashing guesses: the same payout in two
// installations gets two hashes. A payout approved while the hash was a
// plain SHA-256, stored so, is still sent.
func TestApprovalHashIsKeyed(t *testing.T) {
	var hashes []string
	for range 2 {
		ts := newTestServerWith(t, false)
		p := ts.seedMany(1, ts.Users[db.RoleAgent])[0]
		hashes = append(hashes, ts.as(db.RoleManager).approveHash(p.ID))
	}
	if hashes[0] == hashes[1] {
		t.Errorf("one payout in two installations carries the approval hash %s in both: anyone can compute it", hashes[0])
	}

	ts := newTestServerWith(t, false)
	agent, manager := ts.as(db.RoleAgent), ts.as(db.RoleManager)
	id := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	manager.approve(id)
	p, err := db.NewPayouts(ts.DB).Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.DB.W.Exec(`UPDATE payouts SET approval_hash = ? WHERE id = ?`, plainApprovalHash(t, p), id); err != nil {
		t.Fatal(err)
	}
	ts.startWorkers()
	if p := ts.waitStatus(id, db.StatusPaid); p.ErrorCode != "" {
		t.Errorf("the payout approved with a plain hash ended with %s %q", p.ErrorCode, p.ErrorMessage)
	}
	if n := ts.App.Sandbox().Count(providers.FedaPay, "payout created"); n != 1 {
		t.Errorf("FedaPay saw %d payouts, want 1", n)
	}
}

// plainApprovalHash is the approval hash as it was before it was keyed:
// the SHA-256 of this JSON. It is written out here rather than shared with
// the app's code on purpose: payouts approved then are stored with it, so
// the app must go on reading this very encoding, whatever becomes of its
// own.
func plainApprovalHash(t *testing.T, p db.Payout) string {
	t.Helper()
	keys := slices.Sorted(maps.Keys(p.Fields))
	fields := make([][2]string, len(keys))
	for i, k := range keys {
		fields[i] = [2]string{k, p.Fields[k]}
	}
	b, err := json.Marshal(struct {
		Provider  string      `json:"provider"`
		Amount    int64       `json:"amount_minor"`
		Currency  string      `json:"currency"`
		Reference string      `json:"reference"`
		Key       string      `json:"idempotency_key"`
		Fields    [][2]string `json:"fields"`
	}{p.Provider, p.AmountMinor, p.Currency, p.Reference, p.IdempotencyKey, fields})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// The inbox shows the oldest waiting payouts first, a page at a time, and
// its "Later payouts" link reaches every other one exactly once.
func TestApprovalsInboxPages(t *testing.T) {
	ts := newTestServer(t)
	manager := ts.as(db.RoleManager)
	store := db.NewPayouts(ts.DB)
	var want []string
	for i := range 150 {
		key := "INBOX" + strconv.Itoa(i)
		p, _, err := store.Create(t.Context(), db.NewPayout{
			Provider: "fedapay", Status: db.StatusPendingApproval, AmountMinor: 600000, Currency: "XOF",
			IdempotencyKey: key, Reference: "PD-" + key,
			Fields:          map[string]string{"amount": "600000"},
			BeneficiaryName: "Ama", BeneficiaryAccount: "•••• 8080", CreatedBy: ts.Users[db.RoleAgent].ID,
		}, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.created"})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, "approval-"+strconv.FormatInt(p.ID, 10))
	}

	var got []string
	var sizes []int
	for path := "/approvals"; path != ""; {
		r := manager.get(path)
		wantStatus(t, r, http.StatusOK)
		doc := r.doc(t)
		rows := doc.Find(`table[data-testid="approvals"] tbody tr`)
		sizes = append(sizes, rows.Length())
		rows.Each(func(_ int, s *goquery.Selection) { got = append(got, s.AttrOr("data-testid", "")) })
		path = doc.Find(`[data-testid="next-page"]`).AttrOr("href", "")
		if len(sizes) > 3 {
			t.Fatal("the inbox pages do not end")
		}
	}
	if diff := cmp.Diff([]int{100, 50}, sizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inbox rows, oldest first across pages (-want +got):\n%s", diff)
	}
	// A damaged link lists nothing, as the other lists' do, rather than
	// pass for the first page; it says so and leads there.
	for _, after := range []string{"-5", "0", "garbage", "9223372036854775808"} {
		r := manager.get("/approvals?after=" + url.QueryEscape(after))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		doc := r.doc(t)
		if msg := doc.Find(`[data-testid="cursor-error"]`).Text(); !strings.Contains(msg, "The link to this page is damaged") ||
			doc.Find(`[data-testid="cursor-first-page"]`).AttrOr("href", "") != "/approvals" || doc.Find(`table[data-testid="approvals"]`).Length() != 0 {
			t.Errorf("after=%s: the inbox says %q, want the damaged link explained, nothing listed and the first page offered", after, msg)
		}
	}
}

// TestWithdraw: the creator of a payout waiting for approval can take it
// back with a reason; nobody else can, and nothing is sent.
func TestWithdraw(t *testing.T) {
	ts := newTestServer(t)
	agent, manager := ts.as(db.RoleAgent), ts.as(db.RoleManager)
	id := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	path := "/payouts/" + strconv.FormatInt(id, 10)
	if agent.get(path).doc(t).Find(`form[action="`+path+`/withdraw"]`).Length() != 1 {
		t.Error("the creator is not offered to withdraw the payout")
	}
	if manager.get(path).doc(t).Find(`[data-testid="withdraw"]`).Length() != 0 {
		t.Error("a manager who did not create the payout is offered to withdraw it")
	}

	reason := "Wrong phone number: the customer gave me another one."
	r := manager.postForm(path+"/withdraw", url.Values{"reason": {reason}})
	wantStatus(t, r, http.StatusForbidden)
	if !strings.Contains(r.doc(t).Find(`[data-testid="error-page"]`).Text(), "Only the payout's creator") {
		t.Error("the refusal does not say why")
	}
	if ev := ts.events("payout.withdrawal_refused"); len(ev) != 1 || ev[0].Actor.Email != "manager@example.com" || ev[0].Outcome != db.OutcomeFailure {
		t.Errorf("refused withdrawals audited as %+v", ev)
	}
	short := agent.postForm(path+"/withdraw", url.Values{"reason": {"oops"}})
	wantStatus(t, short, http.StatusUnprocessableEntity)
	doc := short.doc(t)
	if doc.Find(`[data-testid="withdraw"] [data-testid="error-reason"]`).Text() == "" || doc.Find(`[data-testid="withdraw"][open]`).Length() != 1 ||
		doc.Find(`textarea#f-reason`).Text() != "oops" {
		t.Error("a too-short reason is not shown at its field, open, with the text kept")
	}
	if p, _ := db.NewPayouts(ts.DB).Get(t.Context(), id); p.Status != db.StatusPendingApproval {
		t.Fatalf("after refused withdrawals the payout is %s", p.Status)
	}

	wantStatus(t, agent.postForm(path+"/withdraw", url.Values{"reason": {reason}}), http.StatusSeeOther)
	p, err := db.NewPayouts(ts.DB).Get(t.Context(), id)
	if err != nil || p.Status != db.StatusCancelled || !strings.Contains(p.ErrorMessage, reason) {
		t.Fatalf("withdrawn payout: %s %q, %v", p.Status, p.ErrorMessage, err)
	}
	wantStoredMasked(t, p)
	ev := ts.events("payout.withdrawn")
	if len(ev) != 1 || ev[0].Reason != reason || ev[0].Actor.Email != "agent@example.com" || ev[0].Outcome != db.OutcomeSuccess {
		t.Errorf("withdrawals audited as %+v", ev)
	}
	page := agent.get(path).doc(t)
	if page.Find(`[data-testid="copy-payout"]`).Length() != 1 {
		t.Error("a withdrawn payout does not offer to create it again")
	}
	if !strings.Contains(page.Find(`[data-testid="flash"]`).Text(), "Withdrawn.") {
		t.Error("the creator is not told the payout was withdrawn")
	}

	// Too late for anything else now, and said so.
	agent.postForm(path+"/withdraw", url.Values{"reason": {reason}})
	if ev := ts.events("payout.withdrawn_too_late"); len(ev) != 1 {
		t.Errorf("a second withdrawal audited as %+v", ev)
	}
	seen, _ := manager.get(path).doc(t).Find(`input[name="seen"]`).Attr("value")
	wantStatus(t, manager.postForm(path+"/approve", url.Values{"seen": {seen}}), http.StatusSeeOther)
	if p, _ := db.NewPayouts(ts.DB).Get(t.Context(), id); p.Status != db.StatusCancelled {
		t.Errorf("approved after withdrawal, the payout is %s", p.Status)
	}
	// A payout queued after it goes through the worker: by then the
	// withdrawn one would have been sent too, had the approval queued it.
	after := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), validForms(ts)[providers.FedaPay])
	ts.waitStatus(after, db.StatusPaid)
	if n := ts.App.Sandbox().Count(providers.FedaPay, "payout created"); n != 1 {
		t.Errorf("FedaPay saw %d payouts, want only the one queued after", n)
	}
}
