//go:build !linux

package e2e

import "os/exec"

// dieWithTests does nothing here: only Linux has a parent-death signal,
// and Cleanup kills the processes on a normal end.
func dieWithTests(*exec.Cmd) {}
