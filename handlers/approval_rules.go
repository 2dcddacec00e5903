package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"payoutdesk/db"
	"payoutdesk/providers"
)

// DefaultApprovalThresholds are the amounts above which a payout needs a
// second person, per currency, for the currencies the providers offer:
// roughly the same value in each. A deployment sets its own with
// PAYOUTDESK_APPROVAL_THRESHOLDS.
const DefaultApprovalThresholds = "USD=1000, EUR=1000, GBP=1000, BRL=5000, MXN=20000, COP=4000000, PEN=4000, CLP=1000000, " +
	"ARS=1000000, GTQ=8000, CRC=500000, SLE=25000, XOF=500000, GNF=10000000"

// ApprovalRules say which payouts need approval: those above the threshold
// for their provider and currency, else for their currency. A payout in a
// currency without any threshold needs approval: unknown is not small.
type ApprovalRules struct {
	thresholds map[string]providers.Money
}

// ParseApprovalRules reads comma-separated entries "[provider:]CUR=amount",
// the amount in major units ("fedapay:XOF=200000, USD=1000").
func ParseApprovalRules(s string) (ApprovalRules, error) {
	r := ApprovalRules{thresholds: map[string]providers.Money{}}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		key, amount, ok := strings.Cut(entry, "=")
		if !ok {
			return r, fmt.Errorf("approval threshold %q: want [provider:]CUR=amount", entry)
		}
		key = strings.TrimSpace(key)
		provider, currency, scoped := strings.Cut(key, ":")
		if !scoped {
			provider, currency = "", key
		}
		if scoped && !slices.Contains(providers.All, providers.Name(provider)) {
			return r, fmt.Errorf("approval threshold %q: unknown provider %q", entry, provider)
		}
		m, err := providers.ParseMoney(strings.TrimSpace(amount), strings.ToUpper(currency))
		if err != nil {
			return r, fmt.Errorf("approval threshold %q: %v", entry, err)
		}
		r.thresholds[ruleKey(provider, m.Currency)] = m
	}
	return r, nil
}

func ruleKey(provider, currency string) string { return provider + ":" + currency }

// Threshold returns the amount above which a payout of this provider and
// currency needs approval.
func (r ApprovalRules) Threshold(provider, currency string) (providers.Money, bool) {
	if m, ok := r.thresholds[ruleKey(provider, currency)]; ok {
		return m, true
	}
	m, ok := r.thresholds[ruleKey("", currency)]
	return m, ok
}

// Needs reports whether a payout needs approval, and why.
func (r ApprovalRules) Needs(provider string, amount providers.Money) (bool, string) {
	t, ok := r.Threshold(provider, amount.Currency)
	if !ok {
		return true, "no approval threshold is set for " + amount.Currency
	}
	if amount.Minor > t.Minor {
		return true, "above the approval threshold of " + t.String()
	}
	return false, ""
}

// approvalHash is a keyed hash (HMAC-SHA256, with the installation's
// ApprovalKey) of everything a payout would send: what an approver sees on
// its page, account numbers included. The approval stores it, and the
// worker refuses to send a payout whose hash has changed since. Keyed,
// because the hash is in the approval form and the audit log beside the
// masked account number: a plain hash of a phone number with four digits
// hidden is undone in ten thousand tries.
func (f *Flow) approvalHash(p db.Payout) string {
	m := hmac.New(sha256.New, f.ApprovalKey)
	m.Write(approvalContent(p))
	return hex.EncodeToString(m.Sum(nil))
}

// approvedAsSeen reports whether p, if it was approved, is still what its
// approver saw.
func (f *Flow) approvedAsSeen(p db.Payout) bool {
	if p.ApprovalHash == "" || hmac.Equal([]byte(p.ApprovalHash), []byte(f.approvalHash(p))) {
		return true
	}
	// Approved before the hash was keyed, with its plain SHA-256 stored:
	// still checked, never again drawn.
	plain := sha256.Sum256(approvalContent(p))
	return p.ApprovalHash == hex.EncodeToString(plain[:])
}

// approvalContent is what approvalHash covers, in a stable encoding.
func approvalContent(p db.Payout) []byte {
	keys := make([]string, 0, len(p.Fields))
	for k := range p.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fields := make([][2]string, len(keys))
	for i, k := range keys {
		fields[i] = [2]string{k, p.Fields[k]}
	}
	b, _ := json.Marshal(struct {
		Provider  string      `json:"provider"`
		Amount    int64       `json:"amount_minor"`
		Currency  string      `json:"currency"`
		Reference string      `json:"reference"`
		Key       string      `json:"idempotency_key"`
		Fields    [][2]string `json:"fields"`
	}{p.Provider, p.AmountMinor, p.Currency, p.Reference, p.IdempotencyKey, fields})
	return b
}
