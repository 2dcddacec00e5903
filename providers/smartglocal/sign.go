package smartglocal

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"payoutdesk/providers"
)

// ParsePrivateKey reads the partner's RSA private key from PEM, in PKCS#1
// ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY") form.
func ParsePrivateKey(b []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("smartglocal: private key: no PEM block")
	}
	// A public key, or another kind of private key, in its place (the two
	// files swapped, say) is said so, not as an ASN.1 decoding error.
	if block.Type != "RSA PRIVATE KEY" && block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("smartglocal: private key: want an RSA private key (PEM \"RSA PRIVATE KEY\" or \"PRIVATE KEY\"), got a %q block", block.Type)
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("smartglocal: private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("smartglocal: private key: %T is not an RSA key", k)
	}
	return rk, nil
}

// ParsePublicKey reads Smart Glocal's RSA public key from PEM, in PKIX
// ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY") form.
func ParsePublicKey(b []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("smartglocal: public key: no PEM block")
	}
	if block.Type != "RSA PUBLIC KEY" && block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("smartglocal: public key: want Smart Glocal's RSA public key (PEM \"PUBLIC KEY\" or \"RSA PUBLIC KEY\"), got a %q block", block.Type)
	}
	if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("smartglocal: public key: %w", err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("smartglocal: public key: %T is not an RSA key", k)
	}
	return rk, nil
}

// Sign returns the X-PARTNER-SIGN value for body: the base64 (standard
// alphabet, padded) RSASSA-PKCS1-v1_5 SHA-256 signature of the exact bytes.
func Sign(key *rsa.PrivateKey, body []byte) (string, error) {
	if key == nil {
		return "", errors.New("smartglocal: sign: no private key")
	}
	h := sha256.Sum256(body)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		return "", fmt.Errorf("smartglocal: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks an X-PARTNER-SIGN value against the exact body bytes. Every
// failure wraps providers.ErrSignature.
func Verify(pub *rsa.PublicKey, body []byte, sig string) error {
	if pub == nil {
		return fmt.Errorf("smartglocal: no public key to verify with: %w", providers.ErrSignature)
	}
	sig = strings.TrimSpace(sig)
	if sig == "" {
		return fmt.Errorf("smartglocal: missing X-PARTNER-SIGN: %w", providers.ErrSignature)
	}
	// The SDK pads; an unpadded value is accepted too since it decodes to
	// the same bytes.
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(sig)
	}
	if err != nil {
		return fmt.Errorf("smartglocal: X-PARTNER-SIGN is not base64: %w", providers.ErrSignature)
	}
	h := sha256.Sum256(body)
	// rsa.VerifyPKCS1v15 compares in constant time.
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], raw); err != nil {
		return fmt.Errorf("smartglocal: X-PARTNER-SIGN does not match the body: %w", providers.ErrSignature)
	}
	return nil
}
