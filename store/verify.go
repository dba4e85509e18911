package store

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/maphash"

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
	// checked. Older is how many of them are of events before the anchor:
	// their signatures are checked, but the events they vouch for are not
	// in the store to compare with (removed by retention, or by someone).
	Checkpoints, Signed, Older int
}

// Verify checks the stored trail from its anchor: every event's Hash must
// follow from its encoding, Source and predecessor, with no Seq missing
// or out of place, up to the recorded head; every stored Source must match
// its digest; the indexes must list exactly the stored events; and every
// stored checkpoint, plus extra (checkpoints kept outside the store, which
// a rewritten store cannot have rewritten), must agree with the trail. With
// pub, every checkpoint must carry a valid signature by its private key.
//
// Events before the anchor are not in the store, whether retention removed
// them or someone else did: Report.Anchor says where the trail starts, and
// Report.Older counts the checkpoints that vouch for events before it. A
// verifier that expects the whole trail checks that the anchor is
// otelaudit.GenesisAnchor (the CLI's verify --from-genesis).
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
		var idx indexSums
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
			if err := idx.addEvent(seq, se.data); err != nil {
				return &otelaudit.ChainError{Seq: seq, Reason: err.Error()}
			}
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
		// Last: a chain or checkpoint failure names the event, an index
		// mismatch only the index.
		return idx.check(tx)
	})
	return rep, err
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
	if len(data) < eventHeaderSize {
		return fmt.Errorf("%w: event encoding of %d bytes", otelaudit.ErrMalformed, len(data))
	}
	if id := data[21:37]; [16]byte(id) != ([16]byte{}) {
		x.sum(&x.want[0], id, seq)
	}
	rest := data[eventHeaderSize:]
	var strs [3][]byte // type, outcome, agent, each with its length
	for i := range strs {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return fmt.Errorf("%w: truncated string", otelaudit.ErrMalformed)
		}
		strs[i], rest = rest[:w+int(n)], rest[w+int(n):]
	}
	x.sum(&x.want[1], strs[0], seq)
	if len(strs[2]) > 1 {
		x.sum(&x.want[2], strs[2], seq)
	}
	return nil
}

func (x *indexSums) check(tx *bolt.Tx) error {
	x.init()
	names := [3]string{"trace", "type", "agent"}
	for i, name := range x.buckets {
		err := tx.Bucket(name).ForEach(func(k, v []byte) error {
			plen := len(k) - 8
			if plen < 0 {
				return fmt.Errorf("%w: index key of %d bytes in %s", ErrCorrupt, len(k), name)
			}
			seqs, err := decodePosting(k, v, plen)
			if err != nil {
				return err
			}
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
