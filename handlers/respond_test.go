package handlers

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"payoutdesk/db"
)

// A change refused because its author lost the right to it during the
// request is not the server's fault: 403 with the reason, not a 500.
func TestServerErrorNamesARefusedAuthor(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{db.ErrActorDisabled, "your account is disabled"},
		{db.ErrActorDemoted, "your role changed"},
	} {
		w := httptest.NewRecorder()
		serverError(w, httptest.NewRequest(http.MethodPost, "/payouts/1/approve", nil), slog.New(slog.DiscardHandler), fmt.Errorf("db: change payout 1: %w", tt.err))
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), tt.want) {
			t.Errorf("%v answers %d, want 403 saying %q", tt.err, w.Code, tt.want)
		}
	}
}
