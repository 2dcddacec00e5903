package db

import (
	"path/filepath"
	"strings"
	"testing"
)

// The dashboard's query reads its partial index, not every payout of the
// user (an agent makes thousands) nor every payout in a status.
func TestAttentionUsesItsIndex(t *testing.T) {
	d, err := Open(t.Context(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	check := func(what, plan, index string) {
		t.Helper()
		if !strings.Contains(plan, "INDEX "+index) || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: plan\n%s\nwant %s, without a sort", what, plan, index)
		}
	}
	for _, st := range AttentionStatuses {
		check(string(st), queryPlan(t, d, attentionQuery, 1, st, 5), "payouts_attention (created_by=? AND status=?)")
	}
	check("ended", queryPlan(t, d, endedQuery, 1, "2026-11-14T00:00:00.000000Z", 5), "payouts_ended_unpaid (created_by=? AND finished_at>?)")
	check("contradicted", queryPlan(t, d, contradictedQuery, 1, "2026-11-14T00:00:00.000000Z", 5), "payouts_contradicted (created_by=? AND updated_at>?)")
}
