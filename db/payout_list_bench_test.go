package db

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkPayoutList times the payouts list's filters on a large table,
// PAYOUTDESK_BENCH_PAYOUTS payouts (200,000 by default), the shapes an
// agent under time pressure uses: the newest page, one status, one
// creator, and the text box with a pasted reference or a name.
func BenchmarkPayoutList(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("PAYOUTDESK_BENCH_PAYOUTS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(b.TempDir(), "list.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	u := seedPayoutsSQL(b, d, n)
	// The text index is kept up by a worker; here it catches up before
	// timing starts.
	if _, err := NewPayouts(d).IndexText(ctx); err != nil {
		b.Fatal(err)
	}
	var oldRef string
	if err := d.R.QueryRowContext(ctx, `SELECT reference FROM payouts ORDER BY id LIMIT 1 OFFSET 10`).Scan(&oldRef); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		f    PayoutFilter
	}{
		{"newest", PayoutFilter{}},
		{"failed", PayoutFilter{Status: StatusFailed}},
		{"provider", PayoutFilter{Provider: "fedapay"}},
		{"creator", PayoutFilter{CreatedBy: u.ID}},
		{"last week", PayoutFilter{From: time.Now().AddDate(0, 0, -7)}},
		{"old reference", PayoutFilter{Text: oldRef}},
		{"name", PayoutFilter{Text: "beneficiary 4321"}},
		{"rare word", PayoutFilter{Text: "4321"}},
		{"no match", PayoutFilter{Text: "nobody"}},
		// Texts every payout holds, with a filter few pass.
		{"common text, rare status", PayoutFilter{Text: "pd-", Status: StatusFailed}},
		{"common text, empty status", PayoutFilter{Text: "pd-", Status: StatusUnknown}},
		{"common text, one agent's", PayoutFilter{Text: "pd-", CreatedBy: u.ID + 1}},
		{"common text, first day", PayoutFilter{Text: "pd-", To: time.Now().Add(-time.Duration(n-8640) * 10 * time.Second)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.f.Limit = 50
			for b.Loop() {
				if _, err := NewPayouts(d).List(ctx, bc.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// seedPayoutsSQL stores n payouts of one new agent with one statement,
// newest last: four providers, one in 500 failed, 5,000 distinct
// beneficiaries, one every 10 s back from now.
func seedPayoutsSQL(tb testing.TB, d *DB, n int) User {
	tb.Helper()
	ctx := context.Background()
	u, err := NewUsers(d).Create(ctx, "agent@example.com", RoleAgent, "correct horse battery",
		Event{Actor: Actor{Type: ActorCLI}, Action: "user.created"})
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now().Add(-time.Duration(n) * 10 * time.Second)
	_, err = d.W.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
		INSERT INTO payouts (provider, status, amount_minor, currency, idempotency_key, reference, fields,
			beneficiary_name, beneficiary_account, beneficiary_country, created_by, created_at, updated_at, search)
		SELECT p, st, 1000, 'XOF', 'k' || i, ref, '{}', name, '•••• ' || (1000 + i % 9000), 'BJ', ?, at, at,
			lower(ref || ' ' || name || ' •••• ' || (1000 + i % 9000))
		FROM (SELECT i,
			CASE i % 4 WHEN 0 THEN 'kibramoa' WHEN 1 THEN 'smartglocal' WHEN 2 THEN 'monime' ELSE 'fedapay' END AS p,
			CASE WHEN i % 500 = 0 THEN 'failed' ELSE 'paid' END AS st,
			'PD-' || upper(hex(randomblob(13))) AS ref,
			'Beneficiary ' || (i % 5000) AS name,
			strftime('%Y-%m-%dT%H:%M:%S.000000Z', ?, '+' || (i * 10) || ' seconds') AS at
			FROM s)`, n, u.ID, start.UTC().Format("2006-01-02 15:04:05"))
	if err != nil {
		tb.Fatal(err)
	}
	return u
}
