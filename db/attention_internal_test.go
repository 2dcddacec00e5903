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
	for _, st := range AttentionStatuses {
		plan := queryPlan(t, d, attentionQuery, 1, st, 5)
		if !strings.Contains(plan, "USING INDEX payouts_attention (created_by=? AND status=?)") {
			t.Errorf("%s: plan\n%s\nwant the payouts_attention index", st, plan)
		}
		if strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: plan sorts:\n%s", st, plan)
		}
	}
}
