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

func TestPathID(t *testing.T) {
	for v, want := range map[string]int64{
		"1": 1, "1234": 1234, "9223372036854775807": 1<<63 - 1,
		"+1": 0, "01": 0, "0": 0, "-1": 0, "1e3": 0, " 1": 0, "": 0, "9223372036854775808": 0, "١": 0,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.SetPathValue("id", v)
		id, ok := pathID(r, "id")
		if id != want || ok != (want > 0) {
			t.Errorf("%q: %d, %v; want %d", v, id, ok, want)
		}
	}
}

// A message cut for a list says it was cut, and one that fits is left whole.
func TestShorten(t *testing.T) {
	for in, want := range map[string]string{
		"short":                 "short",
		"twelve chars":          "twelve chars",
		"a longer message here": "a longer…",
		"déjà vu déjà":          "déjà vu…",
	} {
		if got := shorten(in, 12); got != want {
			t.Errorf("shorten(%q, 12) = %q, want %q", in, got, want)
		}
	}
}

func TestAddressKey(t *testing.T) {
	for _, c := range []struct{ ip, want string }{
		{"203.0.113.9", "203.0.113.9"},
		{"::ffff:203.0.113.9", "203.0.113.9"},
		{"2001:db8:7:9::1", "2001:db8:7:9::/64"},
		{"2001:db8:7:9:ffff:ffff:ffff:ffff", "2001:db8:7:9::/64"},
		{"2001:db8:7:a::1", "2001:db8:7:a::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not an address", "not an address"},
		{"", ""},
	} {
		if got := addressKey(c.ip); got != c.want {
			t.Errorf("addressKey(%q) = %q, want %q", c.ip, got, c.want)
		}
	}
}
