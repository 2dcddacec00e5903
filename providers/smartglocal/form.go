package smartglocal

import (
	"strings"

	"payoutdesk/providers"
)

// Payment methods offered on the form (payment_method.type on the wire).
const (
	methodBankAccount = "bank_account"
	methodCard        = "card"
)

// currencies are the payout currencies offered; Smart Glocal's full list
// depends on the project's corridors.
var currencies = []providers.Option{
	{Value: "USD", Label: "USD — US dollar"},
	{Value: "EUR", Label: "EUR — euro"},
	{Value: "GBP", Label: "GBP — pound sterling"},
}

const (
	groupPayout    = "Payout"
	groupRecipient = "Recipient"
	groupSender    = "Sender"
	groupCustomer  = "Customer"
)

var (
	whenBank = &providers.Condition{Field: "payment_method", Values: []string{methodBankAccount}}
	whenCard = &providers.Condition{Field: "payment_method", Values: []string{methodCard}}
)

// iso3Country is the validator tag of the ISO 3166 country fields: three
// capital letters that name a country (not ZZZ, nor a currency such as USD).
const iso3Country = "iso3166_1_alpha3"

// Form is the agent's form for a Smart Glocal payout.
func (c *Client) Form() providers.FormSpec {
	s := c.cfg.Sender
	return providers.FormSpec{
		Provider: providers.SmartGlocal,
		Intro: "Pays out from the prefunded Smart Glocal balance to a bank account (IBAN) or a bank card. " +
			"Smart Glocal holds each payout for confirmation: Payout Desk confirms it once Smart Glocal's copy matches what was submitted " +
			"(amount, currency, recipient), and cancels it, saying why, if it does not.",
		Fields: []providers.Field{
			{Name: providers.FieldNameAmount, Label: "Amount", Type: providers.FieldAmount, Group: groupPayout, Required: true,
				Hint: "In major units, as on the request: 150.00 means one hundred and fifty.", Placeholder: "150.00"},
			{Name: providers.FieldNameCurrency, Label: "Currency", Type: providers.FieldSelect, Group: groupPayout, Required: true,
				Options: currencies, Default: "USD", Hint: "Currency debited from the Smart Glocal balance."},
			{Name: "payment_method", Label: "Pay to", Type: providers.FieldSelect, Group: groupPayout, Required: true,
				Default: methodBankAccount, Options: []providers.Option{
					{Value: methodBankAccount, Label: "Bank account (IBAN)"},
					{Value: methodCard, Label: "Bank card"},
				}},
			{Name: "iban", Label: "IBAN", Type: providers.FieldText, Group: groupPayout, Required: true, Account: true, When: whenBank,
				MaxLen: 42, Pattern: `[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{11,38}`,
				PatternMessage: "Starts with two letters and two digits, such as BE71 0961 2345 6769.",
				Hint:           "Copy it from the recipient's bank details; spaces are fine.", Placeholder: "BE71 0961 2345 6769"},
			{Name: "remittance_description", Label: "Purpose of payment", Type: providers.FieldText, Group: groupPayout, When: whenBank,
				MaxLen: 140, Hint: "What the payout is for; the recipient's bank may show it on the statement.",
				Placeholder: "Refund of order 1234"},
			{Name: "card_number", Label: "Card number", Type: providers.FieldText, Group: groupPayout, Required: true, Account: true, When: whenCard,
				MaxLen: 23, Pattern: `[0-9 ]{12,23}`, PatternMessage: "12 to 19 digits; spaces are fine.",
				Hint: "The long number on the front of the recipient's card."},

			{Name: "recipient_first_name", Label: "First name", Type: providers.FieldText, Group: groupRecipient, Required: true, When: whenBank,
				MaxLen: 100, Hint: "As the bank knows the account holder."},
			{Name: "recipient_last_name", Label: "Last name", Type: providers.FieldText, Group: groupRecipient, Required: true, When: whenBank,
				MaxLen: 100},
			{Name: "recipient_full_name", Label: "Cardholder name", Type: providers.FieldText, Group: groupRecipient, Required: true, When: whenCard,
				MaxLen: 200, Hint: "First and last name, as printed on the card."},
			{Name: "recipient_bank_name", Label: "Bank name", Type: providers.FieldText, Group: groupRecipient, When: whenBank,
				MaxLen: 255, Placeholder: "All Banks Belgium / EUR / Payment System: SEPA"},
			{Name: "recipient_currency", Label: "Account currency", Type: providers.FieldText, Group: groupRecipient, When: whenBank,
				Default: "EUR", MaxLen: 3, Pattern: `[A-Za-z]{3}`, PatternMessage: "A three-letter currency code, such as EUR.",
				Hint: "Currency of the recipient's bank account."},
			{Name: "recipient_country_iso3", Label: "Country", Type: providers.FieldText, Group: groupRecipient, Required: true,
				MaxLen: 3, Upper: true, Validate: iso3Country,
				Hint: "The recipient's country as a three-letter code: BEL for Belgium, DEU for Germany.", Placeholder: "BEL"},

			{Name: "sender_company_name", Label: "Company name", Type: providers.FieldText, Group: groupSender,
				Default: s.CompanyName, MaxLen: 255, Hint: "The company paying, as registered with Smart Glocal; prefilled when the deployment sets it."},
			{Name: "sender_registration_number", Label: "Registration number", Type: providers.FieldText, Group: groupSender,
				Default: s.RegistrationNumber, MaxLen: 64},
			{Name: "sender_country_iso3", Label: "Company country", Type: providers.FieldText, Group: groupSender,
				Default: s.CountryISO3, MaxLen: 3, Upper: true, Validate: iso3Country, Placeholder: "USA"},
			{Name: "sender_code", Label: "Company code", Type: providers.FieldText, Group: groupSender,
				Default: s.Code, MaxLen: 64, Hint: "The company's code as agreed with Smart Glocal."},

			{Name: "customer_reference", Label: "Customer reference", Type: providers.FieldText, Group: groupCustomer,
				MaxLen: 64, Hint: "Your own id for the recipient, such as their user id; optional.", Placeholder: "user123"},
			{Name: "customer_email", Label: "Customer email", Type: providers.FieldEmail, Group: groupCustomer,
				MaxLen: 254, Placeholder: "user@example.com"},
		},
	}
}

// Check applies Smart Glocal's rules beyond the form spec: IBAN and card
// checksums and a known account currency. The spec's options and patterns
// already hold the currency, the payment method and the ISO 3166 codes.
func (c *Client) Check(p providers.Payout) map[string]string {
	errs := make(map[string]string)
	if p.Amount.Minor <= 0 {
		errs[providers.FieldNameAmount] = "Enter an amount greater than zero."
	}
	f := p.Fields
	switch f["payment_method"] {
	case methodBankAccount:
		if !validIBAN(f["iban"]) {
			errs["iban"] = "This IBAN is not valid: check for a mistyped letter or digit."
		}
		if cur := f["recipient_currency"]; cur != "" {
			if _, err := providers.Exponent(strings.ToUpper(cur)); err != nil {
				errs["recipient_currency"] = "Not a known currency code; use one such as EUR or USD."
			}
		}
	case methodCard:
		if n := digits(f["card_number"]); len(n) < 12 || len(n) > 19 || !luhn(n) {
			errs["card_number"] = "This card number is not valid: check for a mistyped digit."
		}
	}
	return errs
}

// Beneficiary summarises who receives p.
func (c *Client) Beneficiary(p providers.Payout) providers.Beneficiary {
	f := p.Fields
	b := providers.Beneficiary{Country: f["recipient_country_iso3"]}
	if f["payment_method"] == methodCard {
		b.Name = strings.TrimSpace(f["recipient_full_name"])
		b.AccountMasked = providers.MaskAccount(digits(f["card_number"]))
		b.AccountPrint = cardPrint(f["card_number"])
		return b
	}
	b.Name = strings.TrimSpace(strings.TrimSpace(f["recipient_first_name"]) + " " + strings.TrimSpace(f["recipient_last_name"]))
	b.AccountMasked = providers.MaskAccount(compactIBAN(f["iban"]))
	b.AccountPrint = ibanPrint(f["iban"])
	return b
}
