package db

// Every test log of more than a few events is verified in parallel ranges,
// more of them than the small logs have events, so that the tamper tests
// cover range boundaries and ranges of one event too.
func init() {
	parallelFrom = 4
	verifyWorkers = func() int { return 16 }
}
