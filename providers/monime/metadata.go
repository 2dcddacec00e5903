package monime

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Monime's metadata limits (legacy spec: keys ≤ 64 and values ≤ 100
// characters; at most 64 entries, the stricter of the two API versions).
const (
	MaxMetadataEntries  = 64
	MaxMetadataKeyLen   = 64
	MaxMetadataValueLen = 100
)

// ReferenceKey is the metadata entry in which the client sends the payout's
// merchant reference, so a payout found at Monime can be traced to the app.
const ReferenceKey = "payoutdesk_reference"

// ParseMetadata reads the agent's metadata text, one key=value per line
// (blank lines ignored), into the map sent to Monime. It returns every
// problem it finds, worded for the agent; the map is nil when there is any.
func ParseMetadata(text string) (map[string]string, []string) {
	var problems []string
	out := make(map[string]string)
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		n := i + 1
		key, value, found := strings.Cut(line, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch {
		case !found || key == "":
			problems = append(problems, fmt.Sprintf("line %d is not key=value", n))
			continue
		case key == ReferenceKey:
			problems = append(problems, fmt.Sprintf("line %d: %q is added automatically; use another key", n, key))
			continue
		}
		if _, dup := out[key]; dup {
			problems = append(problems, fmt.Sprintf("line %d: key %q appears twice", n, key))
		}
		if l := utf8.RuneCountInString(key); l > MaxMetadataKeyLen {
			problems = append(problems, fmt.Sprintf("line %d: key is %d characters, at most %d allowed", n, l, MaxMetadataKeyLen))
		}
		if l := utf8.RuneCountInString(value); l > MaxMetadataValueLen {
			problems = append(problems, fmt.Sprintf("line %d: value is %d characters, at most %d allowed", n, l, MaxMetadataValueLen))
		}
		out[key] = value
	}
	// The reference entry the client adds counts toward Monime's limit.
	if len(out)+1 > MaxMetadataEntries {
		problems = append(problems, fmt.Sprintf("there are %d entries, at most %d allowed (one is used for the payout reference)", len(out), MaxMetadataEntries-1))
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return out, nil
}

// metadataFor is the metadata sent with p: the agent's entries plus the
// payout reference. It is nil when there is nothing to send.
func metadataFor(text, reference string) (map[string]string, error) {
	md, problems := ParseMetadata(text)
	if len(problems) > 0 {
		return nil, fmt.Errorf("metadata: %s", strings.Join(problems, "; "))
	}
	if reference != "" {
		if utf8.RuneCountInString(reference) > MaxMetadataValueLen {
			return nil, fmt.Errorf("metadata: reference longer than %d characters", MaxMetadataValueLen)
		}
		md[ReferenceKey] = reference
	}
	if len(md) == 0 {
		return nil, nil
	}
	return md, nil
}
