package store

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// retainStep is how many events beyond twice a Write's own a Write's
// retention may remove, and Prune's per transaction.
const retainStep = 1024

// retain removes, oldest first, up to budget events beyond the store's
// bounds, with their index entries, the checkpoints they outlive and the
// commit records of the Writes they came in, and returns the new anchor
// (the last event removed). It runs inside tx.
//
// Age is by commit time (see WithRetention): the commits bucket says when
// each Write committed, keyed by its first Seq, and those times never go
// back, so removal in Seq order stops exactly at the first event young
// enough. Index keys are read from the stored bytes in place; nothing is
// decoded.
func (s *Store) retain(tx *bolt.Tx, anchor, head otelaudit.Anchor, budget int) (otelaudit.Anchor, error) {
	if s.cfg.maxAge <= 0 && s.cfg.maxEvents == 0 {
		return anchor, nil
	}
	cutoff := time.Time{}
	if s.cfg.maxAge > 0 {
		cutoff = s.cfg.now().Add(-s.cfg.maxAge)
	}
	events := tx.Bucket(bucketEvents)
	c := events.Cursor()
	commits := tx.Bucket(bucketCommits).Cursor()
	// The commit of the event at hand: the last one keyed at or before it,
	// and the first key after it.
	ck, cv := commits.First()
	nk, nv := commits.Next()
	var committed time.Time
	removed := 0
	// The index prefixes of the events removed, whose entries lose them
	// once the last is known.
	cut := [3]map[string]struct{}{{}, {}, {}}
	for k, v := c.First(); k != nil && removed < budget; k, v = c.First() {
		seq := binary.BigEndian.Uint64(k)
		overCount := s.cfg.maxEvents > 0 && head.Seq-anchor.Seq > s.cfg.maxEvents
		if !overCount {
			if cutoff.IsZero() {
				break
			}
			for nk != nil && binary.BigEndian.Uint64(nk) <= seq {
				ck, cv = nk, nv
				nk, nv = commits.Next()
			}
			if ck == nil || binary.BigEndian.Uint64(ck) > seq {
				// No record of when it was committed: keep it.
				break
			}
			var err error
			if committed, err = decodeCommit(cv); err != nil {
				return anchor, err
			}
			if !committed.Before(cutoff) {
				break
			}
		}
		se, err := splitValue(seq, v)
		if err != nil {
			return anchor, err
		}
		ik, err := wire.ReadKeys(se.data)
		if err != nil {
			return anchor, fmt.Errorf("%w: event %d: %w", ErrCorrupt, seq, err)
		}
		if trace.TraceID(ik.TraceID).IsValid() {
			cut[0][string(ik.TraceID[:])] = struct{}{}
		}
		cut[1][string(ik.Type)] = struct{}{}
		if len(ik.AgentString()) > 0 {
			cut[2][string(ik.Agent)] = struct{}{}
		}
		hash := se.hash
		if err := c.Delete(); err != nil {
			return anchor, err
		}
		anchor = otelaudit.Anchor{Seq: seq, Hash: hash}
		removed++
	}
	if removed == 0 {
		return anchor, nil
	}
	for i, name := range [][]byte{bucketByTrace, bucketByType, bucketByAgent} {
		b := tx.Bucket(name)
		for prefix := range cut[i] {
			if err := trim(b, []byte(prefix), anchor.Seq); err != nil {
				return anchor, err
			}
		}
	}
	// Checkpoints of removed events vouch for nothing still stored; the
	// anchor's own stays, as the proof it was the chain.
	cps := tx.Bucket(bucketCheckpoints).Cursor()
	for k, _ := cps.First(); k != nil && binary.BigEndian.Uint64(k) < anchor.Seq; k, _ = cps.First() {
		if err := cps.Delete(); err != nil {
			return anchor, err
		}
	}
	// A commit record goes once the next one starts at or before the
	// first event left: all its events are gone.
	cc := tx.Bucket(bucketCommits).Cursor()
	for k, _ := cc.First(); k != nil; k, _ = cc.First() {
		if next, _ := cc.Next(); next == nil || binary.BigEndian.Uint64(next) > anchor.Seq+1 {
			break
		}
		cc.First()
		if err := cc.Delete(); err != nil {
			return anchor, err
		}
	}
	// The Merkle tree's level-0 tiles go with their events; what proves
	// the events left, and gives the anchor's tree, stays.
	first, err := firstLeaf(tx)
	if err != nil {
		return anchor, err
	}
	if err := pruneTiles(tx, first); err != nil {
		return anchor, err
	}
	return anchor, tx.Bucket(bucketMeta).Put(keyAnchor, encodeAnchor(anchor))
}

// firstLeaf returns the leaf index of the first stored event, or the tree's
// size when none is.
func firstLeaf(tx *bolt.Tx) (uint64, error) {
	k, v := tx.Bucket(bucketEvents).Cursor().First()
	if k == nil {
		t, err := decodeTree(tx.Bucket(bucketMeta).Get(keyTree))
		if err != nil {
			return 0, err
		}
		return t.Size(), nil
	}
	se, err := splitValue(binary.BigEndian.Uint64(k), v)
	return se.leaf, err
}

// Prune applies the retention bounds now (Write also does, a step at a
// time) and returns how many events it removed.
func (s *Store) Prune() (removed int, err error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.cfg.readOnly {
		return 0, ErrReadOnly
	}
	defer guard()(&err)
	for {
		s.mu.Lock()
		closed, before, head := s.closed, s.anchor, s.head
		s.mu.Unlock()
		if closed {
			return removed, ErrClosed
		}
		var after otelaudit.Anchor
		err := s.db.Update(func(tx *bolt.Tx) error {
			var err error
			after, err = s.retain(tx, before, head, retainStep)
			return err
		})
		if err != nil {
			return removed, fmt.Errorf("store: prune: %w", err)
		}
		s.mu.Lock()
		s.anchor = after
		s.mu.Unlock()
		removed += int(after.Seq - before.Seq)
		if after.Seq-before.Seq < retainStep {
			return removed, nil
		}
	}
}
