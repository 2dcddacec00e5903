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

// wantFieldError checks that the filter field name shows value as typed,
// is marked invalid with msg tied to it, error before any hint, and is
// listed in the summary at the top.
func wantFieldError(t *testing.T, doc *goquery.Document, name, value, msg string) {
	t.Helper()
	control := doc.Find("#f-" + name)
	if control.Length() != 1 {
		t.Fatalf("no field %s", name)
	}
	got, _ := control.Attr("value")
	if goquery.NodeName(control) == "select" {
		got, _ = control.Find("option[selected]").Attr("value")
	}
	if got != value {
		t.Errorf("%s shows %q, want the value typed, %q", name, got, value)
	}
	if inv, _ := control.Attr("aria-invalid"); inv != "true" {
		t.Errorf("%s: aria-invalid=%q, want true", name, inv)
	}
	if d, _ := control.Attr("aria-describedby"); strings.Fields(d + " ")[0] != "f-"+name+"-error" {
		t.Errorf("%s: aria-describedby=%q, want its error first", name, d)
	}
	if got := doc.Find("#f-" + name + "-error").Text(); got != msg {
		t.Errorf("%s: error %q, want %q", name, got, msg)
	}
	if doc.Find(`[data-testid="filter-errors"][role="alert"] li a[href="#f-`+name+`"]`).Length() != 1 {
		t.Errorf("%s is not linked from the error summary", name)
	}
}

// fieldErr is a filter field refused: its name, the value it keeps as
// typed, and its message.
type fieldErr struct{ name, value, msg string }

// wantFieldErrors checks each of want with wantFieldError, and that no
// other field is listed in the summary or marked invalid.
func wantFieldErrors(t *testing.T, doc *goquery.Document, want []fieldErr) {
	t.Helper()
	for _, fe := range want {
		wantFieldError(t, doc, fe.name, fe.value, fe.msg)
	}
	if n := doc.Find(`[data-testid="filter-errors"] li`).Length(); n != len(want) {
		t.Errorf("the summary lists %d fields, want %d", n, len(want))
	}
	if n := doc.Find(`[aria-invalid="true"]`).Length(); n != len(want) {
		t.Errorf("%d fields marked invalid, want %d", n, len(want))
	}
}

// TestPayoutListRefusesBadFilters: a filter value the list cannot use is
// kept in its field, marked invalid with its message, and summed up at the
// top; nothing is listed (422), and no page link carries the value. A list
// with one filter left out would pass for the answer to all of them.
func TestPayoutListRefusesBadFilters(t *testing.T) {
	ts := newTestServer(t)
	ts.seedMany(55, ts.Users[db.RoleManager])
	manager := ts.as(db.RoleManager)
	tests := []struct {
		name  string
		query url.Values
		want  []fieldErr
	}{
		{"unreadable date", url.Values{"from": {"yesterday"}}, []fieldErr{{"from", "yesterday", "Enter a date like 2026-11-21."}}},
		{"year beyond 9998", url.Values{"to": {"9999-12-31"}}, []fieldErr{{"to", "9999-12-31", "Enter a year from 1000 to 9998."}}},
		{"swapped dates", url.Values{"from": {"2026-11-22"}, "to": {"2026-11-20"}}, []fieldErr{{"to", "2026-11-20", "Enter a date on or after the From date."}}},
		{"unknown status", url.Values{"status": {"lost"}}, []fieldErr{{"status", "lost", "Choose a status from the list."}}},
		{"unknown provider", url.Values{"provider": {"paypal"}}, []fieldErr{{"provider", "paypal", "Choose a provider from the list."}}},
		{"creator not a number", url.Values{"created_by": {"-4"}}, []fieldErr{{"created_by", "-4", "Choose who created the payouts from the list."}}},
		{"creator nobody", url.Values{"created_by": {"99999"}}, []fieldErr{{"created_by", "99999", "Choose who created the payouts from the list."}}},
		{"text with a control character", url.Values{"q": {"x\x1by"}}, []fieldErr{{"q", "x\x1by", "Remove the control characters from the text."}}},
		{"several, and a cursor", url.Values{"provider": {"paypal"}, "from": {"yesterday"}, "before": {"abc"}},
			[]fieldErr{{"provider", "paypal", "Choose a provider from the list."}, {"from", "yesterday", "Enter a date like 2026-11-21."}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := manager.forT(t).get("/payouts?" + tt.query.Encode())
			wantStatus(t, r, http.StatusUnprocessableEntity)
			doc := r.doc(t)
			wantFieldErrors(t, doc, tt.want)
			if n := len(rowIDs(t, r)); n != 0 {
				t.Errorf("%d payouts listed, want none", n)
			}
			if n := doc.Find(`[data-testid="next-page"], [data-testid="first-page"], [data-testid="search-everyone"]`).Length(); n != 0 {
				t.Errorf("%d page links, which would carry the refused values; want none", n)
			}
			if title := doc.Find("title").Text(); !strings.HasPrefix(title, "Error: ") {
				t.Errorf("title %q, want it to start with Error", title)
			}
		})
	}
	// A good value beside a bad one is kept, and not marked.
	doc := manager.get("/payouts?provider=monime&status=lost").doc(t)
	if v, _ := doc.Find("#f-provider option[selected]").Attr("value"); v != "monime" {
		t.Errorf("the good provider shows as %q, want monime", v)
	}
	if inv, _ := doc.Find("#f-provider").Attr("aria-invalid"); inv == "true" {
		t.Error("the good provider is marked invalid")
	}
}

// TestPayoutListDamagedPageLink: a page link whose "before" is not a payout
// number lists nothing (422), says so, and offers the first page of the
// same filters; on the unknown-outcome queue too.
func TestPayoutListDamagedPageLink(t *testing.T) {
	ts := newTestServer(t)
	ts.seedMany(3, ts.Users[db.RoleManager])
	manager := ts.as(db.RoleManager)
	for _, path := range []string{"/payouts?before=abc&status=pending_approval", "/payouts?before=-3&status=pending_approval", "/payouts/unknown?before=x"} {
		r := manager.get(path)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		doc := r.doc(t)
		if doc.Find(`[data-testid="cursor-error"][role="alert"]`).Length() != 1 {
			t.Errorf("%s: no word of the damaged link", path)
		}
		if n := strings.Count(doc.Find("main").Text(), "Nothing was listed"); n != 1 {
			t.Errorf("%s: says nothing was listed %d times, want once", path, n)
		}
		if n := len(rowIDs(t, r)); n != 0 {
			t.Errorf("%s: %d payouts listed, want none", path, n)
		}
		want := strings.Split(path, "?")[0] + "?"
		if strings.Contains(path, "status") {
			want += "status=pending_approval"
		}
		if href, _ := doc.Find(`[data-testid="cursor-first-page"]`).Attr("href"); href != want {
			t.Errorf("%s: first page offered as %q, want %q", path, href, want)
		}
	}
	// With a bad filter as well, the first page would carry it: the form
	// is the way on. The filter's summary says that nothing was listed;
	// the damaged link's notice does not say it again.
	doc := manager.get("/payouts?before=abc&status=lost").doc(t)
	if doc.Find(`[data-testid="cursor-first-page"]`).Length() != 0 {
		t.Error("the first page is offered with the refused status")
	}
	if n := strings.Count(doc.Find("main").Text(), "Nothing was listed"); n != 1 {
		t.Errorf("a damaged link and a refused filter: says nothing was listed %d times, want once", n)
	}
	if !strings.Contains(doc.Find(`[data-testid="cursor-error"]`).Text(), "damaged") {
		t.Error("a damaged link and a refused filter: the damaged link is not mentioned")
	}
}

// TestPayoutListOddFilters: a text of spaces filters nothing; one holding
// a NUL, which would end SQLite's LIKE pattern early, is refused rather
// than matching all payouts.
func TestPayoutListOddFilters(t *testing.T) {
	ts := newTestServer(t)
	ts.seedMany(3, ts.Users[db.RoleManager])
	manager := ts.as(db.RoleManager)
	r := manager.get("/payouts?q=x%00")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if n := len(rowIDs(t, r)); n != 0 {
		t.Errorf("a text holding a NUL: %d rows, want none", n)
	}
	if n := len(rowIDs(t, manager.get("/payouts?q=+++"))); n != 3 {
		t.Errorf("a text of spaces: %d rows, want the unfiltered 3", n)
	}
}

// TestNoEmptyDescribedBy: a field with neither hint nor error has no
// aria-describedby; an empty one names nothing and some checkers flag it.
func TestNoEmptyDescribedBy(t *testing.T) {
	ts := newTestServerWith(t, false)
	admin := ts.as(db.RoleAdmin)
	for _, path := range []string{"/payouts", "/audit", "/payouts/new/monime", "/users"} {
		doc := admin.get(path).doc(t)
		if n := doc.Find(`[aria-describedby=""]`).Length(); n != 0 {
			t.Errorf("%s: %d empty aria-describedby", path, n)
		}
		if doc.Find(`input, select, textarea`).Length() == 0 {
			t.Errorf("%s: no fields to check", path)
		}
	}
}

// TestListsOfferToClearTheirFilters: the payout list and the audit log,
// filtered, link back to themselves unfiltered, refused filters too; as
// they open by default (an agent's own payouts, everyone's for a manager;
// the log's views hidden, 50 a page), or on a later page, they do not.
func TestListsOfferToClearTheirFilters(t *testing.T) {
	ts := newTestServer(t)
	ts.seedMany(55, ts.Users[db.RoleAgent])
	agent, manager := ts.as(db.RoleAgent), ts.as(db.RoleManager)
	next, _ := agent.get("/payouts").doc(t).Find(`[data-testid="next-page"]`).Attr("href")
	tests := []struct {
		c      *client
		path   string
		status int
		want   string // the link's target; "" for none
	}{
		{agent, "/payouts", ok, ""},
		{agent, next, ok, ""},
		{agent, "/payouts?created_by=me", ok, ""},
		{agent, "/payouts?provider=monime", ok, "/payouts"},
		{agent, "/payouts?created_by=anyone", ok, "/payouts"},
		{agent, "/payouts?q=beneficiary", ok, "/payouts"},
		{agent, "/payouts?q=%20%20", ok, ""},
		{agent, "/payouts?status=bogus", http.StatusUnprocessableEntity, "/payouts"},
		{manager, "/payouts?created_by=anyone", ok, ""},
		{manager, "/payouts?created_by=me", ok, "/payouts"},
		{manager, "/audit", ok, ""},
		{manager, "/audit?views=hidden&size=50", ok, ""},
		{manager, "/audit?action=payout.created", ok, "/audit"},
		{manager, "/audit?size=25", ok, "/audit"},
		{manager, "/audit?views=shown", ok, "/audit"},
		{manager, "/audit?payout=abc", http.StatusUnprocessableEntity, "/audit"},
	}
	for _, tt := range tests {
		r := tt.c.get(tt.path)
		wantStatus(t, r, tt.status)
		link := r.doc(t).Find(`[data-testid="clear-filters"]`)
		if got, _ := link.Attr("href"); got != tt.want || link.Length() > 1 {
			t.Errorf("%s: clear link to %q (%d), want %q", tt.path, got, link.Length(), tt.want)
		}
	}
}
