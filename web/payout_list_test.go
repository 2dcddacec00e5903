package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"payoutdesk/db"
)

// seedMany stores payouts straight through the store: n per creator, with
// providers and beneficiaries varying, all already failed so that the
// workers leave them alone.
func (ts *testServer) seedMany(n int, creator db.User) []db.Payout {
	ts.t.Helper()
	store := db.NewPayouts(ts.DB)
	provs := []string{"kibramoa", "smartglocal", "monime", "fedapay"}
	var out []db.Payout
	for i := range n {
		key := strings.ToUpper(strconv.FormatInt(creator.ID, 10)+"X"+strconv.Itoa(i)) + "SEEDSEEDSEEDSEEDSEED"
		p, _, err := store.Create(context.Background(), db.NewPayout{
			Provider: provs[i%4], Status: db.StatusPendingApproval, AmountMinor: int64(100 + i), Currency: "USD",
			IdempotencyKey: key, Reference: "PD-" + key, Fields: map[string]string{},
			BeneficiaryName: "Beneficiary " + strconv.Itoa(i) + " of " + creator.Email, BeneficiaryAccount: "•••• 1234",
			CreatedBy: creator.ID,
		}, db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.created"})
		if err != nil {
			ts.t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func rowIDs(t *testing.T, r response) []string {
	t.Helper()
	var ids []string
	r.doc(t).Find(`[data-testid="payouts"] tbody tr`).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-testid")
		ids = append(ids, strings.TrimPrefix(id, "payout-"))
	})
	return ids
}

func TestPayoutListFiltersAndPages(t *testing.T) {
	ts := newTestServer(t)
	agentPayouts := ts.seedMany(60, ts.Users[db.RoleAgent])
	managerPayouts := ts.seedMany(8, ts.Users[db.RoleManager])
	agent, manager := ts.as(db.RoleAgent), ts.as(db.RoleManager)

	// Agents see their own by default, 50 a page, newest first.
	first := rowIDs(t, agent.get("/payouts"))
	if len(first) != 50 || first[0] != strconv.FormatInt(agentPayouts[59].ID, 10) {
		t.Fatalf("agent's first page: %d rows starting %v", len(first), first[:1])
	}
	r := agent.get("/payouts")
	next, found := r.doc(t).Find(`[data-testid="next-page"]`).Attr("href")
	if !found {
		t.Fatal("no link to the next page")
	}
	// New payouts arriving between pages neither repeat nor hide any.
	ts.seedMany(3, ts.Users[db.RoleAgent])
	second := rowIDs(t, agent.get(next))
	seen := map[string]bool{}
	for _, id := range append(first, second...) {
		if seen[id] {
			t.Errorf("payout %s listed twice", id)
		}
		seen[id] = true
	}
	if len(second) != 10 {
		t.Errorf("second page has %d rows, want the remaining 10", len(second))
	}

	// Managers see everyone's by default; agents may ask for them.
	tests := []struct {
		name  string
		c     *client
		query url.Values
		want  int
	}{
		{"manager, everyone", manager, url.Values{}, 50},
		{"agent asks for everyone's monime", agent, url.Values{"created_by": {"anyone"}, "provider": {"monime"}}, 15 + 2},
		{"by creator id", agent, url.Values{"created_by": {strconv.FormatInt(ts.Users[db.RoleManager].ID, 10)}}, 8},
		{"status", manager, url.Values{"status": {"pending_approval"}, "created_by": {"me"}}, 8},
		{"text in beneficiary", manager, url.Values{"q": {"Beneficiary 7 of manager"}}, 1},
		{"text is not a LIKE pattern", manager, url.Values{"q": {"%"}}, 0},
		{"reference", manager, url.Values{"q": {strings.ToLower(managerPayouts[3].Reference)}}, 1},
		{"date range today", manager, url.Values{"from": {time.Now().UTC().Format("2006-01-02")}, "to": {time.Now().UTC().Format("2006-01-02")}, "created_by": {"me"}}, 8},
		{"date range before", manager, url.Values{"to": {"2020-01-01"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.c.forT(t).get("/payouts?" + tt.query.Encode())
			wantStatus(t, r, ok)
			if got := len(rowIDs(t, r)); got != tt.want {
				t.Errorf("%d rows, want %d", got, tt.want)
			}
		})
	}
	// Bad filter values are ignored with a message, never a 500.
	r = manager.get("/payouts?provider=paypal&status=lost&created_by=-4&from=yesterday&before=abc")
	wantStatus(t, r, ok)
	if !strings.Contains(r.Body, "Some filters were ignored") {
		t.Error("bad filters are ignored silently")
	}
}

// TestPayoutListNextOnlyWhenMore: a list of exactly one page's worth offers
// no link to an empty page after it; one payout more, and it does.
func TestPayoutListNextOnlyWhenMore(t *testing.T) {
	ts := newTestServer(t)
	ts.seedMany(50, ts.Users[db.RoleAgent])
	agent := ts.as(db.RoleAgent)
	r := agent.get("/payouts")
	if n := len(rowIDs(t, r)); n != 50 || r.doc(t).Find(`[data-testid="next-page"]`).Length() != 0 {
		t.Errorf("exactly 50 payouts: %d rows, next link shown %v; want 50 and none", n, r.doc(t).Find(`[data-testid="next-page"]`).Length() != 0)
	}
	ts.seedMany(1, ts.Users[db.RoleManager])
	r = agent.get("/payouts?created_by=anyone")
	next, ok := r.doc(t).Find(`[data-testid="next-page"]`).Attr("href")
	if !ok {
		t.Fatal("51 payouts: no link to the next page")
	}
	page2 := agent.get(next)
	if n := len(rowIDs(t, page2)); n != 1 {
		t.Errorf("the next page has %d rows, want 1", n)
	}
	// A later page leads back to the first, filters kept.
	if first, ok := page2.doc(t).Find(`[data-testid="first-page"]`).Attr("href"); !ok || first != "/payouts?created_by=anyone" {
		t.Errorf("the second page's way back: %q (shown %v), want /payouts?created_by=anyone", first, ok)
	}
	if r.doc(t).Find(`[data-testid="first-page"]`).Length() != 0 {
		t.Error("the first page links to itself")
	}
}

// Swapped dates are said to be swapped, not applied as a range that
// matches nothing.
// A number searched for names the payout numbered so above the list, when
// it is listed; other payouts holding the digits are listed too.
func TestPayoutListNamesTheExactNumber(t *testing.T) {
	ts := newTestServer(t)
	ps := ts.seedMany(12, ts.Users[db.RoleManager])
	manager := ts.as(db.RoleManager)
	want := strconv.FormatInt(ps[4].ID, 10)
	for _, q := range []string{want, "#" + want} {
		r := manager.get("/payouts?q=" + url.QueryEscape(q))
		link, _ := r.doc(t).Find(`[data-testid="exact-match"] a`).Attr("href")
		if link != "/payouts/"+want {
			t.Errorf("searching %q names %q above the list, want /payouts/%s", q, link, want)
		}
		if n := len(rowIDs(t, r)); q == want && n < 2 {
			t.Errorf("searching %q lists %d payouts, want the payout and those holding the digits", q, n)
		}
	}
	if manager.get("/payouts?q=999").doc(t).Find(`[data-testid="exact-match"]`).Length() != 0 {
		t.Error("a number no listed payout has names one")
	}
}

func TestPayoutListSwappedDates(t *testing.T) {
	ts := newTestServer(t)
	ts.seedMany(2, ts.Users[db.RoleManager])
	r := ts.as(db.RoleManager).get("/payouts?from=2026-11-22&to=2026-11-20")
	wantStatus(t, r, http.StatusOK)
	if msg := r.doc(t).Text(); !strings.Contains(msg, `the "from" date is after the "to" date`) {
		t.Errorf("no word of the swapped dates")
	}
	if n := len(rowIDs(t, r)); n != 2 {
		t.Errorf("%d rows, want the 2 payouts, the dates ignored", n)
	}
}

// TestPayoutListOddFilters: a text of spaces or holding a NUL, and a date
// beyond year 9998, are refused with a message rather than matching all
// payouts or none.
func TestPayoutListOddFilters(t *testing.T) {
	ts := newTestServer(t)
	ts.seedMany(3, ts.Users[db.RoleManager])
	manager := ts.as(db.RoleManager)
	for _, q := range []url.Values{{"q": {"x\x00"}}, {"to": {"9999-12-31"}}} {
		r := manager.get("/payouts?" + q.Encode())
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.doc(t).Text(), "Some filters were ignored") {
			t.Errorf("%s: no message about the ignored filter", q.Encode())
		}
	}
	if n := len(rowIDs(t, manager.get("/payouts?q=+++"))); n != 3 {
		t.Errorf("a text of spaces: %d rows, want the unfiltered 3", n)
	}
}
