package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"payoutdesk/db"
	"payoutdesk/providers"
)

// The dashboard lists the user's own payouts that wait on somebody, by
// kind, and those that ended without payment, how and why, for a week.
func TestDashboardAttention(t *testing.T) {
	ts := newTestServerWith(t, false)
	agent, manager := ts.as(db.RoleAgent), ts.as(db.RoleManager)
	store := db.NewPayouts(ts.DB)

	if doc := manager.get("/").doc(t); doc.Find(`[data-testid="attention-none"]`).Length() != 1 ||
		!strings.Contains(doc.Find(`[data-testid="managers"]`).Text(), "Nothing") {
		t.Error("a manager with nothing to do is not told so")
	}
	pending := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	manager.submit(providers.FedaPay, manager.openForm(providers.FedaPay), bigFedaPay(ts))
	// Seven seeded payouts sent: one paid, six failed.
	var seeded []int64
	for range 7 {
		seeded = append(seeded, ts.seedPayout().ID)
	}
	if _, err := store.ClaimOutbox(t.Context(), time.Now(), 10, func(db.Payout) db.Event {
		return db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.submitting"}
	}); err != nil {
		t.Fatal(err)
	}
	for i, id := range seeded {
		to := db.StatusFailed
		if i == 0 {
			to = db.StatusPaid
		}
		if err := store.Change(t.Context(), id, db.Change{To: to}, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.status_changed"}); err != nil {
			t.Fatal(err)
		}
	}

	// Managers see what waits for any manager, the way there included.
	mdoc := manager.get("/").doc(t)
	if got := strings.TrimSpace(mdoc.Find(`[data-testid="managers-approvals"]`).Text()); got != "1 payout waits to be approved" {
		t.Errorf("the manager's dashboard says %q about approvals, want the agent's only", got)
	}
	if got := strings.TrimSpace(mdoc.Find(`[data-testid="managers-own"]`).Text()); got != "1 payout of yours waits to be approved by another manager" {
		t.Errorf("the manager's dashboard says %q about their own", got)
	}
	if href, _ := mdoc.Find(`[data-testid="managers-approvals"]`).Attr("href"); href != "/approvals" {
		t.Errorf("the approvals line leads to %q", href)
	}
	doc := agent.get("/").doc(t)
	if doc.Find(`[data-testid="managers"]`).Length() != 0 {
		t.Error("an agent is shown what waits for managers")
	}
	rows := func(status string) []string {
		var ids []string
		doc.Find(`[data-testid="attention-` + status + `"] li`).Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Attr("data-testid")
			ids = append(ids, strings.TrimPrefix(id, "attention-payout-"))
		})
		return ids
	}
	if got := rows("pending_approval"); len(got) != 1 || got[0] != strconv.FormatInt(pending, 10) {
		t.Errorf("waiting for approval: %v, want only the agent's own payout %d", got, pending)
	}
	// The five that ended last of six failures, and a link to all of the
	// agent's payouts.
	want := []string{}
	for i := 6; i > 1; i-- {
		want = append(want, strconv.FormatInt(seeded[i], 10))
	}
	if got := rows("ended"); !slices.Equal(got, want) {
		t.Errorf("ended: %v, want %v", got, want)
	}
	if why := doc.Find(`[data-testid="attention-ended"] [data-testid="attention-why"]`).First().Text(); why != "failed: Monime reported it failed without saying why." {
		t.Errorf("a failure without a message reads %q, want failed, saying the provider gave no reason", why)
	}
	more, _ := doc.Find(`[data-testid="attention-ended"] [data-testid="attention-more"]`).Attr("href")
	u, err := url.Parse(more)
	if err != nil || u.Path != "/payouts" || u.Query().Get("created_by") != "me" {
		t.Fatalf("the link to all of them is %q", more)
	}
	if n := agent.get(more).doc(t).Find(`[data-testid="payouts"] tbody tr`).Length(); n != 8 {
		t.Errorf("the link to all lists %d payouts, want the agent's 8", n)
	}

	// A rejection comes first, with the manager's reason.
	reason := "The beneficiary's name does not match the account."
	wantStatus(t, manager.postForm("/payouts/"+strconv.FormatInt(pending, 10)+"/reject", url.Values{"reason": {reason}}), http.StatusSeeOther)
	doc = agent.get("/").doc(t)
	if got := rows("ended"); len(got) == 0 || got[0] != strconv.FormatInt(pending, 10) {
		t.Errorf("after a rejection, ended: %v, want the rejected payout %d first", got, pending)
	}
	if why := doc.Find(`[data-testid="attention-ended"] [data-testid="attention-why"]`).First().Text(); !strings.HasPrefix(why, "Rejected by manager@example.com: "+reason) {
		t.Errorf("the rejected payout reads %q, want how and why", why)
	}
	// The manager's activity says it in words, with the way to the payout;
	// reading the audit log since is left out.
	wantStatus(t, manager.get("/audit"), http.StatusOK)
	latest := manager.get("/").doc(t).Find(`[data-testid="activity"] tbody tr`).First()
	link, _ := latest.Find(`td[data-label="On"] a`).Attr("href")
	if what := latest.Find(`td[data-label="What"]`).Text(); what != "Rejected a payout" || link != "/payouts/"+strconv.FormatInt(pending, 10) {
		t.Errorf("the manager's latest activity reads %q on %q, want the rejection with a link to payout %d", what, link, pending)
	}
	for _, status := range []string{"awaiting_customer", "unknown"} {
		if doc.Find(`[data-testid="attention-`+status+`"]`).Length() != 0 {
			t.Errorf("an empty %s group is shown", status)
		}
	}
	if doc.Find(`[data-testid="attention-none"]`).Length() != 0 {
		t.Error("the agent is told that nothing needs attention")
	}

	// A week later they are old news. (The session has ended by then:
	// sign in again.)
	ts.Clock.Advance(8 * 24 * time.Hour)
	doc = ts.as(db.RoleAgent).get("/").doc(t)
	if got := rows("ended"); len(got) != 0 {
		t.Errorf("payouts that ended a week ago are still listed: %v", got)
	}
}
