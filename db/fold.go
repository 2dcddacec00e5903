package db

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
	"modernc.org/sqlite"
)

// foldText is how the payouts list compares text: lowercased and without
// accents, so that an agent typing "lome" or "senou" on any keyboard finds
// "Lomé" and "Sénou". Letters that are not a base letter with a mark stay
// as they are (ø, ß, ł), and so do compatibility forms (µ is not μ).
func foldText(s string) string {
	s = strings.ToLower(s)
	if isASCII(s) || unmarked(s) {
		return s
	}
	// A chain keeps state: one per call.
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

// unmarked reports whether s has no accent to remove: no precomposed
// letter (it is in NFD already) and no combining mark. Masked account
// numbers ("•••• 8080") are, and skip the transform.
func unmarked(s string) bool {
	if !norm.NFD.IsNormalString(s) {
		return false
	}
	for _, r := range s {
		if unicode.Is(unicode.Mn, r) {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// foldFunction is foldText in SQL, for the migration that folds the text
// already stored. Nothing in the schema calls it, so the database stays
// readable by any SQLite.
const foldFunction = "payoutdesk_fold"

func init() {
	err := sqlite.RegisterDeterministicScalarFunction(foldFunction, 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return foldText(v), nil
		case nil:
			return nil, nil
		default:
			return nil, fmt.Errorf("%s: want text, got %T", foldFunction, v)
		}
	})
	if err != nil {
		panic(fmt.Sprintf("db: register %s: %v", foldFunction, err))
	}
}
