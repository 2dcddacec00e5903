package kibramoa

import "testing"

// The cashier URL comes in cashierUrl, as the example shows, or in
// message, as the field table allows; an error text in message is no URL.
func TestParseSessionResponse(t *testing.T) {
	const cashier = "https://cashier.kibramoa.net/payout/?sessionId=54ed4d33-9c24-4ef0-a7f8-242920a657u5"
	tests := []struct {
		name, body string
		wantErr    bool
	}{
		{"cashierUrl", `{"cashierUrl": "` + cashier + `"}`, false},
		{"URL in message", `{"message": "` + cashier + `"}`, false},
		{"cashierUrl wins", `{"cashierUrl": "` + cashier + `", "message": ["ok"]}`, false},
		{"error text in message", `{"message": "Session could not be created"}`, true},
		{"message not a string", `{"message": ["https://cashier.kibramoa.net/payout/?sessionId=x"]}`, true},
		{"relative URL", `{"cashierUrl": "/payout/?sessionId=x"}`, true},
		{"empty", `{}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, session, err := parseSessionResponse([]byte(tt.body))
			if tt.wantErr {
				if err == nil {
					t.Errorf("got %q, want an error", url)
				}
				return
			}
			if err != nil || url != cashier || session != "54ed4d33-9c24-4ef0-a7f8-242920a657u5" {
				t.Errorf("got %q, session %q, %v; want the cashier URL and its session", url, session, err)
			}
		})
	}
}
