package db

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// FuzzDecodeCanon checks the fast decoder against encoding/json: for any
// input, both accept it with the same fields, or both refuse it.
func FuzzDecodeCanon(f *testing.F) {
	e := &Event{Seq: 42, Actor: Actor{Type: "user", ID: "7", Email: "zoë@example.com", Role: "manager"},
		Action: "payout.approved", TargetType: "payout", TargetID: "9", Outcome: "success",
		Origin: Origin{IP: "203.0.113.9", UserAgent: "Mozilla/5.0 \"quoted\" <b>", RequestID: "r1"},
		Reason: "line one\nline two\t\u2028 =1+1", DetailsJSON: `{"amount":"1.00","note":"a\\b \u00e9 😀"}`, Provider: "monime"}
	canon, err := canonical(formatTime(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)), e)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{canon, `[]`, `["a"]`, `["a",]`, `["\ud83d\ude00","\ud83d"]`, `["\u00e9\/"]`,
		"[\"\xff\"]", `["a" ,"b"]`, `[ "a"]`, `["\x"]`, `["\u12"]`, `["a"]]`, `[1]`, `["` + "\x01" + `"]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want []string
		wantErr := json.Unmarshal([]byte(s), &want)
		got, err := decodeCanon(s, nil)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("decodeCanon(%q) error %v, encoding/json error %v", s, err, wantErr)
		}
		if err == nil && !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("decodeCanon(%q) = %q, encoding/json gives %q", s, got, want)
		}
	})
}

func BenchmarkDecodeCanon(b *testing.B) {
	e := &Event{Seq: 123456, Actor: Actor{Type: "user", ID: "17", Email: "agent17@example.com", Role: "agent"},
		Action: "payout.status_changed", TargetType: "payout", TargetID: "98765", Outcome: "success",
		Origin:      Origin{IP: "203.0.113.9", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", RequestID: "5f2c9a0e1b7d"},
		DetailsJSON: `{"from":"submitted","to":"paid","provider_status":"SUCCESSFUL","amount":"125.00 XOF"}`, Provider: "fedapay"}
	canon, err := canonical(formatTime(time.Now()), e)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		var fields []string
		for b.Loop() {
			if fields, err = decodeCanon(canon, fields); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			var fields []string
			if err := json.Unmarshal([]byte(canon), &fields); err != nil {
				b.Fatal(err)
			}
		}
	})
}
