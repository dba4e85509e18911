package store

import (
	"errors"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotStore refuses a file that is not an otelaudit store: not a
	// bbolt database, or a bbolt database of something else.
	ErrNotStore = errors.New("store: not an otelaudit store")
	// ErrNewerFormat refuses a store written in a format newer than this
	// build reads.
	ErrNewerFormat = errors.New("store: format newer than this build reads")
	// ErrOldFormat refuses a store of format 1 (whose hash rule did not
	// bind an encoding's length) or 2 (no Merkle tree); see the package
	// documentation for why neither is migrated.
	ErrOldFormat = errors.New("store: an older format, which this build does not read")
	// ErrCorrupt refuses a store whose contents are inconsistent: a chain
	// that does not verify (it also wraps otelaudit.ErrChainBroken then), a
	// record that does not decode, a missing bucket, a file shorter than
	// its own bbolt meta says, a page bbolt cannot read. WithReadOnly opens
	// it anyway, for forensics, when bbolt can.
	ErrCorrupt = errors.New("store: corrupt")
	// ErrUnsigned is otelaudit.ErrUnsigned: a store opened with a key
	// (WithPublicKey), or resumed by a Generator with a signing key,
	// refuses a head that key did not sign, unless WithAdoptHead.
	ErrUnsigned = otelaudit.ErrUnsigned
	// ErrInUse is returned when another process holds the store open for
	// writing and the lock wait (WithLockTimeout) ran out.
	ErrInUse = errors.New("store: in use by another process")
	// ErrReadOnly refuses writes to a store opened read-only.
	ErrReadOnly = errors.New("store: opened read-only")
	// ErrClosed is returned by a closed store.
	ErrClosed = errors.New("store: closed")
	// ErrNotOpen is returned by the methods of a nil *Store or a zero
	// Store: one not made by Open.
	ErrNotOpen = errors.New("store: not opened by store.Open")
	// ErrOutOfOrder refuses a Write that does not continue the stored
	// chain.
	ErrOutOfOrder = errors.New("store: records do not follow the head")
	// ErrNotFound is returned by Evidence for a trace the store holds no event of.
	ErrNotFound = errors.New("store: not found")
	// ErrNoCheckpoint is returned when no signed checkpoint covers what a
	// proof needs: a store written without a signing key, events past
	// the newest signed checkpoint, or a kept checkpoint older than the
	// tree nodes retention left.
	ErrNoCheckpoint = errors.New("store: no signed checkpoint covers it")
)
