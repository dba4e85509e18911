package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Store is an otelaudit trail in a bbolt file. It implements
// otelaudit.Store, and reads the trail back. Its methods are safe for
// concurrent use. The methods of a nil or zero Store return ErrNotOpen.
type Store struct {
	db   *bolt.DB
	path string
	cfg  config

	// Lock order: wmu, then mu or srcMu, each held briefly. Neither mu nor
	// srcMu is ever held across a bbolt call: a write transaction that
	// grows the file waits for open read transactions, which may want them.
	// Every write transaction runs under wmu (Write, Prune, SetCursor), so
	// that Verify can hold it while bbolt's Check reads the freelist.
	wmu sync.Mutex

	mu         sync.Mutex
	closed     bool
	attached   bool                 // Resume was called
	head       otelaudit.Anchor     // newest stored event; under mu
	anchor     otelaudit.Anchor     // last event removed; under mu
	reserved   uint64               // highest Seq reserved (see otelaudit.Batch); under mu
	signed     otelaudit.Checkpoint // the newest commit's signed checkpoint; under mu
	lastCommit time.Time            // when the newest Write committed; under mu
	tree       *tlog.Tree           // the Merkle tree of every event stored; under mu, replaced whole

	// sources are the Sources stored so far, by digest: written once,
	// decoded once.
	srcMu   sync.Mutex
	sources map[otelaudit.Hash]*otelaudit.Source
	// verifyErr is why the store did not verify at Open, or at a later
	// Verify (read-only only); under mu.
	verifyErr error
	// trust checks what reads return against the tree Open verified; nil
	// when the store did not verify (read-only only): reads then return
	// what is stored, for forensics, and VerifyError says why.
	trust atomic.Pointer[readTrust]
	// valueBuf backs the values of one Write, which bbolt needs to stay
	// valid until the commit. Under wmu.
	valueBuf []byte
	// postings collect the index entries of one Write: by trace, type
	// and agent. Under wmu.
	postings [3]postings
}

var _ otelaudit.Store = (*Store)(nil)

// Open opens the store at path, creating it when missing unless read-only.
//
// Before bbolt maps the file, Open checks it against bbolt's own meta pages
// (a file shorter than they say is truncated: ErrCorrupt); then it verifies
// the trail from the newest checkpoint it can trust (the key's, with
// WithPublicKey) to the head, and the state the next run continues from:
// in time that grows with that tail, not with the trail (see "What Open
// checks" in the package documentation, for what it trusts and why that is
// safe; WithFullVerify runs Verify instead). Reads then check every event
// they return against the tree it verified. It refuses,
// closing the file again: a file that is not a store (ErrNotStore), a
// format it does not read (ErrNewerFormat, ErrOldFormat), a store that
// does not verify (ErrCorrupt, wrapping the *otelaudit.ChainError that
// names the first bad event; WithReadOnly opens it anyway), a store whose
// head the WithPublicKey key did not sign (ErrUnsigned, naming the first
// unsigned event; WithAdoptHead or WithReadOnly open it anyway), and a
// store another process has open for writing (ErrInUse, after
// WithLockTimeout). No file, however damaged, makes it panic or fault.
func Open(path string, opts ...Option) (*Store, error) {
	cfg := newConfig(opts)
	if cfg.pubErr != nil {
		return nil, cfg.pubErr
	}
	// bbolt would set up an empty file as a new database, and create a
	// missing one, even read-only. A reader asked for a trail, not for a
	// new one; and a writer must not take a store cut to nothing for a
	// new one and number its events from 1 again.
	switch fi, err := os.Stat(path); {
	case err != nil && (cfg.readOnly || !errors.Is(err, os.ErrNotExist)):
		return nil, fmt.Errorf("store: %w", err)
	case err == nil && fi.Size() == 0:
		return nil, fmt.Errorf("%w: %s is empty (a store cut to nothing, or not a store: remove it, and Open creates a new store there)", ErrNotStore, path)
	}
	if err := checkFile(path); err != nil {
		return nil, err
	}
	s := &Store{path: path, cfg: cfg, sources: make(map[otelaudit.Hash]*otelaudit.Source)}
	if err := s.open(); err != nil {
		if s.db != nil {
			_ = s.db.Close()
		}
		return nil, err
	}
	return s, nil
}

// open opens the bbolt file, checks the format and verifies the store.
func (s *Store) open() (err error) {
	defer guard()(&err)
	cfg := s.cfg
	bopts := &bolt.Options{
		Timeout:      cfg.lockTimeout,
		ReadOnly:     cfg.readOnly,
		FreelistType: bolt.FreelistMapType,
		// A new store's pages; an existing file keeps its own.
		PageSize: pageSize,
		// Read-only too: the freelist is then read here, under the guard,
		// not later by Verify's Tx.Check on a goroutine of its own.
		PreLoadFreelist: true,
	}
	s.db, err = bolt.Open(s.path, 0o600, bopts)
	if err != nil {
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return fmt.Errorf("%w: %s (waited %s for its lock)", ErrInUse, s.path, cfg.lockTimeout)
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
			return fmt.Errorf("%w: %s is not a bbolt database (%w)", ErrNotStore, s.path, err)
		}
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if err := s.init(); err != nil {
		return fmt.Errorf("%w (in %s)", err, s.path)
	}
	err = s.check()
	switch {
	case err == nil:
	case cfg.readOnly:
		s.mu.Lock()
		s.verifyErr = err
		s.mu.Unlock()
	case errors.Is(err, ErrUnsigned):
		// Everything else verified (the key's coverage is checked last):
		// the trail is sound, but its head is not the key's.
		if !cfg.adopt {
			return fmt.Errorf("store: %s: %w (open it with store.WithAdoptHead() to continue it anyway, which the next run records in the trail)", s.path, err)
		}
	default:
		return fmt.Errorf("%w: %s: %w (open it read-only to inspect it)", ErrCorrupt, s.path, err)
	}
	return nil
}

// check runs Open's verification (see openCheck), or, WithFullVerify,
// Verify, and sets up the checks of reads when the trail verified. When
// openCheck finds something wrong, Verify runs to name the first bad event
// as it would: the cost of a full check is paid only by a broken store.
func (s *Store) check() error {
	if s.cfg.fullVerify {
		_, err := s.Verify(s.cfg.pub, nil)
		if err == nil || errors.Is(err, ErrUnsigned) {
			s.trust.Store(newReadTrust(s.tree))
		}
		return err
	}
	tree, unsigned, err := s.openCheck(s.cfg.pub)
	if err != nil {
		if _, verr := s.Verify(s.cfg.pub, nil); verr != nil && !errors.Is(verr, ErrUnsigned) {
			return verr
		}
		return err
	}
	if !s.cfg.unchecked {
		s.trust.Store(newReadTrust(tree))
	}
	return unsigned
}

// init creates the buckets of a new store, or checks an existing one's
// format, and loads its anchor, head and reservation.
func (s *Store) init() error {
	// A write transaction commits, and fsyncs, even when it changes
	// nothing: only a new file takes one.
	exists := false
	if err := s.db.View(func(tx *bolt.Tx) error { exists = tx.Bucket(bucketMeta) != nil; return nil }); err != nil {
		return err
	}
	if !s.cfg.readOnly && !exists {
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
			for _, kv := range [][2][]byte{{keyFormat, {FormatVersion}}, {keyAnchor, genesis}, {keyHead, genesis}, {keyReserved, seqKey(0)}} {
				if err := meta.Put(kv[0], kv[1]); err != nil {
					return err
				}
			}
			return nil
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
		case len(f) != 1 || f[0] == 0:
			return fmt.Errorf("%w: no format version", ErrNotStore)
		case f[0] == 1:
			return fmt.Errorf("%w: it was written by an earlier release, whose hash chain did not bind each event's length; "+
				"this build reads format %d only and does not convert it (converting would re-hash every event, and its signed "+
				"checkpoints would no longer vouch for the result): read it with the release that wrote it, and start a new store", ErrOldFormat, FormatVersion)
		case f[0] == 2:
			return fmt.Errorf("%w: format 2, written by an earlier release, has no Merkle tree and its checkpoints are not C2SP notes; "+
				"this build reads format %d only and does not convert it (its signed checkpoints would vouch for nothing in the tree a "+
				"conversion builds, which only whoever converts it could sign): read it with the release that wrote it, and start a new store", ErrOldFormat, FormatVersion)
		case f[0] > FormatVersion:
			return fmt.Errorf("%w: format %d, this build reads %d", ErrNewerFormat, f[0], FormatVersion)
		}
		st, err := loadState(tx)
		if err != nil {
			return err
		}
		s.head, s.anchor, s.reserved, s.signed, s.lastCommit, s.tree = st.head, st.anchor, st.reserved, st.signed, st.lastCommit, st.tree
		return nil
	})
}

// state is what the meta bucket and the commits bucket say about the
// trail's bounds.
type state struct {
	head, anchor otelaudit.Anchor
	reserved     uint64
	signed       otelaudit.Checkpoint
	lastCommit   time.Time
	tree         *tlog.Tree
}

// loadState reads and bounds-checks the trail's state: the buckets of the
// format and no others, the meta keys of the format and no others, an
// anchor at or before the head, a head Seq no Generator could reach past
// (otelaudit.MaxSeq), a reservation between the head and the largest ring
// past it.
func loadState(tx *bolt.Tx) (st state, err error) {
	known := map[string]bool{}
	for _, name := range allBuckets {
		known[string(name)] = true
		if tx.Bucket(name) == nil {
			return st, fmt.Errorf("%w: bucket %q missing", ErrCorrupt, name)
		}
	}
	err = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if !known[string(name)] {
			return fmt.Errorf("%w: unknown bucket %q", ErrCorrupt, name)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	meta := tx.Bucket(bucketMeta)
	metaKeys := map[string]bool{}
	for _, k := range allMetaKeys {
		metaKeys[string(k)] = true
	}
	err = walkBucket(meta, bucketMeta, func(k, _ []byte) error {
		if !metaKeys[string(k)] {
			return fmt.Errorf("%w: unknown key %q in the %s bucket", ErrCorrupt, k, bucketMeta)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	if st.anchor, err = decodeAnchor(meta.Get(keyAnchor)); err != nil {
		return st, err
	}
	if st.head, err = decodeAnchor(meta.Get(keyHead)); err != nil {
		return st, err
	}
	if st.reserved, err = decodeSeq("reservation", meta.Get(keyReserved)); err != nil {
		return st, err
	}
	var hasSigned bool
	if st.signed, hasSigned, err = decodeSigned(meta.Get(keySigned)); err != nil {
		return st, err
	}
	switch {
	case st.head.Seq > otelaudit.MaxSeq:
		return st, fmt.Errorf("%w: head seq %d is past the largest Seq a trail can reach (%d)", ErrCorrupt, st.head.Seq, uint64(otelaudit.MaxSeq))
	case st.anchor.Seq == 0 && st.anchor.Hash != otelaudit.GenesisHash:
		return st, fmt.Errorf("%w: anchor seq 0 is not the genesis (hash %s)", ErrCorrupt, st.anchor.Hash)
	case st.anchor.Seq > st.head.Seq:
		return st, fmt.Errorf("%w: anchor seq %d is past the head, seq %d", ErrCorrupt, st.anchor.Seq, st.head.Seq)
	case st.reserved < st.head.Seq || st.reserved-st.head.Seq > otelaudit.MaxCapacity:
		return st, fmt.Errorf("%w: seqs reserved up to %d, with the head at %d (a run reserves at most %d past it)", ErrCorrupt, st.reserved, st.head.Seq, otelaudit.MaxCapacity)
	case hasSigned && st.signed.Seq > st.head.Seq:
		return st, fmt.Errorf("%w: the signed head, seq %d, is past the head, seq %d", ErrCorrupt, st.signed.Seq, st.head.Seq)
	}
	if st.tree, err = decodeTree(meta.Get(keyTree)); err != nil {
		return st, err
	}
	if hasSigned && st.signed.Size > st.tree.Size() {
		return st, fmt.Errorf("%w: the signed head is of a tree of %d leaves, past the stored tree (%d)", ErrCorrupt, st.signed.Size, st.tree.Size())
	}
	if k, v := tx.Bucket(bucketCommits).Cursor().Last(); k != nil {
		if st.lastCommit, err = decodeCommit(v); err != nil {
			return st, err
		}
	}
	return st, nil
}

// usable reports why s cannot be used: not opened, or closed.
func (s *Store) usable() error {
	if s == nil || s.db == nil {
		return ErrNotOpen
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

// Path returns the file the store is in.
func (s *Store) Path() string {
	if s == nil {
		return ""
	}
	return s.path
}

// ReadOnly reports whether the store was opened read-only.
func (s *Store) ReadOnly() bool { return s != nil && s.cfg.readOnly }

// VerifyError returns why a store opened read-only did not verify: at
// Open (what Open checks, see the package documentation), or, once Verify
// failed on it, Verify's error; nil if it did. Reads of a read-only store
// that did not verify return what is stored, unchecked, for forensics.
func (s *Store) VerifyError() error {
	if s == nil {
		return ErrNotOpen
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.verifyErr
}

// Head returns the Seq and Hash of the newest stored event; the anchor when
// there is none.
func (s *Store) Head() otelaudit.Anchor {
	if s == nil {
		return otelaudit.Anchor{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head
}

// Anchor returns where verification starts: the last event removed by
// retention, or the genesis.
func (s *Store) Anchor() otelaudit.Anchor {
	if s == nil {
		return otelaudit.Anchor{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.anchor
}

// Close closes the file. Calls after the first return nil.
func (s *Store) Close() error {
	if s == nil || s.db == nil {
		return ErrNotOpen
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	return s.db.Close()
}

func seqKey8(b []byte, seq uint64) []byte {
	return append(b, byte(seq>>56), byte(seq>>48), byte(seq>>40), byte(seq>>32), byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq))
}

// hasPrefix reports whether k starts with p; for cursor loops.
func hasPrefix(k, p []byte) bool { return k != nil && bytes.HasPrefix(k, p) }
