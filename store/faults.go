package store

import (
	"fmt"
	"runtime/debug"
)

// bbolt reads the file through a memory map. A page pointer past the end of
// a truncated file makes the kernel raise SIGBUS, one into unmapped memory
// SIGSEGV, and Go treats either as fatal: the process dies with every
// goroutine's stack, whatever the caller would have done with an error.
// bbolt also panics on pages it finds inconsistent (a page whose header
// names another page, an element past its page). Every method that reads
// or writes the map therefore runs guarded: the goroutine's faults become
// panics (debug.SetPanicOnFault, which is per goroutine), and the panic, a
// fault's or bbolt's own, becomes ErrCorrupt. checkFile keeps most of
// them from happening at all.
//
// One bbolt function runs on a goroutine of its own, where no guard
// reaches: Tx.Check. Verify runs it only after its own guarded walk has
// read every page Check reads.

// guard turns the calling goroutine's memory faults into panics; the
// caller must defer the returned function with its named error:
//
//	defer guard()(&err)
func guard() func(*error) {
	old := debug.SetPanicOnFault(true)
	return func(err *error) {
		r := recover()
		debug.SetPanicOnFault(old)
		if r != nil {
			*err = fmt.Errorf("%w: bbolt could not read the file: %v", ErrCorrupt, r)
		}
	}
}
