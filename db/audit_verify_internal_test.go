package db

// Every test log of more than a few events is verified in parallel ranges,
// so that the tamper tests cover range boundaries too.
func init() { parallelFrom = 4 }
