package web

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestTuneGCLeavesTheOperatorsSettings(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}

	TuneGC(env(nil))
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("GC percent %d, want %d", got, gcPercent)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != gcSoftLimit {
		t.Errorf("memory limit %d, want %d", got, gcSoftLimit)
	}

	// Set by the operator: the runtime read them at start, and they stand.
	TuneGC(env(map[string]string{"GOGC": "50", "GOMEMLIMIT": "2GiB"}))
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, GC percent %d, want it untouched (100)", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set, memory limit %d, want it untouched", got)
	}
}
