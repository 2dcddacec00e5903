package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"payoutdesk/db"
)

// TestChangeOwnPassword: a user replaces the password an administrator
// gave them. Mistakes are said by field and change nothing; wrong current
// passwords count against the account as failed sign-ins do, until it is
// locked; the user goes on in a renewed session, the others are signed
// out, and the change is audited without any password.
func TestChangeOwnPassword(t *testing.T) {
	ts := newTestServer(t)
	agent := ts.as(db.RoleAgent)
	elsewhere := ts.as(db.RoleAgent)
	const fresh = "a brand new passphrase"

	page := agent.get("/").doc(t)
	if href, _ := page.Find(`[data-testid="change-password"]`).Attr("href"); href != "/account/password" {
		t.Fatalf("the page header links %q for changing one's password", href)
	}
	form := agent.get("/account/password").doc(t)
	if form.Find(`input[name="password"][autocomplete="new-password"]`).Length() != 1 ||
		form.Find(`input[name="current"][autocomplete="current-password"]`).Length() != 1 {
		t.Error("the form's fields do not tell password managers which password is which")
	}

	tests := []struct {
		name                     string
		current, password, again string
		wantField, wantMessage   string
	}{
		{"no current password", "", fresh, fresh, "current", "Enter your current password."},
		{"too short", testPassword, "short", "short", "password", "at least 12 characters"},
		{"only spaces", testPassword, strings.Repeat(" ", 14), strings.Repeat(" ", 14), "password", "only spaces"},
		{"the same again", testPassword, testPassword, testPassword, "password", "other than your current one"},
		{"typed differently", testPassword, fresh, fresh + "!", "confirm", "differ"},
	}
	for _, tt := range tests {
		r := agent.postForm("/account/password", url.Values{"current": {tt.current}, "password": {tt.password}, "confirm": {tt.again}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		doc := r.doc(t)
		if msg := doc.Find(`[data-testid="error-` + tt.wantField + `"]`).Text(); !strings.Contains(msg, tt.wantMessage) {
			t.Errorf("%s: %s says %q, want %q", tt.name, tt.wantField, msg, tt.wantMessage)
		}
		if strings.Contains(r.Body, tt.password) && strings.TrimSpace(tt.password) != "" {
			t.Errorf("%s: the refused form shows a typed password", tt.name)
		}
	}

	// Wrong current passwords: refused, audited, and the fifth locks the
	// account, sign-ins included.
	for i := 1; i <= 5; i++ {
		r := agent.postForm("/account/password", url.Values{"current": {"not my password"}, "password": {fresh}, "confirm": {fresh}})
		want := http.StatusUnprocessableEntity
		if i == 5 {
			want = http.StatusTooManyRequests
		}
		wantStatus(t, r, want)
		if msg := r.doc(t).Find(`[data-testid="error-current"]`).Text(); !strings.Contains(msg, "not your current password") {
			t.Errorf("attempt %d: the current password's message is %q", i, msg)
		}
	}
	r := agent.postForm("/account/password", url.Values{"current": {testPassword}, "password": {fresh}, "confirm": {fresh}})
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Error("the locked account's refusal has no Retry-After")
	}
	if r := ts.client().login(string(db.RoleAgent)+"@example.com", testPassword); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("signing in to the locked account: %d, want 429", r.StatusCode)
	}
	failed, err := db.NewAudit(ts.DB).Search(context.Background(), db.AuditFilter{Action: "user.password_change_failed", Limit: 10})
	if err != nil || len(failed) != 5 || failed[0].Outcome != db.OutcomeFailure {
		t.Fatalf("audited %d failed changes (err %v), want 5 failures", len(failed), err)
	}

	// The lock lifted, the change goes through.
	if _, err := ts.DB.W.Exec(`DELETE FROM login_throttle`); err != nil {
		t.Fatal(err)
	}
	before := agent.cookie(cookieName)
	r = agent.postForm("/account/password", url.Values{"current": {testPassword}, "password": {fresh}, "confirm": {fresh}})
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/")
	// The user goes on in a new session: whoever copied the old id is out.
	if after := agent.cookie(cookieName); after == before || after == "" {
		t.Error("the session id was not renewed")
	}
	copied := ts.client()
	copied.setCookie(cookieName, before)
	if r := copied.get("/payouts"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("the old session id still opens the payouts: %d", r.StatusCode)
	}
	if msg := agent.get("/").doc(t).Find(`[data-testid="flash"]`).Text(); !strings.Contains(msg, "Your password is changed") {
		t.Errorf("after the change the page says %q", msg)
	}
	if r := elsewhere.get("/payouts"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("the other session still opens the payouts (%d, to %q)", r.StatusCode, r.Header.Get("Location"))
	}
	wantStatus(t, agent.get("/payouts"), http.StatusOK)
	if r := ts.client().login(string(db.RoleAgent)+"@example.com", testPassword); r.StatusCode == http.StatusSeeOther {
		t.Error("the old password still signs in")
	}
	if r := ts.client().login(string(db.RoleAgent)+"@example.com", fresh); r.StatusCode != http.StatusSeeOther {
		t.Errorf("the new password does not sign in: %d", r.StatusCode)
	}
	changed, err := db.NewAudit(ts.DB).Search(context.Background(), db.AuditFilter{Action: "user.password_changed", Limit: 10})
	if err != nil || len(changed) != 1 {
		t.Fatalf("audited %d changes (err %v), want 1", len(changed), err)
	}
	e := changed[0]
	if e.TargetID != e.Actor.ID || e.Details["email"] != string(db.RoleAgent)+"@example.com" || e.Details["other_sessions_revoked"] != float64(1) {
		t.Errorf("the change's event: target %s by %s, details %v", e.TargetID, e.Actor.ID, e.Details)
	}
	for _, secret := range []string{fresh, testPassword, "argon2id"} {
		if strings.Contains(e.DetailsJSON, secret) {
			t.Errorf("the audit event holds %q", secret)
		}
	}
}
