package web

import "runtime/debug"

// The server allocates for every request (forms, sessions, provider JSON)
// and keeps little: with Go's default GOGC of 100 it collected several
// times a second under the load benchmark, each cycle's marking taking CPU
// from the database writer that every payout waits on. At 400, the
// benchmark's p99 at 1,000 payouts/s for a minute (forms only) went from
// 86 to 42 ms, for about twice the memory: 270 MB resident, sandbox and
// load generator included.
// The memory limit has the collector run sooner should the live heap
// itself grow large.
const (
	gcPercent   = 400
	gcSoftLimit = 1 << 30
)

// TuneGC sets the garbage collector for serving, unless the operator set
// it with GOGC or GOMEMLIMIT, which then apply as usual.
func TuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcSoftLimit)
	}
}
