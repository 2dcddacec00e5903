package db_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"payoutdesk/db"
)

// BenchmarkPayoutWrites times the writer's share of sending one payout: the
// two write transactions a payout sent from its form takes (created with
// its outbox entry and claimed for sending, its answer recorded with two
// exchanges), with their three audit events, from 32 goroutines at once as the app's
// agents and senders run, so that commits are shared as they are under
// load. It reports the writer's time per payout.
func BenchmarkPayoutWrites(b *testing.B) {
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(b.TempDir(), "writes.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	store := db.NewPayouts(d)
	u, err := db.NewUsers(d).Create(ctx, "agent@example.com", db.RoleAgent, "a long enough password",
		db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "user.created"})
	if err != nil {
		b.Fatal(err)
	}
	agent := db.Actor{Type: db.ActorUser, ID: strconv.FormatInt(u.ID, 10), Email: u.Email, Role: string(db.RoleAgent)}
	body := `{"amount":150000,"currency":"XOF","description":"Payout PD-0001","customer":{"firstname":"Ama","lastname":"Mensah","phone_number":{"number":"•••• 6789","country":"bj"}}}`
	var next atomic.Int64
	start := d.Stats()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				key := fmt.Sprintf("K%08d", i)
				p, _, err := store.Create(ctx, db.NewPayout{
					Provider: "fedapay", Status: db.StatusQueued, AmountMinor: 150000, Currency: "XOF",
					IdempotencyKey: key, Reference: "PD-" + key,
					Fields:          map[string]string{"amount": "150000", "currency": "XOF", "phone": "22997123456", "firstname": "Ama", "lastname": "Mensah"},
					BeneficiaryName: "Ama Mensah", BeneficiaryAccount: "22997123456", BeneficiaryCountry: "BJ", CreatedBy: u.ID,
					Claim: &db.Claim{At: time.Now(), Event: db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.submitting"}},
				}, db.Event{Actor: agent, Action: "payout.created", Origin: db.Origin{IP: "127.0.0.1", UserAgent: "bench", RequestID: key}})
				if err != nil {
					b.Error(err)
					return
				}
				claimed := []db.Payout{p}
				for _, c := range claimed {
					x := db.Exchange{At: time.Now(), Op: "create", Method: "POST", URL: "http://127.0.0.1/v1/payouts",
						RequestHeaders: map[string]string{"Content-Type": "application/json"}, RequestBody: body, Status: 200,
						ResponseBody: `{"v1/payout":{"id":` + strconv.FormatInt(c.ID, 10) + `,"status":"pending"}}`, DurationMillis: 1}
					err := store.Change(ctx, c.ID, db.Change{To: db.StatusProcessing, Only: []db.Status{db.StatusSubmitting},
						ProviderID: strconv.FormatInt(c.ID, 10), RawStatus: "pending", Dequeue: true, Record: true,
						CheckAt: time.Now().Add(time.Minute), Exchanges: []db.Exchange{x, x}},
						db.Event{Actor: db.Actor{Type: db.ActorSystem}, Action: "payout.submitted"})
					if err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	s := d.Stats()
	b.ReportMetric(float64(s.BusyNanos-start.BusyNanos)/float64(b.N)/1e3, "writer-µs/payout")
	commits := float64(s.Commits - start.Commits)
	b.ReportMetric(float64(s.Transactions-start.Transactions)/commits, "tx/commit")
	b.ReportMetric(float64(s.Transactions-start.Transactions)/float64(b.N), "tx/payout")
	b.ReportMetric(float64(s.CommitNanos-start.CommitNanos)/commits/1e3, "µs/commit")
}
