package store

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Report is what Verify checked.
type Report struct {
	// Anchor is where the chain started, Head where it ended.
	Anchor, Head otelaudit.Anchor
	// Events is how many events verified.
	Events uint64
	// Checkpoints is how many checkpoints (stored and given) were checked
	// against the trail; Signed how many of them had their signature
	// checked.
	Checkpoints, Signed int
}

// Verify checks the stored trail from its anchor: every event's Hash must
// follow from its encoding, Source and predecessor, with no Seq missing
// or out of place, up to the recorded head; every stored Source must match
// its digest; and every stored checkpoint, plus extra (checkpoints kept
// outside the store, which a rewritten store cannot have rewritten), must
// agree with the trail. With pub, every checkpoint must carry a valid
// signature by its private key.
//
// A failure wraps otelaudit.ErrChainBroken and is an *otelaudit.ChainError
// naming the first bad Seq; the Report says how far verification got.
func (s *Store) Verify(pub ed25519.PublicKey, extra []otelaudit.Checkpoint) (rep Report, err error) {
	if err := s.usable(); err != nil {
		return rep, err
	}
	if pub != nil && len(pub) != ed25519.PublicKeySize {
		return rep, fmt.Errorf("store: public key of %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	defer recoverCorrupt(&err)
	err = s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		anchor, err := decodeAnchor(meta.Get(keyAnchor))
		if err != nil {
			return err
		}
		head, err := decodeAnchor(meta.Get(keyHead))
		if err != nil {
			return err
		}
		rep.Anchor, rep.Head = anchor, anchor
		if err := checkSources(tx); err != nil {
			return err
		}
		v := otelaudit.NewVerifier(anchor)
		c := tx.Bucket(bucketEvents).Cursor()
		for k, val := c.First(); k != nil; k, val = c.Next() {
			if len(k) != 8 {
				return fmt.Errorf("%w: event key of %d bytes", ErrCorrupt, len(k))
			}
			seq := binary.BigEndian.Uint64(k)
			se, err := splitValue(seq, val)
			if err != nil {
				return err
			}
			if len(se.data) >= 9 && binary.LittleEndian.Uint64(se.data[1:9]) != seq {
				return &otelaudit.ChainError{Seq: seq, Reason: fmt.Sprintf("stored under key %d but numbered %d", seq, binary.LittleEndian.Uint64(se.data[1:9]))}
			}
			if err := v.Record(se.prev, se.hash, se.src, se.data); err != nil {
				return err
			}
			rep.Head, rep.Events = v.Head(), v.Count()
		}
		if rep.Head != head {
			if rep.Head.Seq < head.Seq {
				return &otelaudit.ChainError{Seq: rep.Head.Seq + 1, Reason: fmt.Sprintf("missing: the trail ends at seq %d, but the store's head is seq %d", rep.Head.Seq, head.Seq)}
			}
			return &otelaudit.ChainError{Seq: head.Seq, Reason: "the store's recorded head does not match its newest event"}
		}
		var cps []otelaudit.Checkpoint
		err = tx.Bucket(bucketCheckpoints).ForEach(func(k, v []byte) error {
			cp, err := decodeCheckpoint(k, v)
			cps = append(cps, cp)
			return err
		})
		if err != nil {
			return err
		}
		cps = append(cps, extra...)
		rep.Checkpoints = len(cps)
		if pub != nil {
			rep.Signed = len(cps)
		}
		events := tx.Bucket(bucketEvents)
		return otelaudit.VerifyCheckpoints(cps, pub, anchor, head, func(seq uint64) (otelaudit.Hash, bool) {
			v := events.Get(seqKey(seq))
			if v == nil {
				return otelaudit.Hash{}, false
			}
			se, err := splitValue(seq, v)
			return se.hash, err == nil
		})
	})
	return rep, err
}

// checkSources checks every stored Source against its digest: an event's
// Hash covers the digest, not the bytes, so a changed Source shows here.
func checkSources(tx *bolt.Tx) error {
	return tx.Bucket(bucketSources).ForEach(func(k, v []byte) error {
		if len(k) != hashSize || sha256.Sum256(v) != [hashSize]byte(k) {
			return fmt.Errorf("%w: stored source %x does not match its digest", otelaudit.ErrChainBroken, k)
		}
		return nil
	})
}
