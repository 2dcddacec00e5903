package handlers

import (
	"bytes"
	"encoding/gob"
	"reflect"
	"testing"
)

// Flash messages come back as gorilla keeps them ([]any), whether the
// session was stored as JSON or, by an earlier version, as gob.
func TestSessionValuesRoundTrip(t *testing.T) {
	values := map[any]any{"_flash_success": []any{"Payout 7: sent.", "<b>kept as text</b>"}, keyUser: "not stored"}
	data, n, err := encodeValues(values)
	if err != nil || n != 1 {
		t.Fatalf("encode: %d values, %v", n, err)
	}
	var old bytes.Buffer
	if err := gob.NewEncoder(&old).Encode(map[string]any{"_flash_error": []any{"Refused."}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want map[any]any
	}{
		{"stored as JSON", data, map[any]any{"_flash_success": []any{"Payout 7: sent.", "<b>kept as text</b>"}}},
		{"stored as gob by an earlier version", old.Bytes(), map[any]any{"_flash_error": []any{"Refused."}}},
		{"nothing stored", []byte("{}"), map[any]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[any]any{}
			if err := decodeValues(tt.data, got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded %#v, want %#v", got, tt.want)
			}
		})
	}
	if err := decodeValues([]byte("\x00not a session"), map[any]any{}); err == nil {
		t.Error("unreadable session data decoded without an error")
	}
}
