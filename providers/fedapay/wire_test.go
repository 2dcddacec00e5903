package fedapay

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"payoutdesk/providers"
)

func TestDecodePayout(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    payout
		wantErr bool
	}{
		{name: "wrapped seed example", body: string(readTestdata(t, "create_response.json")),
			want: payout{ID: 1, Reference: "pyt_8Xq2LmT4", Status: "pending", MerchantReference: "bo-payout-6f1c...", Amount: 2000, HasAmount: true}},
		{name: "bare seed example", body: string(readTestdata(t, "create_response_bare.json")),
			want: payout{ID: 1, Reference: "pyt_8Xq2LmT4", Status: "pending", MerchantReference: "bo-payout-6f1c...", Amount: 2000, HasAmount: true}},
		{name: "failed with error", body: string(readTestdata(t, "payout_failed.json")),
			want: payout{ID: 1, Reference: "pyt_8Xq2LmT4", Status: "failed", MerchantReference: "bo-payout-6f1c...", Amount: 2000, HasAmount: true,
				ErrorCode: "payout_declined", ErrorMessage: "The mobile money operator declined the payout."}},
		{name: "lenient types", body: `{"id": "7", "status": "SENT", "amount": "2000.00", "last_error_code": 42, "reference": null,
			"currency": {"iso": "xof"}, "deleted_at": "2026-01-01T00:00:00Z", "unknown": [1, 2]}`,
			want: payout{ID: 7, Status: "sent", Amount: 2000, HasAmount: true, ErrorCode: "42", Currency: "XOF", Deleted: true}},
		{name: "no amount", body: `{"id": 3, "status": "pending", "amount": null}`, want: payout{ID: 3, Status: "pending"}},
		{name: "missing id", body: `{"status": "pending"}`, wantErr: true},
		{name: "zero id", body: `{"id": 0, "status": "pending"}`, wantErr: true},
		{name: "negative id", body: `{"id": -4, "status": "pending"}`, wantErr: true},
		{name: "fractional id", body: `{"id": 1.5, "status": "pending"}`, wantErr: true},
		{name: "missing status", body: `{"id": 1}`, wantErr: true},
		{name: "status not a string", body: `{"id": 1, "status": 3}`, wantErr: true},
		{name: "fractional amount", body: `{"id": 1, "status": "sent", "amount": 20.5}`, wantErr: true},
		{name: "negative amount", body: `{"id": 1, "status": "sent", "amount": -20}`, wantErr: true},
		{name: "not JSON", body: `{"id": `, wantErr: true},
		{name: "array", body: `[]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodePayout([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("payout mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeStarted(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		id         int64
		wantStatus string
		wantErr    bool
	}{
		{"SDK wrapper", string(readTestdata(t, "start_response.json")), 1, "started", false},
		{"docs bare array", string(readTestdata(t, "start_response_bare.json")), 1, "sent", false},
		{"picks our payout from a batch", `{"v1/payouts": [{"id": 2, "status": "failed"}, {"id": 1, "status": "started"}]}`, 1, "started", false},
		{"single object", `{"v1/payout": {"id": 1, "status": "started"}}`, 1, "started", false},
		{"other payout only", `{"v1/payouts": [{"id": 2, "status": "started"}]}`, 1, "", true},
		{"empty list", `{"v1/payouts": []}`, 1, "", true},
		{"our payout unreadable", `[{"id": 1}]`, 1, "", true},
		{"not JSON", `ok`, 1, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeStarted([]byte(tt.body), tt.id)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got.Status != tt.wantStatus {
				t.Errorf("status: got %q, want %q", got.Status, tt.wantStatus)
			}
		})
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantMsg    string
		wantFields map[string][]string
	}{
		{"documented envelope", string(readTestdata(t, "error_422.json")), "The given data was invalid.",
			map[string][]string{"mode": {"The mode field is required."}, "customer.lastname": {"The customer.lastname field is required."}}},
		{"empty errors", `{"message": "Unauthenticated.", "errors": {}}`, "Unauthenticated.", nil},
		{"message list", `{"message": ["a", " ", "b"]}`, "a; b", nil},
		{"errors as list", `{"message": "Bad", "errors": ["x", "y"]}`, "Bad; x; y", nil},
		{"field as string, odd values skipped", `{"errors": {"amount": "too big", "mode": 3, "x": []}}`, "",
			map[string][]string{"amount": {"too big"}}},
		{"not JSON", `<html>oops</html>`, "", nil},
		{"empty", ``, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, fields := parseError([]byte(tt.body))
			if msg != tt.wantMsg {
				t.Errorf("message: got %q, want %q", msg, tt.wantMsg)
			}
			if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
				t.Errorf("fields mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormatPhone(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		country string
		format  PhoneFormat
		want    string
		wantErr bool
	}{
		{"local as is", "97808080", "bj", PhoneLocal, "97808080", false},
		{"local strips +229", "+229 97 80 80 80", "bj", PhoneLocal, "97808080", false},
		{"local strips 00229", "00229-97.80.80.80", "bj", PhoneLocal, "97808080", false},
		{"international adds code", "97808080", "tg", PhoneInternational, "+22897808080", false},
		{"international keeps code", "+22897808080", "tg", PhoneInternational, "+22897808080", false},
		{"as typed keeps plus", "+229 (97) 808080", "xx", PhoneAsTyped, "+22997808080", false},
		{"local strips 229 typed without +", "229 97 80 80 80", "bj", PhoneLocal, "97808080", false},
		{"international from 229 without +", "22997808080", "bj", PhoneInternational, "+22997808080", false},
		{"ten digits starting like a code", "2290197808", "bj", PhoneLocal, "", true},
		{"a digit short", "+228 9780808", "tg", PhoneInternational, "", true},
		{"Côte d'Ivoire's ten digits", "+225 07 08 09 10 11", "ci", PhoneLocal, "0708091011", false},
		{"Côte d'Ivoire's old eight digits", "08 09 10 11", "ci", PhoneLocal, "", true},
		{"Senegal with its code typed bare", "221 77 123 45 67", "sn", PhoneInternational, "+221771234567", false},
		{"Guinea", "620 00 00 00", "gn", PhoneInternational, "+224620000000", false},
		{"new ten-digit number with code", "229 01 97 80 80 80", "bj", PhoneInternational, "+2290197808080", false},
		{"other country code", "+22897808080", "bj", PhoneLocal, "", true},
		{"code only", "+229", "bj", PhoneInternational, "", true},
		{"letters", "97A08080", "bj", PhoneLocal, "", true},
		{"empty", "  ", "bj", PhoneLocal, "", true},
		{"unknown country", "97808080", "fr", PhoneLocal, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := formatPhone(tt.raw, tt.country, tt.format)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMapStatus(t *testing.T) {
	tests := []struct {
		raw     string
		deleted bool
		want    providers.Status
	}{
		// Created, not started: checked, and started again from its id.
		{"pending", false, providers.StatusUnknown},
		{" Pending", false, providers.StatusUnknown},
		{"scheduled", false, providers.StatusProcessing},
		{"started", false, providers.StatusProcessing},
		{"processing", false, providers.StatusProcessing},
		{" Sent ", false, providers.StatusPaid},
		{"failed", false, providers.StatusFailed},
		{"pending", true, providers.StatusCancelled},
		{"scheduled", true, providers.StatusCancelled},
		// Deleted while under way, or in no listed status: a
		// contradiction for a person to settle, never an unpaid end.
		{"started", true, providers.StatusUnknown},
		{"processing", true, providers.StatusUnknown},
		{"sent", true, providers.StatusPaid},
		{"failed", true, providers.StatusFailed},
		{"approved", false, providers.StatusUnknown},
		{"approved", true, providers.StatusUnknown},
		{"", false, providers.StatusUnknown},
		{"", true, providers.StatusUnknown},
	}
	for _, tt := range tests {
		if got := MapStatus(tt.raw, tt.deleted); got != tt.want {
			t.Errorf("MapStatus(%q, %v): got %q, want %q", tt.raw, tt.deleted, got, tt.want)
		}
	}
}
