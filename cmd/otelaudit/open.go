package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/otelaudit/otelaudit-go/store"
)

// openStore opens the store at path read-only: the CLI never changes a
// trail, may run beside other readers, and must open a store whose chain
// is broken, since that is when someone needs to look at it.
//
// Every failure is bad input (exit 2): a missing file, a directory, a file
// that is not a store, a newer format, a store held by a writer.
func openStore(path string) (*store.Store, error) {
	// The store's own message for a missing file names the path twice
	// (its own and os.Stat's); this one names it once.
	fi, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", path, err)}
	}
	switch {
	case fi.IsDir():
		return nil, usageErrorf("%s is a directory, not a store file", path)
	case fi.Size() == 0:
		// bbolt, even read-only, tries to initialize an empty file and
		// fails with a write error that hides what is wrong.
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("%w: %s is empty", store.ErrNotStore, path)}
	}
	st, err := store.Open(path, store.WithReadOnly())
	switch {
	case errors.Is(err, store.ErrInUse):
		// The usual case at 3 a.m.: the runtime is still up and holds the
		// file. Say where the trail can be read meanwhile.
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("%w; while a process writes to it, read the trail through that process (auditz) or stop it first", err)}
	case err != nil:
		return nil, &exitError{code: exitUsage, err: err}
	}
	return st, nil
}

// warnUnverified warns, on commands that read but do not verify, that what
// they print comes from a trail that did not verify when opened.
func warnUnverified(e *env, st *store.Store) {
	if err := st.VerifyError(); err != nil {
		warnf(e, "%s does not verify (%v); run otelaudit verify", st.Path(), err)
	}
}

// openForReading opens the store --db names for a reading command: it
// requires --db, opens read-only and warns on stderr when the chain did not
// verify. The caller closes the store.
func openForReading(e *env, cmd, db string) (*store.Store, error) {
	path, err := requireDB(cmd, db)
	if err != nil {
		return nil, err
	}
	st, err := openStore(path)
	if err != nil {
		return nil, err
	}
	warnUnverified(e, st)
	return st, nil
}

// readTrail runs read, a query of a store openForReading opened. Open
// checks the tail of the trail only, and a read checks each event it
// returns against the tree Open verified: one that meets damage before
// the tail fails with ErrCorrupt. The whole store is then verified, which,
// failing, turns the read-only store's reads to returning what is stored;
// the command warns, as for a store that did not verify when opened, and
// reads again.
func readTrail[T any](e *env, st *store.Store, read func() (T, error)) (T, error) {
	v, err := read()
	if err == nil || !errors.Is(err, store.ErrCorrupt) || st.VerifyError() != nil {
		return v, err
	}
	if _, verr := st.Verify(nil, nil); verr == nil {
		return v, err
	}
	warnUnverified(e, st)
	return read()
}
