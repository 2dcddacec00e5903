package db

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

var errCanon = errors.New("malformed canonical encoding")

// decodeCanon splits an event's canonical encoding, a JSON array of strings,
// into its fields. An export decodes a million of these: encoding/json's
// reflection and validation pass cost ten times what this direct scan does.
// Fields without escapes are substrings of canon, not copies. The result is
// what json.Unmarshal into a []string gives, which FuzzDecodeCanon checks.
func decodeCanon(canon string, fields []string) ([]string, error) {
	fields = fields[:0]
	s := canon
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return fallbackCanon(canon)
	}
	s = s[1 : len(s)-1]
	for len(s) > 0 {
		if s[0] != '"' {
			return fallbackCanon(canon)
		}
		end, escaped := 1, false
		for end < len(s) && s[end] != '"' {
			c := s[end]
			switch {
			case c == '\\':
				escaped = true
				end += 2
			case c < 0x20:
				// Invalid in JSON: encoding/json's error to give.
				return fallbackCanon(canon)
			case c >= utf8.RuneSelf:
				// Invalid UTF-8 is replaced by encoding/json; valid
				// text is kept as it is.
				r, size := utf8.DecodeRuneInString(s[end:])
				if r == utf8.RuneError && size == 1 {
					return fallbackCanon(canon)
				}
				end += size
			default:
				end++
			}
		}
		if end >= len(s) {
			return fallbackCanon(canon)
		}
		field := s[1:end]
		if escaped {
			var ok bool
			if field, ok = unescapeJSON(field); !ok {
				return fallbackCanon(canon)
			}
		}
		fields = append(fields, field)
		s = s[end+1:]
		if len(s) > 0 {
			if s[0] != ',' || len(s) == 1 {
				return fallbackCanon(canon)
			}
			s = s[1:]
		}
	}
	return fields, nil
}

// fallbackCanon decodes what the fast path does not handle (non-ASCII
// text, or something malformed) the slow, general way.
func fallbackCanon(canon string) ([]string, error) {
	var fields []string
	if err := json.Unmarshal([]byte(canon), &fields); err != nil {
		return nil, errCanon
	}
	return fields, nil
}

// unescapeJSON resolves the escapes of a JSON string body. It
// reports false for anything it does not handle exactly as encoding/json
// does, leaving that to the general decoder.
func unescapeJSON(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false
		}
		switch s[i] {
		case '"', '\\', '/':
			b.WriteByte(s[i])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(s, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				// A pair is two escapes; a lone half is left to the
				// general decoder, which replaces it.
				if i+6 >= len(s) || s[i+1] != '\\' || s[i+2] != 'u' {
					return "", false
				}
				r2, ok := hex4(s, i+3)
				if !ok {
					return "", false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", false
				}
				i += 6
			}
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return b.String(), true
}

// hex4 reads the four hex digits of a \u escape starting at s[i].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i:i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}
