package handlers

import (
	"log/slog"
	"net/http"

	"payoutdesk/providers"
	"payoutdesk/views/cashier"
	providersview "payoutdesk/views/providers"
)

// Providers shows how each provider is configured (never its secrets).
type Providers struct {
	Log   *slog.Logger
	Rails *providers.Registry
	// BaseURLs are the providers' API base URLs.
	BaseURLs map[providers.Name]string
	// AppURL is the app's public base URL, for the webhook URLs.
	AppURL string
}

// List renders the providers page (GET /providers).
func (h *Providers) List(w http.ResponseWriter, r *http.Request) {
	var p providersview.Page
	for _, n := range h.Rails.Names() {
		rail, _ := h.Rails.Get(n)
		c := rail.Capabilities()
		row := providersview.Row{
			Name: string(n), Title: n.Title(), Sandbox: sandboxed(h.Rails, n),
			BaseURL: h.BaseURLs[n], WebhookURL: h.AppURL + "/webhooks/" + string(n), Signature: string(c.Signature),
		}
		for _, f := range []struct {
			on   bool
			name string
		}{
			{c.HostedCashier, "hosted cashier"}, {c.ConfirmStep, "confirm step"}, {c.IdempotencyHeader, "idempotency key"},
			{c.StatusLookup, "status lookup"}, {c.Cancel, "cancel"},
		} {
			if f.on {
				row.Capabilities = append(row.Capabilities, f.name)
			}
		}
		p.Rows = append(p.Rows, row)
	}
	render(w, r, h.Log, http.StatusOK, providersview.List(p))
}

// CashierDone is the page the Kibramoa cashier returns customers to
// (GET /cashier/done).
func CashierDone(log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		render(w, r, log, http.StatusOK, cashier.Done())
	}
}
