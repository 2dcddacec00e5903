package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"payoutdesk/db"
	"payoutdesk/providers"
	"payoutdesk/web"
)

// A provider that no longer knows a payout it accepted (a restarted
// sandbox has forgotten its payouts) would leave it in flight for ever,
// where nobody looks: it becomes an unknown outcome, in front of a
// manager, with the provider's answer in its trail.
func TestAPayoutItsProviderForgotBecomesUnknown(t *testing.T) {
	// Statuses never advance: every payout stays with its provider.
	ts := newTestServerConfig(t, false, func(cfg *web.Config) { cfg.SandboxStep = time.Hour })
	workCtx, stopWork := context.WithCancel(context.Background())
	waitWork := ts.App.StartWorkers(workCtx)
	agent := ts.as(db.RoleAgent)
	forms := validForms(ts)
	// Kibramoa is left out: a payout waiting for its customer has nothing
	// to be looked up by until the customer acts.
	ids := map[providers.Name]int64{}
	for _, name := range []providers.Name{providers.SmartGlocal, providers.Monime, providers.FedaPay} {
		ids[name] = agent.submit(name, agent.openForm(name), forms[name])
	}
	for name, id := range ids {
		if p := ts.waitStatus(id, db.StatusProcessing); p.ProviderID == "" {
			t.Fatalf("%s payout is processing without the provider's id", name)
		}
	}
	stopWork()
	waitWork()

	again := ts.restart()
	agent = again.as(db.RoleAgent)
	for name, id := range ids {
		path := "/payouts/" + strconv.FormatInt(id, 10)
		// Asked twice: once it is unknown, it is resumed or looked up by
		// the provider's id, never created again.
		for range 2 {
			r := agent.postForm(path+"/refresh", nil)
			wantStatus(t, r, http.StatusSeeOther)
			flash := strings.Join(strings.Fields(agent.get(r.Header.Get("Location")).doc(t).Find(`[data-testid="flash"]`).Text()), " ")
			if !strings.Contains(flash, "The provider says it has no such payout") || !strings.Contains(flash, "HTTP 404") ||
				!strings.Contains(flash, "do not create it again") || !strings.HasSuffix(flash, "Status: outcome unknown.") {
				t.Errorf("%s: Refresh status says %q", name, flash)
			}
		}
		p, err := db.NewPayouts(ts.DB).Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != db.StatusUnknown || p.NextCheckAt.IsZero() {
			t.Errorf("%s: payout is %s, next check %v; want unknown and still checked", name, p.Status, p.NextCheckAt)
		}
		page := agent.get(path).doc(t)
		if got := page.Find(`[data-testid="provider-error"]`).Text(); !strings.Contains(got, "Unknown to the provider: "+name.Title()+" answered HTTP 404") {
			t.Errorf("%s: the payout's page says %q", name, got)
		}
		statuses, _ := ts.trail(id)
		if got := statuses[len(statuses)-1]; got != string(db.StatusUnknown) {
			t.Errorf("%s: trail ends with %q, want unknown: %v", name, got, statuses)
		}
	}
	for _, op := range []string{"payout created", "session created", "payout started", "replayed"} {
		for name := range ids {
			if n := again.App.Sandbox().Count(name, op); n != 0 {
				t.Errorf("the restarted sandbox saw %s %s %d times, want none", name, op, n)
			}
		}
	}
	queue := again.as(db.RoleManager).get("/payouts/unknown")
	wantStatus(t, queue, http.StatusOK)
	for name, id := range ids {
		if queue.doc(t).Find(`a[href="/payouts/`+strconv.FormatInt(id, 10)+`"]`).Length() == 0 {
			t.Errorf("%s payout %d is not in the unknown outcomes queue", name, id)
		}
	}
}
