package providers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// printKey is made at start and never kept: an account's print means
// something only within this process, and guessing accounts from one
// would need the key.
var printKey = rand.Text()

// AccountPrint returns a fingerprint of a whole account number, as the
// provider or the form gives it once normalised by its client: equal
// accounts give equal prints, in this process only. Account numbers are
// few enough to guess from a plain hash, so it is keyed.
func AccountPrint(account string) string {
	m := hmac.New(sha256.New, []byte(printKey))
	m.Write([]byte(account))
	return hex.EncodeToString(m.Sum(nil))
}
