package monime

import (
	"fmt"
	"slices"
	"strings"

	"payoutdesk/providers"
)

// Names of the fields of Monime's payout form (keys of Payout.Fields).
const (
	FieldProviderCode  = "provider_code"
	FieldAccountID     = "account_id"
	FieldSourceAccount = "source_account"
	FieldMetadata      = "metadata"
)

// Form groups.
const (
	groupPayout      = "Payout"
	groupDestination = "Destination"
	groupSource      = "Source"
	groupMetadata    = "Metadata"
)

// Form is the agent's payout form for Monime.
func (c *Client) Form() providers.FormSpec {
	currencies := make([]providers.Option, len(c.cfg.Currencies))
	for i, code := range c.cfg.Currencies {
		currencies[i] = providers.Option{Value: code, Label: code}
	}
	dests := make([]providers.Option, len(c.cfg.Destinations))
	for i, d := range c.cfg.Destinations {
		dests[i] = providers.Option{Value: d.Code, Label: d.Label}
	}
	return providers.FormSpec{
		Provider: providers.Monime,
		Intro:    "Pays out from your Monime space to a Sierra Leone mobile money wallet or bank account.",
		Fields: []providers.Field{{
			Name: providers.FieldNameAmount, Label: "Amount", Type: providers.FieldAmount, Group: groupPayout, Required: true,
			Hint: "Amount to pay out, in leones with up to 2 decimals, e.g. 150.00.", Placeholder: "150.00",
		}, {
			Name: providers.FieldNameCurrency, Label: "Currency", Type: providers.FieldSelect, Group: groupPayout, Required: true,
			Options: currencies, Default: c.cfg.Currencies[0], Hint: currencyHint(c.cfg.Currencies),
		}, {
			Name: FieldProviderCode, Label: "Pay to", Type: providers.FieldSelect, Group: groupDestination, Required: true,
			Options: dests,
			Hint:    "The customer's mobile money operator or bank. It must match the number or account below.",
		}, {
			Name: FieldAccountID, Label: "Phone or account number", Type: providers.FieldText, Group: groupDestination, Required: true,
			MaxLen: 40, Account: true, Placeholder: "+23278123456",
			Hint: "Mobile money: the customer's phone number, +232 and 8 digits (078 123 456 is accepted). Bank: the account number.",
		}, {
			Name: FieldSourceAccount, Label: "Pay from (financial account)", Type: providers.FieldText, Group: groupSource,
			MaxLen: 100, Default: c.cfg.DefaultSourceAccount, Pattern: `\S+`, PatternMessage: "must not contain spaces",
			Hint: "Monime financial account id the money leaves from. Leave as it is; empty uses the space's main account.",
		}, {
			Name: FieldMetadata, Label: "Notes for Monime", Type: providers.FieldTextarea, Group: groupMetadata,
			MaxLen: 12000, Placeholder: "ticket=SUP-123",
			Hint: fmt.Sprintf("Optional. One key=value per line, e.g. ticket=SUP-123. Keys up to %d characters, values up to %d.",
				MaxMetadataKeyLen, MaxMetadataValueLen),
		}},
	}
}

func currencyHint(codes []string) string {
	if len(codes) == 1 && codes[0] == "SLE" {
		return "Monime pays out in Sierra Leonean leones (SLE)."
	}
	return "The currencies enabled for payouts in your Monime space."
}

// destination returns the configured destination with the given code.
func (c *Client) destination(code string) (Destination, bool) {
	i := slices.IndexFunc(c.cfg.Destinations, func(d Destination) bool { return d.Code == code })
	if i < 0 {
		return Destination{}, false
	}
	return c.cfg.Destinations[i], true
}

// Check applies Monime's rules beyond the form spec: the account format of
// the chosen provider and the metadata limits. The spec's options and
// pattern already hold the currency and the source account.
func (c *Client) Check(p providers.Payout) map[string]string {
	errs := make(map[string]string)
	if p.Amount.Minor <= 0 {
		errs[providers.FieldNameAmount] = "Enter an amount greater than zero."
	}
	d, ok := c.destination(p.Fields[FieldProviderCode])
	if !ok {
		errs[FieldProviderCode] = "Choose one of the listed operators or banks."
	} else if _, ok := NormalizeAccount(d.Kind, p.Fields[FieldAccountID]); !ok {
		if d.Kind == KindMobileMoney {
			errs[FieldAccountID] = "Enter the phone number as +232 followed by 8 digits, e.g. +23278123456, or 0 and 8 digits, e.g. 078123456."
		} else {
			errs[FieldAccountID] = "Enter the bank account number: 6 to 34 letters or digits."
		}
	}
	if _, problems := ParseMetadata(p.Fields[FieldMetadata]); len(problems) > 0 {
		msg := strings.Join(problems, "; ")
		errs[FieldMetadata] = strings.ToUpper(msg[:1]) + msg[1:] + "."
	}
	return errs
}

// Beneficiary summarises who receives p: Monime takes no beneficiary name,
// so Name is the operator or bank.
func (c *Client) Beneficiary(p providers.Payout) providers.Beneficiary {
	code := p.Fields[FieldProviderCode]
	name := code
	account := p.Fields[FieldAccountID]
	if d, ok := c.destination(code); ok {
		name = d.Label
		if a, ok := NormalizeAccount(d.Kind, account); ok {
			account = a
		}
	}
	return providers.Beneficiary{Name: name, AccountMasked: providers.MaskAccount(account), Country: "SL"}
}
