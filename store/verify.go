package store

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/internal/wire"
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
	// checked. Older is how many of them are of events before the anchor:
	// their signatures are checked, but the events they vouch for are not
	// in the store to compare with (removed by retention, or by someone).
	Checkpoints, Signed, Older int
	// SignedUpTo is, with a key, the newest Seq a checkpoint signed by it
	// covers: every event up to it is the key holder's.
	SignedUpTo uint64
	// Tree is the size of the trail's Merkle tree: every event the store
	// ever held, the removed ones included.
	Tree uint64
	// Gaps are the Seqs lost to crashes, each accounted for by a SeqGap
	// record in the chain; Adoptions the heads a run with a key adopted
	// (HeadAdopted records).
	Gaps      []otelaudit.Gap
	Adoptions []otelaudit.Adoption
}

// Verify checks the whole store, as an attacker who can write the file
// but not sign would have to defeat it.
//
// The trail: every event must decode canonically (its bytes are the one
// encoding of an event) and its Hash follow from its encoding, Source and
// predecessor, from the anchor, with no Seq missing, repeated or out of
// place except where a SeqGap record accounts for lost Seqs, up to the
// recorded head; every event's Source must be stored, and every stored
// Source decode and match its digest; the indexes must list exactly the
// stored events (an event indexed but not stored, or stored but not
// indexed, fails), each key's entries in Seq order; every stored
// checkpoint, plus extra (checkpoints kept outside the store, which a
// rewritten store cannot have rewritten), must agree with the trail. With
// pub, every checkpoint must carry a valid signature by its private key,
// and one of them must cover the head: events past the newest checkpoint
// pub signed fail with ErrUnsigned, naming the first of them (a store
// emptied of events, its anchor). The file: every bucket's keys in order,
// no bucket nested in another, and bbolt's own consistency check
// (Tx.Check) must pass.
//
// Events before the anchor are not in the store, whether retention removed
// them or someone else did: Report.Anchor says where the trail starts, and
// Report.Older counts the checkpoints that vouch for events before it. A
// verifier that expects the whole trail checks that the anchor is
// otelaudit.GenesisAnchor (the CLI's verify --from-genesis).
//
// A failure of the trail wraps otelaudit.ErrChainBroken and is an
// *otelaudit.ChainError naming the first bad Seq; one of the file wraps
// ErrCorrupt. The Report says how far verification got. The failure a
// key's coverage gives is reported last, after everything else passed: a
// sound trail whose head is not the key's. On a store being written,
// Verify holds up commits while bbolt's check runs.
func (s *Store) Verify(pub ed25519.PublicKey, extra []otelaudit.Checkpoint) (rep Report, err error) {
	if err := s.usable(); err != nil {
		return rep, err
	}
	if pub != nil && len(pub) != ed25519.PublicKeySize {
		return rep, fmt.Errorf("store: public key of %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	unsigned, err := s.verifyTrail(pub, extra, &rep)
	if err == nil {
		err = s.checkBolt()
	}
	if err != nil {
		s.damaged(err)
		return rep, err
	}
	return rep, unsigned
}

// damaged records, on a read-only store, that Verify failed: VerifyError
// then says why, and reads return what is stored without checking it
// against the tree, for forensics (the CLI shows the first bad event as
// stored). A store opened for writing keeps checking its reads.
func (s *Store) damaged(err error) {
	if !s.cfg.readOnly {
		return
	}
	s.mu.Lock()
	if s.verifyErr == nil {
		s.verifyErr = err
	}
	s.mu.Unlock()
	s.trust.Store(nil)
}

// verifyTrail checks the trail in one read transaction, reading every
// key and value of every bucket on the way (see checkBolt for why), and
// returns the key's coverage failure apart.
func (s *Store) verifyTrail(pub ed25519.PublicKey, extra []otelaudit.Checkpoint, rep *Report) (unsigned, err error) {
	defer guard()(&err)
	err = s.db.View(func(tx *bolt.Tx) error {
		st, err := loadState(tx)
		if err != nil {
			return err
		}
		anchor, head := st.anchor, st.head
		rep.Anchor, rep.Head = anchor, anchor
		if err := checkSources(tx); err != nil {
			return err
		}
		// The Merkle tree, recomputed from the first stored event on: its
		// left border (the compact range of the leaves before it) comes
		// from the tiles, and the checkpoints of those trees check it.
		cps, err := readCheckpoints(tx)
		if err != nil {
			return err
		}
		cps = append(cps, extra...)
		first, err := firstLeaf(tx)
		if err != nil {
			return err
		}
		border, err := tlog.NewNodes(tileReader(tx)).Range(first)
		if err != nil {
			return fmt.Errorf("%w: the Merkle tree before leaf %d: %w", ErrCorrupt, first, err)
		}
		tree, err := tlog.NewTree(first, border)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		roots := newRootCheck(cps, first)
		if err := roots.at(tree); err != nil {
			return err
		}
		var idx indexSums
		w := newEventWalk(tx, anchor, tree)
		c := tx.Bucket(bucketEvents).Cursor()
		for k, val := c.First(); k != nil; k, val = c.Next() {
			seq, se, err := w.next(k, val)
			if err != nil {
				return err
			}
			if err := roots.at(tree); err != nil {
				return err
			}
			rep.Head, rep.Events = w.v.Head(), w.v.Count()
			if err := idx.addEvent(seq, se.data); err != nil {
				return &otelaudit.ChainError{Seq: seq, Reason: err.Error()}
			}
		}
		rep.Gaps, rep.Adoptions = w.v.Gaps(), w.v.Adoptions()
		if err := w.end(head); err != nil {
			return err
		}
		rep.Tree = tree.Size()
		rep.Checkpoints = len(cps)
		if pub != nil {
			rep.Signed = len(cps)
		}
		for _, c := range cps {
			if c.Seq < anchor.Seq {
				rep.Older++
			}
		}
		events := tx.Bucket(bucketEvents)
		err = otelaudit.VerifyCheckpoints(cps, pub, anchor, head, func(seq uint64) (otelaudit.Hash, bool) {
			v := events.Get(seqKey(seq))
			if v == nil {
				return otelaudit.Hash{}, false
			}
			se, err := splitValue(seq, v)
			return se.hash, err == nil
		})
		if err != nil {
			return err
		}
		if err := roots.past(tree); err != nil {
			return err
		}
		// After the chain and the checkpoints: a chain or checkpoint
		// failure names the event, an index or tile mismatch only the
		// index or the tile.
		if err := idx.check(tx); err != nil {
			return err
		}
		if err := checkTiles(tx, w.tiles, tree); err != nil {
			return err
		}
		if err := checkCommits(tx, head); err != nil {
			return err
		}
		if err := checkCursors(tx); err != nil {
			return err
		}
		if pub != nil {
			rep.SignedUpTo, _ = otelaudit.SignedUpTo(cps, pub)
			unsigned = otelaudit.VerifySigned(cps, pub, anchor, head, func(seq uint64) uint64 {
				if k, _ := events.Cursor().Seek(seqKey(seq + 1)); len(k) == 8 {
					return binary.BigEndian.Uint64(k)
				}
				return seq + 1
			})
		}
		return nil
	})
	return unsigned, err
}

// maxSourcesRemembered bounds the Sources Verify remembers as stored; past
// it, it looks each one up.
const maxSourcesRemembered = 1024

// checkCommits checks the commit times retention reads: one 8-byte time per
// Write, keyed by the Write's first Seq, none past the head, never going
// back.
func checkCommits(tx *bolt.Tx, head otelaudit.Anchor) error {
	var last time.Time
	return walkBucket(tx.Bucket(bucketCommits), bucketCommits, func(k, v []byte) (err error) {
		last, err = checkCommit(k, v, head, last)
		return err
	})
}

// checkCommit checks one commit time (key k, value v) and returns it: none
// past the head, none before last, the one before it.
func checkCommit(k, v []byte, head otelaudit.Anchor, last time.Time) (time.Time, error) {
	seq, err := decodeSeq("commit key", k)
	if err != nil {
		return last, err
	}
	t, err := decodeCommit(v)
	switch {
	case err != nil:
		return last, err
	case seq > head.Seq:
		return last, fmt.Errorf("%w: a commit of seq %d, past the head (%d)", ErrCorrupt, seq, head.Seq)
	case t.Before(last):
		return last, fmt.Errorf("%w: the commit of seq %d is dated before the one before it", ErrCorrupt, seq)
	}
	return t, nil
}

// checkCursors checks that every cursor is a name and a Seq.
func checkCursors(tx *bolt.Tx) error {
	return walkBucket(tx.Bucket(bucketCursors), bucketCursors, func(k, v []byte) error {
		if len(k) == 0 || len(v) != 8 {
			return fmt.Errorf("%w: cursor %q of %d bytes", ErrCorrupt, k, len(v))
		}
		return nil
	})
}

// indexSums checks that the indexes list exactly the stored events, each
// under its own keys: a removed entry would hide an event from EventsByTrace
// while the chain still verifies. Expected and found entries are summed as
// keyed 64-bit hashes, two lanes, seeded at random per check, so that a
// forger cannot prepare entries whose sums match; it needs no memory per
// event.
type indexSums struct {
	seeds     [2]maphash.Seed
	want, got [3][2]uint64
	seeded    bool
	buckets   [3][]byte
	scratch   []byte
}

func (x *indexSums) init() {
	if !x.seeded {
		x.seeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
		x.buckets = [3][]byte{bucketByTrace, bucketByType, bucketByAgent}
		x.seeded = true
	}
}

func (x *indexSums) sum(to *[2]uint64, prefix []byte, seq uint64) {
	x.scratch = binary.BigEndian.AppendUint64(append(x.scratch[:0], prefix...), seq)
	to[0] += maphash.Bytes(x.seeds[0], x.scratch)
	to[1] += maphash.Bytes(x.seeds[1], x.scratch)
}

// addEvent adds the index entries event seq should have. The type and
// agent prefixes (a uvarint length and the bytes) are exactly how the
// event's encoding holds those strings: they are read in place.
func (x *indexSums) addEvent(seq uint64, data []byte) error {
	x.init()
	k, err := wire.ReadKeys(data)
	if err != nil {
		return fmt.Errorf("%w: %w", otelaudit.ErrMalformed, err)
	}
	if k.TraceID != ([16]byte{}) {
		x.sum(&x.want[0], k.TraceID[:], seq)
	}
	x.sum(&x.want[1], k.Type, seq)
	if len(k.AgentString()) > 0 {
		x.sum(&x.want[2], k.Agent, seq)
	}
	return nil
}

func (x *indexSums) check(tx *bolt.Tx) error {
	x.init()
	names := [3]string{"trace", "type", "agent"}
	for i, name := range x.buckets {
		// The entries of one key hold ascending, disjoint runs of Seqs
		// (one per Write): walkIndex, newest first, relies on it.
		var prefix []byte
		var last uint64
		err := walkBucket(tx.Bucket(name), name, func(k, v []byte) error {
			plen := len(k) - 8
			if plen < 0 {
				return fmt.Errorf("%w: index key of %d bytes in %s", ErrCorrupt, len(k), name)
			}
			seqs, err := decodePosting(k, v, plen)
			if err != nil {
				return err
			}
			if bytes.Equal(k[:plen], prefix) && seqs[0] <= last {
				return fmt.Errorf("%w: the %s index lists seq %d after seq %d under one key", otelaudit.ErrChainBroken, names[i], seqs[0], last)
			}
			prefix, last = append(prefix[:0], k[:plen]...), seqs[len(seqs)-1]
			for _, seq := range seqs {
				x.sum(&x.got[i], k[:plen], seq)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if x.got[i] != x.want[i] {
			return fmt.Errorf("%w: the %s index does not list exactly the stored events (an entry was removed, added or changed)", otelaudit.ErrChainBroken, names[i])
		}
	}
	return nil
}

// checkSources checks every stored Source against its digest (an event's
// Hash covers the digest, not the bytes, so a changed Source shows here),
// and that it decodes to a Source that encodes to the same bytes.
func checkSources(tx *bolt.Tx) error {
	return walkBucket(tx.Bucket(bucketSources), bucketSources, func(k, v []byte) error {
		if len(k) != hashSize || sha256.Sum256(v) != [hashSize]byte(k) {
			return fmt.Errorf("%w: stored source %x does not match its digest", otelaudit.ErrChainBroken, k)
		}
		src, err := otelaudit.UnmarshalSource(v)
		if err != nil {
			return fmt.Errorf("%w: stored source %x: %w", ErrCorrupt, k, err)
		}
		if b, _ := src.MarshalBinary(); !bytes.Equal(b, v) {
			return fmt.Errorf("%w: stored source %x is not in its canonical encoding", ErrCorrupt, k)
		}
		return nil
	})
}

// rootCheck compares checkpoints with the tree as Verify recomputes it:
// each checkpoint of a tree of at least first leaves (the first leaf still
// stored) must have the root of the tree of its Size, and name its last
// leaf as its chain head (the leaf's Seq and Hash are checked by
// VerifyCheckpoints).
type rootCheck struct {
	bySize map[uint64][]otelaudit.Checkpoint
	max    otelaudit.Checkpoint
}

func newRootCheck(cps []otelaudit.Checkpoint, first uint64) *rootCheck {
	r := &rootCheck{bySize: map[uint64][]otelaudit.Checkpoint{}}
	for _, c := range cps {
		if c.Size >= first && (c.Size > 0 || c.Seq > 0) {
			r.bySize[c.Size] = append(r.bySize[c.Size], c)
		}
		if c.Size > r.max.Size {
			r.max = c
		}
	}
	return r
}

// at checks the checkpoints of the tree as it is now.
func (r *rootCheck) at(t *tlog.Tree) error {
	cs := r.bySize[t.Size()]
	if len(cs) == 0 {
		return nil
	}
	root := otelaudit.Hash(t.Root())
	for _, c := range cs {
		if c.Root != root {
			return &otelaudit.ChainError{Seq: c.Seq, Reason: fmt.Sprintf("the Merkle tree of %d leaves has root %s, and the checkpoint of %s says %s: the trail was rewritten", t.Size(), short(root), c.Time.UTC().Format(time.RFC3339), short(c.Root))}
		}
	}
	return nil
}

// past fails for a checkpoint of a tree larger than the one recomputed.
func (r *rootCheck) past(t *tlog.Tree) error {
	if r.max.Size > t.Size() {
		return &otelaudit.ChainError{Seq: r.max.Seq, Reason: fmt.Sprintf("missing: the Merkle tree has %d leaves, and the checkpoint of %s covers %d", t.Size(), r.max.Time.UTC().Format(time.RFC3339), r.max.Size)}
	}
	return nil
}

func short(h otelaudit.Hash) string { return h.String()[:12] }
