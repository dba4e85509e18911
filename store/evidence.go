package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/evidence"
	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Evidence returns the evidence bundle of trace id (see package evidence):
// its stored events, each with its inclusion proof against the store's
// newest signed checkpoint (the newest commit's), and that checkpoint. It
// reads the trace index and the Merkle tree's tiles: its cost grows with
// the trace and with log2 of the trail, never with the trail. It fails
// with ErrNotFound for a trace without stored events, and with
// ErrNoCheckpoint when the store has no signed checkpoint, or the newest
// does not cover every event of the trace.
func (s *Store) Evidence(id trace.TraceID) (b *evidence.Bundle, err error) {
	return s.EvidenceUpTo(id, 0)
}

// EvidenceUpTo is Evidence for a trace of at most max stored events (max
// <= 0: any number): for a trace with more it fails with an error wrapping
// evidence.ErrTooLarge, having read no more than max+1 entries of the
// trace index and no event. What a server answering untrusted requests
// uses (see auditz.WithEvidence).
func (s *Store) EvidenceUpTo(id trace.TraceID, max int) (b *evidence.Bundle, err error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	defer guard()(&err)
	err = s.db.View(func(tx *bolt.Tx) error {
		cp, ok, err := decodeSigned(tx.Bucket(bucketMeta).Get(keySigned))
		if err != nil {
			return err
		}
		if !ok || len(cp.Signature) == 0 {
			return fmt.Errorf("%w: the store has no signed checkpoint (it was written without a signing key)", ErrNoCheckpoint)
		}
		var seqs []uint64
		err = walkIndex(tx.Bucket(bucketByTrace), tracePrefix(id), false, func(seq uint64) (bool, error) {
			seqs = append(seqs, seq)
			return max > 0 && len(seqs) > max, nil
		})
		if err != nil {
			return err
		}
		if max > 0 && len(seqs) > max {
			return fmt.Errorf("%w: trace %s has more than %d stored events", evidence.ErrTooLarge, id, max)
		}
		if len(seqs) == 0 {
			return fmt.Errorf("%w: no event of trace %s in the store", ErrNotFound, id)
		}
		b = &evidence.Bundle{Format: evidence.Format, TraceID: id.String(), Checkpoint: string(cp.Note())}
		nodes := tlog.NewNodes(tileReader(tx))
		at := map[otelaudit.Hash]int{}
		r := newReader(s, tx)
		events, srcs := tx.Bucket(bucketEvents), tx.Bucket(bucketSources)
		// walkIndex goes newest first.
		for i := len(seqs) - 1; i >= 0; i-- {
			seq := seqs[i]
			v := events.Get(seqKey(seq))
			if v == nil {
				return fmt.Errorf("%w: event %d is indexed but missing", ErrCorrupt, seq)
			}
			se, err := splitValue(seq, v)
			if err != nil {
				return err
			}
			if se.leaf >= cp.Size {
				return fmt.Errorf("%w: seq %d of trace %s is leaf %d, past the newest signed checkpoint (a tree of %d)", ErrNoCheckpoint, seq, id, se.leaf, cp.Size)
			}
			e, err := r.event(seq)
			if err != nil {
				return err
			}
			p, err := nodes.Inclusion(se.leaf, cp.Size)
			if err != nil {
				return fmt.Errorf("%w: the inclusion proof of seq %d: %w", ErrCorrupt, seq, err)
			}
			be := evidence.Event{
				LeafIndex: se.leaf,
				PrevHash:  se.prev,
				Hash:      se.hash,
				Canonical: append([]byte(nil), se.data...),
				Decoded:   evidence.DecodedForm(&e),
				Proof:     make([]int, len(p)),
			}
			if se.src != (otelaudit.Hash{}) {
				be.Source = append([]byte(nil), srcs.Get(se.src[:])...)
			}
			for k, h := range p {
				j, ok := at[h]
				if !ok {
					j = len(b.Hashes)
					at[h] = j
					b.Hashes = append(b.Hashes, append([]byte(nil), h[:]...))
				}
				be.Proof[k] = j
			}
			b.Events = append(b.Events, be)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Consistency returns the consistency proof that the store's newest signed
// checkpoint extends from, a checkpoint of this trail kept elsewhere (see
// package evidence), from the store's Merkle tree. It does not check the
// proof: evidence.Consistency.Verify does, and fails for a store whose
// trail was rewritten since from, or cut back before it. It fails with
// ErrNoCheckpoint when the store has no signed checkpoint, or retention
// removed the tree nodes the proof needs.
func (s *Store) Consistency(from otelaudit.Checkpoint) (*evidence.Consistency, error) {
	return s.consistency(from, nil)
}

// ConsistencyBetween returns the consistency proof, from the store's
// Merkle tree, that the tree of to extends the tree of from, two
// checkpoints of this trail (stored, kept elsewhere, or carried by
// receipts). As Consistency, it does not check it.
func (s *Store) ConsistencyBetween(from, to otelaudit.Checkpoint) (*evidence.Consistency, error) {
	return s.consistency(from, &to)
}

func (s *Store) consistency(from otelaudit.Checkpoint, toCp *otelaudit.Checkpoint) (c *evidence.Consistency, err error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	defer guard()(&err)
	err = s.db.View(func(tx *bolt.Tx) error {
		var to otelaudit.Checkpoint
		if toCp != nil {
			to = *toCp
		} else {
			signed, ok, err := decodeSigned(tx.Bucket(bucketMeta).Get(keySigned))
			if err != nil {
				return err
			}
			if !ok || len(signed.Signature) == 0 {
				return fmt.Errorf("%w: the store has no signed checkpoint (it was written without a signing key)", ErrNoCheckpoint)
			}
			to = signed
		}
		c = &evidence.Consistency{Format: evidence.ConsistencyFormat, From: string(from.Note()), To: string(to.Note())}
		if from.Size > to.Size {
			// No proof can exist: the store's tree is smaller than one
			// it signed before. Verify says so.
			return nil
		}
		p, err := tlog.NewNodes(tileReader(tx)).Consistency(from.Size, to.Size)
		if err != nil {
			if errors.Is(err, tlog.ErrMissingNode) {
				return fmt.Errorf("%w: the tree of %d leaves: %w", ErrNoCheckpoint, from.Size, err)
			}
			return err
		}
		c.Proof = make([]otelaudit.Hash, len(p))
		for i := range p {
			c.Proof[i] = p[i]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
