//go:build !unix

package store_test

import "time"

// processCPU is not measured here: the benchmarks then report no CPU time.
func processCPU() (time.Duration, bool) { return 0, false }
