//go:build !linux

package store_test

import "os"

// fdatasync flushes f as bbolt's commits do where there is no fdatasync.
func fdatasync(f *os.File) error { return f.Sync() }
