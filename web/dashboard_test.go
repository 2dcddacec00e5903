package web_test

import (
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
// kind, and forgets failures after a week.
func TestDashboardAttention(t *testing.T) {
	ts := newTestServerWith(t, false)
	agent, manager := ts.as(db.RoleAgent), ts.as(db.RoleManager)
	store := db.NewPayouts(ts.DB)

	if doc := manager.get("/").doc(t); doc.Find(`[data-testid="attention-none"]`).Length() != 1 {
		t.Error("a user with no payouts is not told that none needs attention")
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

	doc := agent.get("/").doc(t)
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
	// The five newest of six failures, and a link to all of them.
	want := []string{}
	for i := 6; i > 1; i-- {
		want = append(want, strconv.FormatInt(seeded[i], 10))
	}
	if got := rows("failed"); !slices.Equal(got, want) {
		t.Errorf("failed: %v, want %v", got, want)
	}
	more, _ := doc.Find(`[data-testid="attention-failed"] [data-testid="attention-more"]`).Attr("href")
	u, err := url.Parse(more)
	if err != nil || u.Path != "/payouts" || u.Query().Get("status") != "failed" || u.Query().Get("created_by") != "me" {
		t.Fatalf("the link to all failures is %q", more)
	}
	if n := agent.get(more).doc(t).Find(`[data-testid="payouts"] tbody tr`).Length(); n != 6 {
		t.Errorf("the link to all failures lists %d payouts, want 6", n)
	}
	for _, status := range []string{"awaiting_customer", "unknown"} {
		if doc.Find(`[data-testid="attention-`+status+`"]`).Length() != 0 {
			t.Errorf("an empty %s group is shown", status)
		}
	}
	if doc.Find(`[data-testid="attention-none"]`).Length() != 0 {
		t.Error("the agent is told that nothing needs attention")
	}

	// A week later the failures are old news; the approval still waits.
	// (The session has ended by then: sign in again.)
	ts.Clock.Advance(8 * 24 * time.Hour)
	doc = ts.as(db.RoleAgent).get("/").doc(t)
	if got := rows("failed"); len(got) != 0 {
		t.Errorf("failures a week old are still listed: %v", got)
	}
	if got := rows("pending_approval"); len(got) != 1 {
		t.Errorf("after a week, waiting for approval: %v", got)
	}
}
