package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseForm(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantOK     bool
		wantStatus int
	}{
		{"fits", "reason=ok", true, http.StatusOK},
		{"over the limit", "reason=" + strings.Repeat("x", 100), false, http.StatusRequestEntityTooLarge},
		{"unreadable", "reason=%zz", false, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			if got := parseForm(w, r, 64); got != tt.wantOK {
				t.Fatalf("parseForm = %v, want %v", got, tt.wantOK)
			}
			if w.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", w.Code, tt.wantStatus)
			}
			if tt.wantOK && r.PostForm.Get("reason") != "ok" {
				t.Errorf("reason %q, want ok", r.PostForm.Get("reason"))
			}
		})
	}
}
