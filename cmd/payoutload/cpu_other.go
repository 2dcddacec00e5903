//go:build !unix

package main

import "time"

// cpuTime is not measured here: the report then leaves the CPU line out.
func cpuTime() time.Duration { return 0 }
