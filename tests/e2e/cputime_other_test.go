//go:build !unix

package e2e

func processCPU() (int64, bool) { return 0, false }
