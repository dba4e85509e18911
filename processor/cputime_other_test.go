//go:build !unix

package processor_test

func cpuTime() (int64, bool) { return 0, false }
