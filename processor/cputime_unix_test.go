//go:build unix

package processor_test

import "syscall"

// cpuTime is the CPU time this process has used, user and system, in
// nanoseconds: on a shared machine, a benchmark's CPU time per operation
// moves less with the load of other processes than its wall time.
func cpuTime() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}
