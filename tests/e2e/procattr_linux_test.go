//go:build linux

package e2e

import (
	"os/exec"
	"syscall"
)

// dieWithTests makes cmd's process get SIGKILL when the test binary dies,
// even without running its Cleanups (a -timeout panic, a kill): no
// collector outlives the tests to hold a port. The signal comes when the
// OS thread that started the process ends; the Go runtime ends a thread
// only when a goroutine locked to it exits, which nothing here does.
func dieWithTests(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
