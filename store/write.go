package store

import (
	"fmt"

	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/otel/trace"
)

// Writing a batch: the one transaction in which a Generator's events, their
// indexes, tree and sources, the reservation of Seqs and the signed head
// become durable together.

// Write implements otelaudit.Store: it stores a batch in one transaction,
// durable when it returns nil (see the package documentation); retention,
// if configured, runs in the same transaction. The records must continue
// the chain from Head, the first of them may be a SeqGap record that jumps
// over exactly the Seqs reserved, and b.Reserved must be at least the last
// record's Seq. On a store opened WithPublicKey, a batch with records must
// carry a signed checkpoint of the last (b.Head).
func (s *Store) Write(b otelaudit.Batch) (err error) {
	if err := s.usable(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	closed, head, anchor, reserved, lastCommit, tree := s.closed, s.head, s.anchor, s.reserved, s.lastCommit, s.tree
	s.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case s.cfg.readOnly:
		return ErrReadOnly
	}
	records := b.Events
	oldHead := head
	for i := range records {
		r := &records[i]
		if r.Seq != head.Seq+1 && !(i == 0 && r.Seq == reserved+1 && isGapOver(r, head.Seq+1, reserved)) {
			return fmt.Errorf("%w: record %d after head %d", ErrOutOfOrder, r.Seq, head.Seq)
		}
		if r.PrevHash != head.Hash {
			return fmt.Errorf("%w: record %d does not chain to head %d", ErrOutOfOrder, r.Seq, head.Seq)
		}
		head = otelaudit.Anchor{Seq: r.Seq, Hash: r.Hash}
	}
	for _, c := range append(b.Checkpoints[:len(b.Checkpoints):len(b.Checkpoints)], b.Head) {
		if len(c.Origin) > otelaudit.MaxOrigin {
			// Its length byte would wrap, and the store not read it back.
			return fmt.Errorf("store: a checkpoint of seq %d: %w", c.Seq, otelaudit.ErrBadOrigin)
		}
	}
	signed := b.Head.Signature != nil
	switch {
	case signed && (len(records) == 0 || b.Head.Seq != head.Seq || b.Head.Hash != head.Hash):
		return fmt.Errorf("%w: the signed head is of seq %d, not of the last record", ErrOutOfOrder, b.Head.Seq)
	case s.cfg.pub != nil && len(records) > 0 && !signed:
		return fmt.Errorf("%w: %s was opened with store.WithPublicKey and takes only commits whose last record is signed", ErrUnsigned, s.path)
	case b.Reserved < head.Seq || b.Reserved-head.Seq > otelaudit.MaxCapacity:
		return fmt.Errorf("%w: reservation up to seq %d with the head at %d", ErrOutOfOrder, b.Reserved, head.Seq)
	}
	// Commit times never go back, so that retention by age removes events
	// in the order they were stored.
	now := s.cfg.now()
	if now.Before(lastCommit) {
		now = lastCommit
	}
	// bbolt keeps pointers to keys and values until the commit: they live
	// in buffers sized once per Write.
	size := 0
	for i := range records {
		size += valueHeader + len(records[i].Data)
	}
	if cap(s.valueBuf) < size {
		// Doubling: batches grow a little at a time under rising load.
		s.valueBuf = make([]byte, 0, max(size, 2*cap(s.valueBuf)))
	}
	vals := s.valueBuf[:0]
	defer guard()(&err)
	// The tree grows in a copy, which replaces it once committed.
	grown := tree.Clone()
	err = s.db.Update(func(tx *bolt.Tx) error {
		leaf := grown.Size()
		// The tree grows (two or three SHA-256 blocks an event) on a
		// goroutine of its own, beside the puts, and touches no bbolt
		// state until it is joined: its tiles are read first.
		tiles := newTileWriter(tx.Bucket(bucketTiles))
		var (
			treeErr  error
			treeDone chan struct{}
		)
		if !s.cfg.noTree {
			tiles.load(leaf, leaf+uint64(len(records)))
			treeDone = make(chan struct{})
			go func() {
				defer close(treeDone)
				treeErr = growTree(grown, tiles, &b, oldHead)
			}()
			// Joined on every return: records belong to the caller
			// once Write returns.
			defer func() { <-treeDone }()
		}
		events := tx.Bucket(bucketEvents)
		// Keys only ever grow: full pages, no splits.
		events.FillPercent = 1
		srcs, byTrace, byType, byAgent := tx.Bucket(bucketSources), tx.Bucket(bucketByTrace), tx.Bucket(bucketByType), tx.Bucket(bucketByAgent)
		keys := make([]byte, 0, 8*len(records))
		byTraceP, byTypeP, byAgentP := &s.postings[0], &s.postings[1], &s.postings[2]
		byTraceP.reset()
		byTypeP.reset()
		byAgentP.reset()
		for i := range records {
			r := &records[i]
			start := len(vals)
			vals = appendValue(vals, r, leaf+uint64(i))
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
			ik, err := wire.ReadKeys(r.Data)
			if err != nil {
				return fmt.Errorf("record %d: %w: %w", r.Seq, otelaudit.ErrMalformed, err)
			}
			if trace.TraceID(ik.TraceID).IsValid() {
				byTraceP.add(ik.TraceID[:], r.Seq)
			}
			byTypeP.add(ik.Type, r.Seq)
			if len(ik.AgentString()) > 0 {
				byAgentP.add(ik.Agent, r.Seq)
			}
		}
		if treeDone != nil {
			<-treeDone
			if treeErr != nil {
				return treeErr
			}
			if err := tiles.put(); err != nil {
				return err
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
		for _, c := range b.Checkpoints {
			// A kept checkpoint is never replaced: a Stream may have
			// shipped it, a witness may hold it.
			if cps.Get(seqKey(c.Seq)) != nil {
				continue
			}
			if err := cps.Put(seqKey(c.Seq), encodeCheckpoint(c)); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if len(records) > 0 {
			if err := tx.Bucket(bucketCommits).Put(seqKey(records[0].Seq), encodeCommit(now)); err != nil {
				return err
			}
			if err := meta.Put(keyHead, encodeAnchor(head)); err != nil {
				return err
			}
		}
		if signed {
			if err := meta.Put(keySigned, encodeSigned(b.Head)); err != nil {
				return err
			}
		}
		if len(records) > 0 && !s.cfg.noTree {
			if err := meta.Put(keyTree, encodeTree(grown)); err != nil {
				return err
			}
		}
		if err := meta.Put(keyReserved, seqKey(b.Reserved)); err != nil {
			return err
		}
		// Retention removes at most twice what came in, plus a little: a
		// store over its bounds shrinks back steadily, each commit bounded.
		var err error
		anchor, err = s.retain(tx, anchor, head, 2*len(records)+retainStep)
		return err
	})
	if err != nil {
		// The transaction rolled back: head and anchor stay as they were.
		return fmt.Errorf("store: write: %w", err)
	}
	s.mu.Lock()
	s.head, s.anchor, s.reserved, s.tree = head, anchor, b.Reserved, grown
	if len(records) > 0 {
		s.lastCommit = now
	}
	if signed {
		s.signed = b.Head
	}
	s.mu.Unlock()
	for i := range records {
		if d := records[i].SourceDigest; d != (otelaudit.Hash{}) {
			s.addSource(d, records[i].Source)
		}
	}
	return nil
}

// isGapOver reports whether r is a SeqGap record of exactly the Seqs
// first..last.
func isGapOver(r *otelaudit.SealedEvent, first, last uint64) bool {
	var e otelaudit.Event
	if e.UnmarshalBinary(r.Data) != nil || e.Seq != r.Seq {
		return false
	}
	g, ok := e.Gap()
	return ok && g.First == first && g.Last == last
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
