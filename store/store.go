package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Store is an otelaudit trail in a bbolt file. It implements
// otelaudit.Store, and reads the trail back. Its methods are safe for
// concurrent use.
type Store struct {
	db   *bolt.DB
	path string
	cfg  config

	// Lock order: wmu, then mu or srcMu, each held briefly. Neither mu nor
	// srcMu is ever held across a bbolt call: a write transaction that
	// grows the file waits for open read transactions, which may want them.
	wmu sync.Mutex // serializes Write and Prune

	mu     sync.Mutex
	closed bool
	head   otelaudit.Anchor // newest stored event; under mu
	anchor otelaudit.Anchor // last event removed; under mu

	// sources are the Sources stored so far, by digest: written once,
	// decoded once.
	srcMu   sync.Mutex
	sources map[otelaudit.Hash]*otelaudit.Source
	// verifyErr is why the chain did not verify at Open (read-only only).
	verifyErr error
	// valueBuf backs the values of one Write, which bbolt needs to stay
	// valid until the commit. Under wmu.
	valueBuf []byte
}

var _ otelaudit.Store = (*Store)(nil)

// Open opens the store at path, creating it when missing unless read-only.
//
// It refuses, closing the file again: a file that is not a store
// (ErrNotStore), a newer format (ErrNewerFormat), a store whose hash chain
// does not verify (ErrCorrupt, wrapping the *otelaudit.ChainError that names
// the first bad event; WithReadOnly opens it anyway), and a store another
// process has open for writing (ErrInUse, after WithLockTimeout). Opening
// reads and verifies every stored event: see BENCHMARKS.md for the rate.
func Open(path string, opts ...Option) (st *Store, err error) {
	cfg := newConfig(opts)
	if cfg.readOnly {
		// bbolt would create a missing file, or set up an empty one, even
		// read-only; a reader asked for a trail, not for a new one.
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		if fi.Size() == 0 {
			return nil, fmt.Errorf("%w: %s is empty", ErrNotStore, path)
		}
	}
	defer recoverCorrupt(&err)
	bopts := &bolt.Options{
		Timeout:      cfg.lockTimeout,
		ReadOnly:     cfg.readOnly,
		FreelistType: bolt.FreelistMapType,
	}
	db, err := bolt.Open(path, 0o600, bopts)
	if err != nil {
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("%w: %s (waited %s for its lock)", ErrInUse, path, cfg.lockTimeout)
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
			return nil, fmt.Errorf("%w: %s is not a bbolt database (%w)", ErrNotStore, path, err)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, cfg: cfg, sources: make(map[otelaudit.Hash]*otelaudit.Source)}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	if _, err := s.Verify(nil, nil); err != nil {
		if !cfg.readOnly {
			_ = db.Close()
			return nil, fmt.Errorf("%w: %s: %w (open it read-only to inspect it)", ErrCorrupt, path, err)
		}
		s.verifyErr = err
	}
	return s, nil
}

// recoverCorrupt turns a panic of bbolt on a damaged file (it panics on
// some page-level inconsistencies) into ErrCorrupt: bad files get errors.
func recoverCorrupt(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: bbolt: %v", ErrCorrupt, r)
	}
}

// init creates the buckets of a new store, or checks an existing one's
// format, and loads its anchor and head.
func (s *Store) init() error {
	if !s.cfg.readOnly {
		err := s.db.Update(func(tx *bolt.Tx) error {
			if tx.Bucket(bucketMeta) != nil {
				return nil
			}
			if err := tx.ForEach(func([]byte, *bolt.Bucket) error { return ErrNotStore }); err != nil {
				return fmt.Errorf("%w: a bbolt database of something else", ErrNotStore)
			}
			for _, name := range allBuckets {
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			meta := tx.Bucket(bucketMeta)
			genesis := encodeAnchor(otelaudit.GenesisAnchor)
			if err := meta.Put(keyFormat, []byte{FormatVersion}); err != nil {
				return err
			}
			if err := meta.Put(keyAnchor, genesis); err != nil {
				return err
			}
			return meta.Put(keyHead, genesis)
		})
		if err != nil {
			return err
		}
	}
	return s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return fmt.Errorf("%w: no %q bucket", ErrNotStore, bucketMeta)
		}
		f := meta.Get(keyFormat)
		switch {
		case len(f) != 1:
			return fmt.Errorf("%w: no format version", ErrNotStore)
		case f[0] > FormatVersion:
			return fmt.Errorf("%w: format %d, this build reads up to %d", ErrNewerFormat, f[0], FormatVersion)
		case f[0] == 0:
			return fmt.Errorf("%w: format 0", ErrNotStore)
		}
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("%w: bucket %q missing", ErrCorrupt, name)
			}
		}
		var err error
		if s.anchor, err = decodeAnchor(meta.Get(keyAnchor)); err != nil {
			return err
		}
		s.head, err = decodeAnchor(meta.Get(keyHead))
		return err
	})
}

// Path returns the file the store is in.
func (s *Store) Path() string { return s.path }

// ReadOnly reports whether the store was opened read-only.
func (s *Store) ReadOnly() bool { return s.cfg.readOnly }

// VerifyError returns why the chain did not verify when the store was
// opened read-only; nil if it did.
func (s *Store) VerifyError() error { return s.verifyErr }

// Head returns the Seq and Hash of the newest stored event; the anchor when
// there is none. A Generator attached to the store continues from it.
func (s *Store) Head() otelaudit.Anchor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head
}

// Anchor returns where verification starts: the last event removed by
// retention, or the genesis.
func (s *Store) Anchor() otelaudit.Anchor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.anchor
}

// Close closes the file. Calls after the first return nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	return s.db.Close()
}

// Write stores records and checkpoints in one transaction, durable when it
// returns nil (see the package documentation); retention, if configured,
// runs in the same transaction. records must continue the chain from Head.
func (s *Store) Write(records []otelaudit.Record, checkpoints []otelaudit.Checkpoint) (err error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	closed, head, anchor := s.closed, s.head, s.anchor
	s.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case s.cfg.readOnly:
		return ErrReadOnly
	}
	for i := range records {
		r := &records[i]
		if r.Seq != head.Seq+1 || r.PrevHash != head.Hash {
			return fmt.Errorf("%w: record %d after head %d", ErrOutOfOrder, r.Seq, head.Seq)
		}
		head = otelaudit.Anchor{Seq: r.Seq, Hash: r.Hash}
	}
	for _, c := range checkpoints {
		if c.Seq > head.Seq {
			return fmt.Errorf("%w: checkpoint of %d past the last record %d", ErrOutOfOrder, c.Seq, head.Seq)
		}
	}
	// bbolt keeps pointers to keys and values until the commit: they live
	// in buffers sized once per Write.
	size := 0
	for i := range records {
		size += valueHeader + len(records[i].Data)
	}
	if cap(s.valueBuf) < size {
		s.valueBuf = make([]byte, 0, size)
	}
	vals := s.valueBuf[:0]
	defer recoverCorrupt(&err)
	err = s.db.Update(func(tx *bolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		// Keys only ever grow: full pages, no splits.
		events.FillPercent = 1
		srcs, byTrace, byType, byAgent := tx.Bucket(bucketSources), tx.Bucket(bucketByTrace), tx.Bucket(bucketByType), tx.Bucket(bucketByAgent)
		keys := make([]byte, 0, 8*len(records))
		var byTraceP, byTypeP, byAgentP postings
		for i := range records {
			r := &records[i]
			start := len(vals)
			vals = appendValue(vals, r)
			k := len(keys)
			keys = seqKey8(keys, r.Seq)
			if err := events.Put(keys[k:len(keys):len(keys)], vals[start:len(vals):len(vals)]); err != nil {
				return err
			}
			if d := r.SourceDigest; d != (otelaudit.Hash{}) {
				if !s.knownSource(d) && srcs.Get(d[:]) == nil {
					b, err := r.Source.MarshalBinary()
					if err != nil {
						return err
					}
					if err := srcs.Put(append([]byte(nil), d[:]...), b); err != nil {
						return err
					}
				}
			}
			id, typ, agent, err := indexKeys(r.Data)
			if err != nil {
				return fmt.Errorf("record %d: %w", r.Seq, err)
			}
			if id.IsValid() {
				byTraceP.add(string(id[:]), r.Seq)
			}
			byTypeP.add(string(stringPrefix(typ)), r.Seq)
			if agent != "" {
				byAgentP.add(string(stringPrefix(agent)), r.Seq)
			}
		}
		if err := byTraceP.put(byTrace); err != nil {
			return err
		}
		if err := byTypeP.put(byType); err != nil {
			return err
		}
		if err := byAgentP.put(byAgent); err != nil {
			return err
		}
		cps := tx.Bucket(bucketCheckpoints)
		for _, c := range checkpoints {
			if err := cps.Put(seqKey(c.Seq), encodeCheckpoint(c)); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyHead, encodeAnchor(head)); err != nil {
			return err
		}
		// Retention removes at most twice what came in, plus a little: a
		// store over its bounds shrinks back steadily, each commit bounded.
		anchor, err = s.retain(tx, anchor, head, 2*len(records)+retainStep)
		return err
	})
	if err != nil {
		// The transaction rolled back: head and anchor stay as they were.
		return fmt.Errorf("store: write: %w", err)
	}
	s.mu.Lock()
	s.head, s.anchor = head, anchor
	s.mu.Unlock()
	for i := range records {
		if d := records[i].SourceDigest; d != (otelaudit.Hash{}) {
			s.addSource(d, records[i].Source)
		}
	}
	return nil
}

func (s *Store) knownSource(d otelaudit.Hash) bool {
	s.srcMu.Lock()
	defer s.srcMu.Unlock()
	_, ok := s.sources[d]
	return ok
}

func (s *Store) addSource(d otelaudit.Hash, src *otelaudit.Source) {
	s.srcMu.Lock()
	defer s.srcMu.Unlock()
	if _, ok := s.sources[d]; !ok {
		s.sources[d] = src
	}
}

func seqKey8(b []byte, seq uint64) []byte {
	return append(b, byte(seq>>56), byte(seq>>48), byte(seq>>40), byte(seq>>32), byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq))
}

// hasPrefix reports whether k starts with p; for cursor loops.
func hasPrefix(k, p []byte) bool { return k != nil && bytes.HasPrefix(k, p) }
