package db_test

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"payoutdesk/db"
)

// The list's text box finds exactly the payouts whose reference,
// beneficiary or masked account contain the text, case and accents aside, and the
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
		"ΑΛΈΞΗΣ ΝΙΚΟΛΑΟΥ", "Αλέξης Νικολάου", "Maſs Olſen", "Mass Olsen", "Dose 5 µg", "Komi Sénou, Lomé", "Øyvind Straße"}
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
	// The oracle: plain substrings of the lowercased text, accents removed.
	fold := func(s string) string {
		out, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), strings.ToLower(s))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	searchable := func(p db.Payout) string {
		return fold(p.Reference + " " + p.BeneficiaryName + " " + p.BeneficiaryAccount)
	}
	for _, text := range []string{"koffi", "KOF", "ko", "é", "éléo", "ÉLÉONORE", `"jj"`, `jj" o'`, "100%", "e_n", "%", "_",
		"•••• 800", "8016", "pd-t13", "t13", "ref", "åsa ö", "zoë", "nobody", "a k", "pd-t13ref ama",
		"Αλέξης", "ΑΛΈΞΗΣ", "ξης", "ξησ", "olsen", "ass", "5 µg", "5 μg",
		// Accents are ignored, on either side; other letters are not.
		"lome", "LOMÉ", "senou, lo", "Sénou", "eleonore", "zoe", "alexis", "αλεξης", "oyvind", "øyvind", "strasse", "straße",
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
				if (strings.Contains(searchable(p), fold(text)) || exact(p)) && (f.Provider == "" || p.Provider == f.Provider) &&
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

// TestFoldMigration: payouts stored before the list ignored accents are
// folded by the upgrade, and found without them once the index is rebuilt
// (and before, by reading the table).
func TestFoldMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fold.db")
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	p := newPayout(t, d)
	// As version 8 stored it: lowercased only, and indexed so.
	for _, q := range []string{
		`UPDATE payouts SET search = 'pd-k1 komi sénou, lomé •••• 3456'`,
		`INSERT INTO payout_text (rowid, search) VALUES (1, 'pd-k1 komi sénou, lomé •••• 3456')`,
		`UPDATE payout_text_position SET payout_id = 1`,
		`ALTER TABLE payouts DROP COLUMN payout_option`,     // added by version 10
		`DROP INDEX payouts_attention`,                      // added by version 11
		`DROP INDEX payouts_ended_unpaid`,                   // added by version 13, which drops version 11's payouts_failed
		`DROP INDEX payouts_contradicted`,                   // added by version 14
		`ALTER TABLE users DROP COLUMN version`,             // added by version 12
		`CREATE INDEX audit_events_at ON audit_events (at)`, // dropped by version 16
		`PRAGMA user_version = 8`,
	} {
		if _, err := d.W.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	d.Close()
	if d, err = db.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	store := db.NewPayouts(d)
	for _, text := range []string{"lome", "senou", "Lomé", "sénou, lo"} {
		got, err := store.List(ctx, db.PayoutFilter{Text: text, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != p.ID {
			t.Errorf("after the upgrade, %q finds %d payouts, want payout %d", text, len(got), p.ID)
		}
	}
	var indexed int
	if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM payout_text WHERE payout_text MATCH '"lome"'`).Scan(&indexed); err != nil {
		t.Fatal(err)
	}
	if indexed != 1 {
		t.Errorf("the rebuilt index holds %d payouts with \"lome\", want 1", indexed)
	}
}
