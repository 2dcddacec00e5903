package handlers

import (
	"slices"
	"testing"
)

// TestByFilterOrder: an export's refusal lists the refused filters in the
// page's order, and one the page does not know of after them rather than
// not at all.
func TestByFilterOrder(t *testing.T) {
	got := slices.SortedFunc(slices.Values([]string{"q", "zzz", "from", "actor", "aaa"}), byFilterOrder)
	if want := []string{"from", "actor", "q", "aaa", "zzz"}; !slices.Equal(got, want) {
		t.Errorf("ordered %v, want %v", got, want)
	}
}
