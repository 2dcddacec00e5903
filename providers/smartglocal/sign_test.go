package smartglocal

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"payoutdesk/providers"
)

func TestSignVerify(t *testing.T) {
	partner, _, other := testKeys(t)
	body := []byte(`{"session_id":"ps_3230"}`)
	sig, err := Sign(partner, body)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(&partner.PublicKey, body, sig); err != nil {
		t.Fatalf("round trip: got %v, want nil", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(sig)
	tests := []struct {
		name string
		key  bool // verify with the partner key, else the other key
		body []byte
		sig  string
	}{
		{name: "tampered body", key: true, body: []byte(`{"session_id":"ps_3231"}`), sig: sig},
		{name: "extra space in body", key: true, body: []byte(`{"session_id": "ps_3230"}`), sig: sig},
		{name: "wrong key", key: false, body: body, sig: sig},
		{name: "missing", key: true, body: body, sig: ""},
		{name: "not base64", key: true, body: body, sig: "%%%"},
		{name: "hex placeholder as in the docs", key: true, body: body, sig: "721af394d5e4e3e1c4d0e2b4a6b5c8d9"},
		{name: "truncated", key: true, body: body, sig: base64.StdEncoding.EncodeToString(raw[:len(raw)-1])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := &other.PublicKey
			if tt.key {
				pub = &partner.PublicKey
			}
			err := Verify(pub, tt.body, tt.sig)
			if !errors.Is(err, providers.ErrSignature) {
				t.Errorf("got %v, want ErrSignature", err)
			}
		})
	}
	if err := Verify(&partner.PublicKey, body, base64.RawStdEncoding.EncodeToString(raw)); err != nil {
		t.Errorf("unpadded base64: got %v, want nil", err)
	}
	if err := Verify(nil, body, sig); !errors.Is(err, providers.ErrSignature) {
		t.Errorf("nil key: got %v, want ErrSignature", err)
	}
	if _, err := Sign(nil, body); err == nil {
		t.Error("Sign with nil key: got nil error, want one")
	}
}

// TestSignatureVector checks Sign and Verify against a signature computed
// outside Go with a fixed test key, so that a wrong scheme shared by both
// cannot pass (RSASSA-PKCS1-v1_5 is deterministic):
//
//	printf '%s' "$body" | openssl dgst -sha256 -sign testdata/sign_test_key.pem | base64 -w0
func TestSignatureVector(t *testing.T) {
	key, err := ParsePrivateKey(readTestdata(t, "sign_test_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"session_id":"ps_3230"}`)
	const want = "aXAGSsdqwmH+2NNFyg0eD2hk/1sZBQNDOvEn/Q1i5mwvxrd+fS9E55nlSGGGGPvlItMKdsBfB6hokaKfKPyMdx/QgbSYFH4v1kbZ3tX558PnxBENfacL5t6u34MD+hA4j+gVdpudw/8Yy47kKqdsb1Wcb/AzYcLmuLaLSOdA+CrLUskSEIPms9IiLw6nTKbYN6X4b2233lkz09w1D+PoDMys1+xLbOycwrtIoATpeZcQ4cc3sheqV7GJoy65lopNk571oQuX31/7eCHePbPthyhJeHmfD22iUtjWL9LLz7HEXT6lkYieX/vPZ3E+3bb9C+e58aqJVmqhW/uc4YNwzw=="
	if got, err := Sign(key, body); err != nil || got != want {
		t.Errorf("Sign: got %s, %v; want %s", got, err, want)
	}
	if err := Verify(&key.PublicKey, body, want); err != nil {
		t.Errorf("Verify of the vector: got %v, want nil", err)
	}
}

func TestParseKeys(t *testing.T) {
	partner, _, _ := testKeys(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(partner)
	if err != nil {
		t.Fatal(err)
	}
	pkix, err := x509.MarshalPKIXPublicKey(&partner.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecPriv, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPub, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	enc := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }

	privTests := []struct {
		name    string
		pem     []byte
		wantErr bool
	}{
		{"pkcs1", enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(partner)), false},
		{"pkcs8", enc("PRIVATE KEY", pkcs8), false},
		{"not pem", []byte("hello"), true},
		{"ec key", enc("PRIVATE KEY", ecPriv), true},
		{"garbage der", enc("PRIVATE KEY", []byte{1, 2, 3}), true},
	}
	for _, tt := range privTests {
		t.Run("private "+tt.name, func(t *testing.T) {
			k, err := ParsePrivateKey(tt.pem)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !k.Equal(partner) {
				t.Error("got a different key")
			}
		})
	}
	pubTests := []struct {
		name    string
		pem     []byte
		wantErr bool
	}{
		{"pkix", enc("PUBLIC KEY", pkix), false},
		{"pkcs1", enc("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&partner.PublicKey)), false},
		{"not pem", []byte("-----"), true},
		{"ec key", enc("PUBLIC KEY", ecPub), true},
	}
	for _, tt := range pubTests {
		t.Run("public "+tt.name, func(t *testing.T) {
			k, err := ParsePublicKey(tt.pem)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !k.Equal(&partner.PublicKey) {
				t.Error("got a different key")
			}
		})
	}
}

// TestParseKeyNamesAKeyOfTheWrongKind: the two key files swapped, or an
// EC key given, is said in those words, not as an ASN.1 decoding error.
func TestParseKeyNamesAKeyOfTheWrongKind(t *testing.T) {
	partner, _, _ := testKeys(t)
	pkix, _ := x509.MarshalPKIXPublicKey(&partner.PublicKey)
	enc := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	tests := []struct {
		name  string
		parse func([]byte) error
		pem   []byte
		want  string
	}{
		{"public key as the private one", func(b []byte) error { _, err := ParsePrivateKey(b); return err },
			enc("PUBLIC KEY", pkix), `got a "PUBLIC KEY"`},
		{"pkcs1 public key as the private one", func(b []byte) error { _, err := ParsePrivateKey(b); return err },
			enc("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&partner.PublicKey)), `got a "RSA PUBLIC KEY"`},
		{"private key as the public one", func(b []byte) error { _, err := ParsePublicKey(b); return err },
			enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(partner)), `got a "RSA PRIVATE KEY"`},
		{"ec private key", func(b []byte) error { _, err := ParsePrivateKey(b); return err },
			enc("EC PRIVATE KEY", []byte{1, 2, 3}), `got a "EC PRIVATE KEY"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse(tt.pem)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "asn1") {
				t.Errorf("got %v, want an error saying %s", err, tt.want)
			}
		})
	}
}
