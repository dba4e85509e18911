package store

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrNotStore refuses a file that is not an otelaudit store: not a
	// bbolt database, or a bbolt database of something else.
	ErrNotStore = errors.New("store: not an otelaudit store")
	// ErrNewerFormat refuses a store written in a format newer than this
	// build reads.
	ErrNewerFormat = errors.New("store: format newer than this build reads")
	// ErrCorrupt refuses a store whose contents are inconsistent: a chain
	// that does not verify (it also wraps otelaudit.ErrChainBroken then), a
	// record that does not decode, a missing bucket. WithReadOnly opens it
	// anyway, for forensics.
	ErrCorrupt = errors.New("store: corrupt")
	// ErrInUse is returned when another process holds the store open for
	// writing and the lock wait (WithLockTimeout) ran out.
	ErrInUse = errors.New("store: in use by another process")
	// ErrReadOnly refuses writes to a store opened read-only.
	ErrReadOnly = errors.New("store: opened read-only")
	// ErrClosed is returned by a closed store.
	ErrClosed = errors.New("store: closed")
	// ErrOutOfOrder refuses a Write that does not continue the stored
	// chain.
	ErrOutOfOrder = errors.New("store: records do not follow the head")
)
