package sandbox_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"payoutdesk/providers/sandbox"
)

// The sandbox's own page documents every magic value and the provider
// limits it keeps, for agents training on it.
func TestIndexDocumentsFaultsAndLimits(t *testing.T) {
	sb := sandbox.New(sandbox.Config{BaseURL: "http://sandbox.test"})
	defer sb.Close()
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if resp.StatusCode != 200 {
		t.Fatalf("index: HTTP %d", resp.StatusCode)
	}
	for _, m := range sandbox.MagicValues {
		if !strings.Contains(page, "<code>"+string(m.Fault)+"</code>") {
			t.Errorf("the index does not document %s", m.Fault)
		}
	}
	for _, limit := range []string{"at most 3 payouts to one Mobile Money number in 24 hours", "PIX for 1.00 to 5,000.00 BRL", "SPEI for up to 10,000.00 MXN"} {
		if !strings.Contains(page, limit) {
			t.Errorf("the index does not say %q", limit)
		}
	}
}
