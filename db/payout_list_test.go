package db_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"payoutdesk/db"
)

// The list's text box finds exactly the payouts whose reference,
// beneficiary or masked account contain the text, case aside, and the
// payout whose number it is, whether it
// goes through the trigram index (three characters or more) or not, with
// other filters and page by page in both orders — payouts created since
// the index last caught up included.
func TestListTextMatchesSubstrings(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	store := db.NewPayouts(d)
	agent := newPayout(t, d).CreatedBy
	names := []string{"Ama Koffi", "Kofi Annan", "Éléonore Dupré", `Jean "JJ" O'Neil`, "100% Pure_Name", "ÅSA ÖBERG", "Zoë",
		"ΑΛΈΞΗΣ ΝΙΚΟΛΑΟΥ", "Αλέξης Νικολάου", "Maſs Olſen", "Mass Olsen", "Dose 5 µg"}
	create := func(i int) {
		key := "T" + strconv.Itoa(i)
		status := db.StatusQueued
		if i%3 == 0 {
			status = db.StatusPendingApproval
		}
		if _, _, err := store.Create(ctx, db.NewPayout{
			Provider: []string{"fedapay", "monime"}[i%2], Status: status, AmountMinor: 100, Currency: "XOF",
			IdempotencyKey: key, Reference: "PD-" + key + "REF", Fields: map[string]string{}, BeneficiaryName: names[i%len(names)],
			BeneficiaryAccount: "•••• " + strconv.Itoa(8000+i%17), CreatedBy: agent,
		}, db.Event{Actor: db.Actor{Type: db.ActorUser, ID: "1"}, Action: "payout.created"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 120 {
		create(i)
	}
	// Some have the provider's own ids and references by now; the same
	// id at two providers is two payouts.
	for i, ch := range map[int64]db.Change{
		10: {ProviderID: "777", ProviderReference: "pyt_ABC"},
		11: {ProviderID: "777", PaymentID: "pay-9"},
		30: {ProviderReference: "ref-XYZ"},
	} {
		if err := store.Change(ctx, i, ch, db.Event{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.IndexText(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 120; i < 140; i++ { // not indexed yet
		create(i)
	}
	all, err := store.List(ctx, db.PayoutFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	searchable := func(p db.Payout) string {
		return strings.ToLower(p.Reference + " " + p.BeneficiaryName + " " + p.BeneficiaryAccount)
	}
	for _, text := range []string{"koffi", "KOF", "ko", "é", "éléo", "ÉLÉONORE", `"jj"`, `jj" o'`, "100%", "e_n", "%", "_",
		"•••• 800", "8016", "pd-t13", "t13", "ref", "åsa ö", "zoë", "nobody", "a k", "pd-t13ref ama",
		"Αλέξης", "ΑΛΈΞΗΣ", "ξης", "ξησ", "olsen", "ass", "5 µg", "5 μg",
		// A payout's number finds it too, and the provider's ids and
		// references, exactly.
		"7", "#7", "12", "#120", "#999", "1 2", "777", "pyt_ABC", "pyt_abc", "pay-9", "ref-XYZ", " ref-XYZ "} {
		number, _ := strconv.ParseInt(strings.TrimPrefix(text, "#"), 10, 64)
		exact := func(p db.Payout) bool {
			v := strings.TrimSpace(text)
			return p.ID == number || p.ProviderID == v || p.PaymentID == v || p.ProviderReference == v
		}
		ids := []string{"fedapay", "monime"}
		for _, f := range []db.PayoutFilter{{Text: text, IDProviders: ids}, {Text: text, Provider: "fedapay", IDProviders: ids},
			{Text: text, Status: db.StatusPendingApproval, IDProviders: ids}} {
			var want []int64
			for _, p := range all {
				if (strings.Contains(searchable(p), strings.ToLower(text)) || exact(p)) && (f.Provider == "" || p.Provider == f.Provider) &&
					(f.Status == "" || p.Status == f.Status) {
					want = append(want, p.ID)
				}
			}
			for _, oldestFirst := range []bool{false, true} {
				f := f
				f.OldestFirst, f.Limit = oldestFirst, 7
				var got []int64
				for page := 0; page < 50; page++ {
					ps, err := store.List(ctx, f)
					if err != nil {
						t.Fatalf("%+v: %v", f, err)
					}
					for _, p := range ps {
						got = append(got, p.ID)
					}
					if len(ps) < f.Limit {
						break
					}
					if oldestFirst {
						f.After = ps[len(ps)-1].ID
					} else {
						f.Before = ps[len(ps)-1].ID
					}
				}
				if oldestFirst {
					slices.Reverse(got)
				}
				if !slices.Equal(got, want) {
					t.Errorf("text %q, provider %q, status %q, oldest first %v: got %v, want %v",
						text, f.Provider, f.Status, oldestFirst, got, want)
				}
			}
		}
	}
}
