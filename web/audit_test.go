package web_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"payoutdesk/db"
	"payoutdesk/providers"
)

// rejectWith creates a payout awaiting approval and has the manager reject
// it with reason.
func rejectWith(t *testing.T, ts *testServer, agent, manager *client, reason string) int64 {
	t.Helper()
	id := agent.submit(providers.FedaPay, agent.openForm(providers.FedaPay), bigFedaPay(ts))
	r := manager.postForm("/payouts/"+strconv.FormatInt(id, 10)+"/reject", url.Values{"reason": {reason}})
	wantStatus(t, r, http.StatusSeeOther)
	return id
}

func TestAuditLogFiltersAndEventPage(t *testing.T) {
	ts := newTestServer(t)
	agent, manager := ts.as(db.RoleAgent), ts.as(db.RoleManager)
	paid := agent.submit(providers.Monime, agent.openForm(providers.Monime), validForms(ts)[providers.Monime])
	ts.waitStatus(paid, db.StatusPaid)
	rejected := rejectWith(t, ts, agent, manager, "Beneficiary flagged by compliance review")
	agent.login("agent@example.com", "wrong password!!")

	tests := []struct {
		name  string
		query url.Values
		check func(t *testing.T, rows []db.Event)
	}{
		{"payout's events", url.Values{"payout": {strconv.FormatInt(rejected, 10)}}, func(t *testing.T, rows []db.Event) {
			if len(rows) != 2 || rows[0].Action != "payout.rejected" || rows[1].Action != "payout.created" {
				t.Errorf("got %v, want rejected then created", actions(rows))
			}
		}},
		{"webhooks from monime", url.Values{"action": {"webhook.received"}, "provider": {"monime"}}, func(t *testing.T, rows []db.Event) {
			if len(rows) == 0 {
				t.Error("no Monime webhooks listed")
			}
			for _, e := range rows {
				if e.Action != "webhook.received" || e.Provider != "monime" {
					t.Errorf("listed %s from %s", e.Action, e.Provider)
				}
			}
		}},
		{"failures", url.Values{"outcome": {"failure"}}, func(t *testing.T, rows []db.Event) {
			if len(rows) != 1 || rows[0].Action != "auth.login.failed" {
				t.Errorf("got %v, want the failed login", actions(rows))
			}
		}},
		{"by the manager", url.Values{"actor": {"manager@example.com"}, "action": {"payout."}}, func(t *testing.T, rows []db.Event) {
			if len(rows) != 1 || rows[0].Action != "payout.rejected" {
				t.Errorf("got %v, want the manager's rejection", actions(rows))
			}
		}},
		{"text in details", url.Values{"q": {"compliance"}}, func(t *testing.T, rows []db.Event) {
			if len(rows) != 1 || rows[0].Action != "payout.rejected" {
				t.Errorf("got %v, want the rejection whose reason says compliance", actions(rows))
			}
		}},
		{"time range in the future", url.Values{"from": {time.Now().Add(48 * time.Hour).UTC().Format("2006-01-02T15:04")}}, func(t *testing.T, rows []db.Event) {
			if len(rows) != 0 {
				t.Errorf("got %d events from the future", len(rows))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := manager.forT(t).get("/audit?" + tt.query.Encode())
			wantStatus(t, r, http.StatusOK)
			var rows []db.Event
			r.doc(t).Find(`[data-testid="events"] tbody tr`).Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("data-testid")
				seq, _ := strconv.ParseInt(strings.TrimPrefix(id, "event-"), 10, 64)
				e, err := db.NewAudit(ts.DB).Get(t.Context(), seq)
				if err != nil {
					t.Fatal(err)
				}
				rows = append(rows, e)
			})
			// The manager's own "viewed" events are listed too; leave them out.
			var kept []db.Event
			for _, e := range rows {
				if e.Action != "audit.viewed" {
					kept = append(kept, e)
				}
			}
			tt.check(t, kept)
		})
	}
	// Viewing is audited, with the filter.
	viewed := ts.events("audit.viewed")
	if len(viewed) < len(tests) || viewed[0].Actor.Email != "manager@example.com" || !strings.Contains(viewed[0].Details["filter"].(string), "payout=") {
		t.Errorf("views audited as %+v", viewed[:min(len(viewed), 1)])
	}
	// Each view records its filter: a link cannot make it write 64 KiB. An
	// overlong filter is refused, and nothing viewed is recorded.
	long := strings.Repeat("x", 5000)
	seen := len(ts.events("audit.viewed"))
	wantStatus(t, manager.get("/audit?action="+long+"&actor="+long), http.StatusUnprocessableEntity)
	if got := len(ts.events("audit.viewed")); got != seen {
		t.Errorf("a refused filter recorded %d views", got-seen)
	}
	wantStatus(t, manager.get("/audit?payout="+strings.Repeat("0", 5000)+"1"), http.StatusOK)
	if viewed := ts.events("audit.viewed"); strings.Contains(viewed[len(viewed)-1].DetailsJSON, "00000") || !strings.Contains(viewed[len(viewed)-1].DetailsJSON, "payout=1") {
		t.Errorf("a payout number with 5,000 leading zeros was recorded as %.200s", viewed[len(viewed)-1].DetailsJSON)
	}
	// An export never exports something other than what was asked.
	wantStatus(t, manager.get("/audit/export?format=csv&q=%00"), http.StatusBadRequest)
	wantStatus(t, manager.get("/audit/export?format=csv&action="+long), http.StatusBadRequest)

	// One event: the before/after diff and the links.
	ev := ts.events("payout.rejected")[0]
	page := manager.get("/audit/" + strconv.FormatInt(ev.Seq, 10)).doc(t)
	diff := page.Find(`[data-testid="diff"]`).Text()
	if !strings.Contains(diff, "pending_approval") || !strings.Contains(diff, "rejected") {
		t.Errorf("diff %q lacks the status change", diff)
	}
	if href, _ := page.Find(`[data-testid="payout-link"]`).Attr("href"); href != "/payouts/"+strconv.FormatInt(rejected, 10) {
		t.Errorf("payout link %q", href)
	}
	if got := page.Find(`[data-testid="event-reason"]`).Text(); got != "Beneficiary flagged by compliance review" {
		t.Errorf("reason shown as %q", got)
	}
	wantStatus(t, manager.get("/audit/999999"), http.StatusNotFound)
	wantStatus(t, manager.get("/audit/abc"), http.StatusNotFound)
	// One address per record: "01" and "+1" are not other names for event 1
	// or for payout 1, which exist.
	for _, alias := range []string{"/audit/01", "/audit/+1", "/payouts/01", "/payouts/%2B1"} {
		if r := manager.get(alias); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", alias, r.StatusCode)
		}
	}
}

// TestAuditLogRefusesBadFilters: a filter value the log cannot use is
// kept in its field, marked invalid with its message, and summed up at the
// top; no event is listed (422), no view is recorded, and neither a page
// link nor an export link carries the value.
func TestAuditLogRefusesBadFilters(t *testing.T) {
	ts := newTestServerWith(t, false)
	manager := ts.as(db.RoleManager)
	nobody := fieldErr{"actor", "nobody@example.com", `No user has the email "nobody@example.com". Enter a whole email, a user's number, system, anonymous, cli:NAME or provider:NAME.`}
	long := strings.Repeat("x", 201)
	tests := []struct {
		name  string
		query url.Values
		want  []fieldErr
	}{
		{"unreadable time", url.Values{"from": {"yesterday"}}, []fieldErr{{"from", "yesterday", "Enter a time like 2026-11-21T14:30, or a date like 2026-11-21."}}},
		{"swapped times", url.Values{"from": {"2030-11-22T10:00"}, "to": {"2030-11-20T10:00"}}, []fieldErr{{"to", "2030-11-20T10:00", "Enter a time on or after the From time."}}},
		{"actor nobody", url.Values{"actor": {"nobody@example.com"}}, []fieldErr{nobody}},
		{"actor too long", url.Values{"actor": {long}}, []fieldErr{{"actor", long, "Enter at most 200 characters."}}},
		{"unknown action", url.Values{"action": {"nothing.ever"}}, []fieldErr{{"action", "nothing.ever", "Choose an action from the list: no event has this one."}}},
		{"unknown provider", url.Values{"provider": {"paypal"}}, []fieldErr{{"provider", "paypal", "Choose a provider from the list."}}},
		{"payout not a number", url.Values{"payout": {"abc"}}, []fieldErr{{"payout", "abc", "Enter a payout number, like 1234."}}},
		{"unknown outcome", url.Values{"outcome": {"maybe"}}, []fieldErr{{"outcome", "maybe", "Choose success or failure."}}},
		{"text with a control character", url.Values{"q": {"a\x1bb"}}, []fieldErr{{"q", "a\x1bb", "Remove the control characters from the text."}}},
		{"views neither", url.Values{"views": {"all"}}, []fieldErr{{"views", "all", "Choose whether views of this log are listed."}}},
		{"page size", url.Values{"size": {"7"}}, []fieldErr{{"size", "7", "Choose 25, 50, 100 or 200."}}},
		{"several, and a cursor", url.Values{"from": {"yesterday"}, "provider": {"paypal"}, "actor": {"nobody@example.com"}, "before": {"abc"}},
			[]fieldErr{{"from", "yesterday", "Enter a time like 2026-11-21T14:30, or a date like 2026-11-21."}, nobody, {"provider", "paypal", "Choose a provider from the list."}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := len(ts.events("audit.viewed"))
			r := manager.forT(t).get("/audit?" + tt.query.Encode())
			wantStatus(t, r, http.StatusUnprocessableEntity)
			doc := r.doc(t)
			wantFieldErrors(t, doc, tt.want)
			if n := doc.Find(`[data-testid="events"] tbody tr`).Length(); n != 0 {
				t.Errorf("%d events listed, want none", n)
			}
			links := `[data-testid="next-page"], [data-testid="first-page"], [data-testid="cursor-first-page"], [data-testid="export-csv"], [data-testid="export-jsonl"], [data-testid="views-hidden"]`
			if n := doc.Find(links).Length(); n != 0 {
				t.Errorf("%d page or export links, which would carry the refused values or drop them; want none", n)
			}
			if got := len(ts.events("audit.viewed")); got != seen {
				t.Errorf("%d views recorded, want none: nothing was listed", got-seen)
			}
		})
	}
	// A good value beside a bad one is kept, and not marked.
	doc := manager.get("/audit?outcome=failure&payout=abc").doc(t)
	if v, _ := doc.Find("#f-outcome option[selected]").Attr("value"); v != "failure" {
		t.Errorf("the good outcome shows as %q, want failure", v)
	}
	if inv, _ := doc.Find("#f-outcome").Attr("aria-invalid"); inv == "true" {
		t.Error("the good outcome is marked invalid")
	}
	// A damaged page link alone is offered the first page, filters kept.
	r := manager.get("/audit?before=abc&outcome=success")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	doc = r.doc(t)
	if doc.Find(`[data-testid="cursor-error"][role="alert"]`).Length() != 1 {
		t.Error("no word of the damaged page link")
	}
	if href, _ := doc.Find(`[data-testid="cursor-first-page"]`).Attr("href"); href != "/audit?outcome=success" {
		t.Errorf("first page offered as %q, want /audit?outcome=success", href)
	}
}

func actions(rows []db.Event) []string {
	var out []string
	for _, e := range rows {
		out = append(out, e.Action)
	}
	return out
}

func TestAuditExportEscapesFormulas(t *testing.T) {
	ts := newTestServer(t)
	agent, manager := ts.as(db.RoleAgent), ts.as(db.RoleManager)
	reasons := []string{
		"=HYPERLINK(\"http://evil.example\")",
		"+1+1 would be summed by a spreadsheet",
		"-2+3 would be computed as well",
		"@SUM(A1:A9) is a formula too",
		"plain reason that needs nothing",
	}
	for _, reason := range reasons {
		rejectWith(t, ts, agent, manager, reason)
	}
	// Forms trim leading blanks, so tab and carriage return reach the log
	// only from elsewhere; record them directly.
	// Blanks before a formula, and full-width signs, count as well.
	recorded := []string{"\tstarts with a tab character", "\rstarts with a carriage return",
		" =1+1 after a space", "\u00a0=1+1 after a no-break space", "＝1+1 in full width", "＠SUM(A1:A9) in full width"}
	for _, reason := range recorded {
		err := db.NewAudit(ts.DB).Record(t.Context(), db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.rejected", Reason: reason})
		if err != nil {
			t.Fatal(err)
		}
		reasons = append(reasons, reason)
	}

	r := manager.get("/audit/export?format=csv&action=payout.rejected")
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("export headers %q / %q", ct, r.Header.Get("Content-Disposition"))
	}
	records, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 1+len(reasons) || records[0][14] != "reason" {
		t.Fatalf("got %d CSV records, header %v", len(records), records[0])
	}
	got := map[string]bool{}
	for _, rec := range records[1:] {
		got[rec[14]] = true
		if rec[6] != "payout.rejected" {
			t.Errorf("exported %s, want only payout.rejected", rec[6])
		}
	}
	for _, reason := range reasons {
		want := "'" + reason
		if strings.HasPrefix(reason, "plain") {
			want = reason
		}
		if !got[want] {
			t.Errorf("reason %q not exported as %q", reason, want)
		}
	}

	r = manager.get("/audit/export?format=jsonl&action=payout.")
	wantStatus(t, r, http.StatusOK)
	sc := bufio.NewScanner(strings.NewReader(r.Body))
	lines := 0
	for sc.Scan() {
		var line struct {
			Seq     int64          `json:"seq"`
			Action  string         `json:"action"`
			Details map[string]any `json:"details"`
			Hash    string         `json:"hash"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %d: %v", lines+1, err)
		}
		if !strings.HasPrefix(line.Action, "payout.") || line.Details == nil || len(line.Hash) != 64 {
			t.Errorf("line %+v", line)
		}
		lines++
	}
	// Each rejected payout has a created and a rejected event; the rest
	// were recorded without a payout.
	if want := 2*len(reasons) - len(recorded); lines != want {
		t.Errorf("%d JSON lines, want %d", lines, want)
	}
	exported := ts.events("audit.exported")
	if len(exported) != 2 || exported[0].Details["format"] != "csv" || exported[1].Details["filter"] != "action=payout.&views=shown" {
		t.Errorf("exports audited as %+v", exported)
	}
	// A refused export says why.
	for query, want := range map[string]string{
		"format=xlsx":                         "format: Choose csv or jsonl.",
		"format=csv&payout=abc":               "payout: Enter a payout number, like 1234.",
		"format=csv&actor=nobody@example.com": `actor: No user has the email "nobody@example.com".`,
		"format=jsonl&from=yesterday":         "from: Enter a time like 2026-11-21T14:30",
		"format=csv&provider=paypal":          "provider: Choose a provider from the list.",
		"format=csv&outcome=maybe":            "outcome: Choose success or failure.",
		"format=csv&action=nothing.ever":      "action: Choose an action from the list",
	} {
		r := manager.get("/audit/export?" + query)
		wantStatus(t, r, http.StatusBadRequest)
		if msg := r.doc(t).Find(`[data-testid="error-page"]`).Text(); !strings.Contains(msg, "Nothing was exported") || !strings.Contains(msg, want) {
			t.Errorf("export ?%s refused with %q, want it to say %q", query, msg, want)
		}
	}
	if n := len(ts.events("audit.exported")); n != 2 {
		t.Errorf("%d exports audited, want the 2 made, none of those refused", n)
	}
	// An export from a later page, or one whose page link was damaged,
	// starts at the newest event, and records the filter it exported by.
	for _, before := range []string{"5", "x"} {
		r := manager.get("/audit/export?format=jsonl&action=payout.&before=" + before)
		wantStatus(t, r, http.StatusOK)
		exported := ts.events("audit.exported")
		if got := exported[len(exported)-1].Details["filter"]; got != "action=payout.&views=shown" {
			t.Errorf("export with before=%s recorded filter %q, want the one it exported by", before, got)
		}
		if n := strings.Count(r.Body, "\n"); n != lines {
			t.Errorf("export with before=%s: %d lines, want all %d", before, n, lines)
		}
	}
	// A link from another site exports nothing and writes nothing; the
	// same link followed from the app's own pages works.
	for site, want := range map[string]int{"cross-site": http.StatusForbidden, "same-origin": http.StatusOK, "none": http.StatusOK} {
		before := len(ts.events("audit.exported"))
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/audit/export?format=csv", nil)
		req.Header.Set("Sec-Fetch-Site", site)
		r := manager.do(req)
		wantStatus(t, r, want)
		if got := len(ts.events("audit.exported")) - before; got != map[bool]int{true: 1}[want == http.StatusOK] {
			t.Errorf("Sec-Fetch-Site %s: %d exports audited", site, got)
		}
	}
}

func TestVerifyIntegrityAndCheckpoints(t *testing.T) {
	ts := newTestServer(t)
	manager := ts.as(db.RoleManager)
	for range 12 {
		ts.client().login("agent@example.com", "wrong password!!")
	}
	// The worker signs a checkpoint every 10 events (test configuration).
	deadline := time.Now().Add(10 * time.Second)
	for {
		cps, err := db.NewAudit(ts.DB).Checkpoints(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(cps) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint was signed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	file, err := os.ReadFile(ts.DB.Path + ".checkpoints")
	if err != nil || !strings.Contains(string(file), `"signature"`) {
		t.Fatalf("checkpoint file: %q, %v", file, err)
	}
	if _, err := os.Stat(ts.DB.Path + ".checkpoint-key.pub"); err != nil {
		t.Errorf("no public key beside the signing key: %v", err)
	}

	r := manager.postForm("/audit/verify", nil)
	wantStatus(t, r, http.StatusOK)
	ok := r.doc(t).Find(`[data-testid="verify-ok"]`).Text()
	if !strings.Contains(ok, "intact") || strings.Contains(ok, " 0 signed") || !regexp.MustCompile(`(1 signed checkpoint matches|[0-9]{2,} signed checkpoints match|[2-9] signed checkpoints match)`).MatchString(ok) {
		t.Errorf("verify says %q, want intact with checkpoints, counted in good English", ok)
	}

	// With the checkpoint file gone, the check cannot prove the log: it
	// says so, and is audited as failed, rather than passing on the
	// database's own checkpoints or failing as a server error.
	cpFile := ts.DB.Path + ".checkpoints"
	if err := os.Rename(cpFile, cpFile+".away"); err != nil {
		t.Fatal(err)
	}
	r = manager.postForm("/audit/verify", nil)
	wantStatus(t, r, http.StatusOK)
	doc := r.doc(t)
	if msg := doc.Find(`[data-testid="verify-unverified"]`).Text(); !strings.Contains(msg, "could not run") || !strings.Contains(msg, "file is missing") || doc.Find(`[data-testid="verify-ok"]`).Length() != 0 {
		t.Errorf("verify without the checkpoint file says %q", msg)
	}
	// A damaged checkpoint file, or a key ring, is the same: no 500.
	for _, damaged := range []string{cpFile + ".away", ts.DB.Path + ".checkpoint-key.pub"} {
		good, err := os.ReadFile(damaged)
		if err != nil {
			t.Fatal(err)
		}
		// Damage in the middle, which pem.Decode would skip over, then a
		// block that does not decode.
		bad := append([]byte("stray text\n"), good...)
		bad = append(bad, "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n"...)
		bad = append(bad, good...)
		if err := os.WriteFile(damaged, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(cpFile+".away", cpFile); err != nil {
			t.Fatal(err)
		}
		r = manager.postForm("/audit/verify", nil)
		wantStatus(t, r, http.StatusOK)
		if msg := r.doc(t).Find(`[data-testid="verify-unverified"]`).Text(); !strings.Contains(msg, "could not run") || !strings.Contains(msg, filepath.Base(damaged)) && !strings.Contains(msg, "checkpoint file line") {
			t.Errorf("verify with %s damaged says %q", filepath.Base(damaged), msg)
		}
		if err := os.Rename(cpFile, cpFile+".away"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(damaged, good, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(cpFile+".away", cpFile); err != nil {
		t.Fatal(err)
	}

	// Behind the application's back, one byte of event 3 changes.
	for _, s := range []string{`DROP TRIGGER audit_events_no_update`, `UPDATE audit_events SET canon = replace(canon, '"user.created"', '"user.created "') WHERE seq = 3`} {
		if _, err := ts.DB.W.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	r = manager.postForm("/audit/verify", nil)
	wantStatus(t, r, http.StatusOK)
	if broken := r.doc(t).Find(`[data-testid="verify-broken"]`).Text(); !strings.Contains(broken, "broken at event 3") {
		t.Errorf("verify after tampering says %q", broken)
	}
	verified := ts.events("audit.verified")
	if len(verified) != 5 || verified[0].Outcome != db.OutcomeSuccess ||
		verified[1].Outcome != db.OutcomeFailure || !strings.HasPrefix(fmt.Sprint(verified[1].Details["problem"]), "could not run") ||
		verified[3].Outcome != db.OutcomeFailure || !strings.HasPrefix(fmt.Sprint(verified[3].Details["problem"]), "could not run") ||
		verified[4].Outcome != db.OutcomeFailure || verified[4].Details["broken_at"] != float64(3) {
		t.Errorf("checks audited as %+v", verified)
	}
}

// TestAuditToIncludesTheTimeWritten: "to" takes in the whole minute, or the
// whole day, that was written, as a manager reading "to 21 November" expects.
// (The events are after every other one of the test: the log's times rise
// with its sequence, as they do when events are appended as they happen.)
func TestAuditToIncludesTheTimeWritten(t *testing.T) {
	ts := newTestServer(t)
	manager := ts.as(db.RoleManager)
	audit := db.NewAudit(ts.DB)
	for _, at := range []string{"2030-11-20T23:59:59Z", "2030-11-21T14:30:00Z", "2030-11-21T14:30:59Z", "2030-11-21T14:31:00Z", "2030-11-21T23:59:59Z", "2030-11-22T00:00:00Z"} {
		when, _ := time.Parse(time.RFC3339, at)
		if err := audit.Record(t.Context(), db.Event{At: when, Actor: db.Actor{Type: db.ActorSystem}, Action: "test.when", Details: map[string]any{"at": at}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		from, to string
		want     int
	}{
		{"2030-11-21", "2030-11-21", 4},
		{"2030-11-21T14:30", "2030-11-21T14:30", 2},
		{"2030-11-21T14:30", "2030-11-21T14:31", 3},
		{"2030-11-21T14:30:59", "2030-11-21T14:30:59", 1},
		{"", "2030-11-20", 1},
		{"2030-11-21", "9999-12-31", 5},
		{"2030-11-21", "9999-12-31T23:59", 5},
	} {
		q := url.Values{"action": {"test.when"}, "from": {tt.from}, "to": {tt.to}}
		doc := manager.get("/audit?" + q.Encode()).doc(t)
		if got := doc.Find(`[data-testid="events"] tbody tr`).Length(); got != tt.want {
			t.Errorf("from %q to %q: %d events, want %d", tt.from, tt.to, got, tt.want)
		}
	}
	// Swapped times are said, at the "to" field, not applied as a range
	// that holds nothing.
	q := url.Values{"action": {"test.when"}, "from": {"2030-11-22"}, "to": {"2030-11-20"}}
	r := manager.get("/audit?" + q.Encode())
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantFieldError(t, r.doc(t), "to", "2030-11-20", "Enter a time on or after the From time.")
}

// TestSlowExportIsNotCutShort: an export takes as long as the client takes
// to read it. The server's write timeout bounds ordinary answers; applied
// to a large export on a slow link it cut the file short, silently, after
// the headers had said 200.
func TestSlowExportIsNotCutShort(t *testing.T) {
	ts := newTestServerWith(t, false)
	manager := ts.as(db.RoleManager)
	const events = 20000 // about 10 MB of JSON Lines: more than the socket buffers hold
	pad := strings.Repeat("x", 400)
	err := ts.DB.InTx(t.Context(), func(tx *sql.Tx) error {
		for i := range events {
			e := db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "test.bulk", Details: map[string]any{"i": i, "pad": pad}}
			if err := db.Append(t.Context(), tx, &e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The same application behind a server whose write timeout is far
	// shorter than the slow read below.
	slow := httptest.NewUnstartedServer(ts.App.Handler())
	slow.Config.WriteTimeout = 300 * time.Millisecond
	slow.Start()
	defer slow.Close()
	// The slow reading below must not meet the test client's own timeout.
	hc := *manager.hc
	hc.Timeout = time.Minute
	resp, err := hc.Get(slow.URL + "/audit/export?format=jsonl&action=test.bulk")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export answered %d", resp.StatusCode)
	}
	lines, buf := 0, make([]byte, 256<<10)
	start := time.Now()
	for {
		n, err := resp.Body.Read(buf)
		lines += bytes.Count(buf[:n], []byte("\n"))
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d lines and %v: %v", lines, time.Since(start).Round(time.Millisecond), err)
		}
		// Slow for a few write timeouts (the server's writes block on full
		// socket buffers meanwhile), then at full speed.
		if time.Since(start) < 4*slow.Config.WriteTimeout {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if lines != events || time.Since(start) < slow.Config.WriteTimeout {
		t.Errorf("read %d lines in %v; want all %d, over longer than the write timeout", lines, time.Since(start), events)
	}
}

// TestAuditViewsLeftOut: the log's own page views are left out of the list
// unless asked for, or unless their action is; the list's exports leave
// them out too and say so, while an export asked for on its own holds the
// whole log.
func TestAuditViewsLeftOut(t *testing.T) {
	ts := newTestServer(t)
	manager := ts.as(db.RoleManager)
	for range 3 {
		wantStatus(t, manager.get("/audit"), http.StatusOK)
	}
	actions := func(path string) map[string]int {
		n := map[string]int{}
		manager.get(path).doc(t).Find(`[data-testid="row-action"]`).Each(func(_ int, s *goquery.Selection) { n[s.Text()]++ })
		return n
	}
	listed := actions("/audit")
	if listed["audit.viewed"] != 0 || listed["auth.login.succeeded"] == 0 {
		t.Errorf("by default the log lists %v: want no views, and the rest", listed)
	}
	doc := manager.get("/audit?outcome=success&size=25").doc(t)
	more, _ := doc.Find(`[data-testid="views-hidden"] a`).Attr("href")
	if u, err := url.Parse(more); err != nil || u.Query().Get("views") != "shown" || u.Query().Get("outcome") != "success" || u.Query().Get("size") != "25" {
		t.Errorf("the link to list views too is %q: want the same filter and page size with views shown", more)
	}
	for _, path := range []string{more, "/audit?action=audit.viewed", "/audit?action=audit."} {
		if n := actions(path)["audit.viewed"]; n < 3 {
			t.Errorf("%s lists %d views, want at least 3", path, n)
		}
	}
	count := func(path string) int {
		r := manager.get(path)
		wantStatus(t, r, http.StatusOK)
		return strings.Count(r.Body, `"audit.viewed"`)
	}
	listExport, _ := doc.Find(`[data-testid="export-jsonl"]`).Attr("href")
	if n := count(listExport); n != 0 {
		t.Errorf("the list's export (%s) holds %d views", listExport, n)
	}
	if n := count("/audit/export?format=jsonl"); n < 3 {
		t.Errorf("an export asked for on its own holds %d views, want the whole log", n)
	}
	wantStatus(t, manager.get("/audit/export?format=jsonl&views=some"), http.StatusBadRequest)
	// What each export and view left out is on record.
	var filters []string
	for _, e := range append(ts.events("audit.exported"), ts.events("audit.viewed")[:1]...) {
		filters = append(filters, e.Details["filter"].(string))
	}
	if want := []string{"outcome=success&views=hidden", "views=shown", "views=hidden"}; !slices.Equal(filters, want) {
		t.Errorf("filters recorded %q, want %q", filters, want)
	}
}

// The log pages one way, older and older; a later page leads back to the
// newest events of the same filter.
func TestAuditPages(t *testing.T) {
	ts := newTestServer(t)
	manager := ts.as(db.RoleManager)
	for range 30 {
		wantStatus(t, manager.get("/audit"), http.StatusOK)
	}
	first := manager.get("/audit?views=shown&size=25").doc(t)
	older, ok := first.Find(`[data-testid="next-page"]`).Attr("href")
	if !ok || first.Find(`[data-testid="first-page"]`).Length() != 0 {
		t.Fatalf("the first page offers older events at %q (%v), or a way to itself", older, ok)
	}
	second := manager.get(older).doc(t)
	back, _ := second.Find(`[data-testid="first-page"]`).Attr("href")
	u, err := url.Parse(back)
	if err != nil || u.Path != "/audit" || u.Query().Has("before") || u.Query().Get("views") != "shown" || u.Query().Get("size") != "25" {
		t.Errorf("a later page leads back to %q: want the first page of the same filter", back)
	}
}

// TestVerifyPageNamesAnAlteredAuditSchema: a readable column redefined
// behind the application's back changes what the pages show but no hashed
// byte; the Verify page says the table was altered, and the failed check
// is audited with what differs.
func TestVerifyPageNamesAnAlteredAuditSchema(t *testing.T) {
	ts := newTestServerWith(t, false)
	manager := ts.as(db.RoleManager)
	for _, q := range []string{`ALTER TABLE audit_events DROP COLUMN actor_email`,
		`ALTER TABLE audit_events ADD COLUMN actor_email TEXT GENERATED ALWAYS AS ('cfo@example.com') VIRTUAL`} {
		if _, err := ts.DB.W.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	r := manager.postForm("/audit/verify", nil)
	wantStatus(t, r, http.StatusOK)
	doc := r.doc(t)
	if msg := doc.Find(`[data-testid="verify-schema"]`).Text(); !strings.Contains(msg, "table audit_events differs") || doc.Find(`[data-testid="verify-ok"], [data-testid="verify-broken"]`).Length() != 0 {
		t.Errorf("verify of an altered schema says %q", doc.Find(`.alert`).Text())
	}
	verified := ts.events("audit.verified")
	if len(verified) != 1 || verified[0].Outcome != db.OutcomeFailure || !strings.Contains(fmt.Sprint(verified[0].Details["schema"]), "table audit_events differs") {
		t.Errorf("check audited as %+v", verified)
	}
}

// TestAuditExportCarriesTheHashedBytes: an outsider given the whole log as
// JSON Lines checks the chain as the README says, from the bytes in each
// line's canon alone: hash = hex(SHA-256(previous hash's 32 bytes ‖
// canon)), from the genesis hash, oldest line (the last) first. The
// details here hold &, < and >, which Go's encoder escapes in the hashed
// text and an ordinary one would not: re-encoding the fields would fail.
func TestAuditExportCarriesTheHashedBytes(t *testing.T) {
	ts := newTestServerWith(t, false)
	manager := ts.as(db.RoleManager)
	manager.get("/audit?action=user.&outcome=success&text=" + url.QueryEscape("<b>"))
	r := manager.get("/audit/export?format=jsonl")
	wantStatus(t, r, http.StatusOK)
	lines := strings.Split(strings.TrimSpace(r.Body), "\n")
	prev := db.GenesisHash
	escaped := false
	for i := len(lines) - 1; i >= 0; i-- {
		var line struct {
			Seq    int64  `json:"seq"`
			Action string `json:"action"`
			Hash   string `json:"hash"`
			Canon  string `json:"canon"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &line); err != nil {
			t.Fatal(err)
		}
		raw, err := hex.DecodeString(prev)
		if err != nil || len(raw) != sha256.Size {
			t.Fatalf("previous hash %q", prev)
		}
		sum := sha256.Sum256(append(raw, line.Canon...))
		if got := hex.EncodeToString(sum[:]); got != line.Hash {
			t.Fatalf("seq %d (%s): SHA-256 of the previous hash and canon is %s, the line's hash %s", line.Seq, line.Action, got, line.Hash)
		}
		var fields []string
		if err := json.Unmarshal([]byte(line.Canon), &fields); err != nil || fields[0] != strconv.FormatInt(line.Seq, 10) || fields[6] != line.Action {
			t.Errorf("seq %d: canon %s does not encode the line's event (%v)", line.Seq, line.Canon, err)
		}
		escaped = escaped || strings.Contains(line.Canon, `\u0026`)
		prev = line.Hash
	}
	if len(lines) < 3 || !escaped {
		t.Errorf("%d lines, escaped & in a canon: %v; want the whole log, with details holding &", len(lines), escaped)
	}
}

// A HEAD request gets the headers of the log's pages and exports, and no
// events: nobody has seen any, so nothing is recorded as seen or exported,
// and no export is run for nothing.
func TestAuditHeadRequestsRecordNoReading(t *testing.T) {
	ts := newTestServer(t)
	manager := ts.as(db.RoleManager)
	seq := strconv.FormatInt(ts.events("user.created")[0].Seq, 10)
	for _, path := range []string{"/audit", "/audit/" + seq, "/audit/export?format=csv"} {
		req, err := http.NewRequest(http.MethodHead, ts.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := manager.do(req)
		if r.StatusCode != http.StatusOK || r.Body != "" {
			t.Errorf("HEAD %s: %d with %d bytes, want 200 and no body", path, r.StatusCode, len(r.Body))
		}
	}
	if n, m := len(ts.events("audit.viewed")), len(ts.events("audit.exported")); n != 0 || m != 0 {
		t.Errorf("HEAD requests recorded %d views and %d exports, want none", n, m)
	}
	// The same pages read with GET are on record.
	wantStatus(t, manager.get("/audit/"+seq), http.StatusOK)
	wantStatus(t, manager.get("/audit/export?format=csv"), http.StatusOK)
	if n, m := len(ts.events("audit.viewed")), len(ts.events("audit.exported")); n != 1 || m != 1 {
		t.Errorf("GET recorded %d views and %d exports, want one of each", n, m)
	}
}
