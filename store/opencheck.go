package store

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// What Open verifies, in time that grows with the tail (the events after
// the newest checkpoint it can trust), not with the trail; see the package
// documentation, "What Open checks", for why that is enough, and Verify for
// everything.
//
// The trust point is the newest stored checkpoint whose signature the
// WithPublicKey key verifies (the newest commit's signed head, in a store
// written with the key); without a key, the newest stored checkpoint. From
// it:
//
//   - the event it names is stored, with its Hash and leaf, and hashes
//     and decodes as itself;
//   - the Merkle tree's stored nodes give its Root for its Size: the
//     compact range the tail grows from, and every tile read later, is
//     the one the checkpoint covers;
//   - every event after it verifies as Verify verifies it (decoding, the
//     chain, the leaf, the tiles it completes, its Source, its index
//     entries), up to the recorded head;
//   - the stored tree state is the tree that gives, and the tiles at its
//     right edge hold exactly its nodes;
//   - no stored checkpoint is newer than the trust point (with a key, one
//     whose signature did not verify);
//   - the first stored event chains to the anchor;
//   - the commit times of the tail, every Source, every cursor, and every
//     bucket kept inline in its parent's page (a page at most) are checked
//     as Verify checks them.
//
// Without a trust point the tail is every stored event, from the anchor.

// openCheck verifies what Open verifies. It returns the tree of the stored
// events, which reads are then checked against (see readTrust), and, apart,
// the failure of the key's coverage (ErrUnsigned), which is only reported
// when the rest passed.
func (s *Store) openCheck(pub ed25519.PublicKey) (tree *tlog.Tree, unsigned, err error) {
	defer guard()(&err)
	err = s.db.View(func(tx *bolt.Tx) error {
		st, err := loadState(tx)
		if err != nil {
			return err
		}
		if err := checkSmallBuckets(tx); err != nil {
			return err
		}
		events := tx.Bucket(bucketEvents)
		if err := checkFirstEvent(events, st.anchor, st.head); err != nil {
			return err
		}
		p, ok, err := trustPoint(tx, st, pub)
		if err != nil {
			return err
		}
		from := st.anchor
		if ok && p.Seq >= st.anchor.Seq {
			if tree, err = checkTrustPoint(tx, st.anchor, p); err != nil {
				return err
			}
			from = otelaudit.Anchor{Seq: p.Seq, Hash: p.Hash}
		} else {
			first, err := firstLeaf(tx)
			if err != nil {
				return err
			}
			border, err := tlog.NewNodes(tileReader(tx)).Range(first)
			if err != nil {
				return fmt.Errorf("%w: the Merkle tree before leaf %d: %w", ErrCorrupt, first, err)
			}
			if tree, err = tlog.NewTree(first, border); err != nil {
				return fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
		}
		if err := checkTail(tx, from, st.head, tree); err != nil {
			return err
		}
		if !bytes.Equal(encodeTree(st.tree), encodeTree(tree)) {
			return fmt.Errorf("%w: the stored Merkle tree state (%d leaves) is not the tree of the stored events (%d)", otelaudit.ErrChainBroken, st.tree.Size(), tree.Size())
		}
		first, err := firstLeaf(tx)
		if err != nil {
			return err
		}
		if err := checkTileEdges(tx.Bucket(bucketTiles), tree, first); err != nil {
			return err
		}
		if err := checkCommitsAfter(tx, from.Seq, st.head); err != nil {
			return err
		}
		if pub != nil {
			var cps []otelaudit.Checkpoint
			if ok {
				cps = []otelaudit.Checkpoint{p}
			}
			unsigned = otelaudit.VerifySigned(cps, pub, st.anchor, st.head, func(seq uint64) uint64 {
				if k, _ := events.Cursor().Seek(seqKey(seq + 1)); len(k) == 8 {
					return binary.BigEndian.Uint64(k)
				}
				return seq + 1
			})
		}
		return nil
	})
	return tree, unsigned, err
}

// trustPoint returns the newest stored checkpoint (the newest commit's
// signed head, or the newest in the checkpoints bucket) whose signature
// pub verifies; without pub, the newest. One as new or newer that did not
// verify fails: Verify would refuse it. It reads the checkpoints bucket
// from its end back to the checkpoint it returns.
func trustPoint(tx *bolt.Tx, st state, pub ed25519.PublicKey) (p otelaudit.Checkpoint, ok bool, err error) {
	var bad otelaudit.Checkpoint
	badFound := false
	consider := func(c otelaudit.Checkpoint) {
		switch {
		case pub != nil && c.VerifySignature(pub) != nil:
			if !badFound || c.Seq > bad.Seq {
				bad, badFound = c, true
			}
		case !ok || c.Seq > p.Seq:
			p, ok = c, true
		}
	}
	if st.signed.Signature != nil {
		consider(st.signed)
	}
	c := tx.Bucket(bucketCheckpoints).Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		cp, err := decodeCheckpoint(k, v)
		if err != nil {
			return p, false, err
		}
		if ok && cp.Seq < p.Seq {
			break
		}
		consider(cp)
	}
	if badFound && (!ok || bad.Seq >= p.Seq) {
		return p, false, &otelaudit.ChainError{Seq: bad.Seq, Reason: "a stored checkpoint whose signature the key does not verify", Err: otelaudit.ErrBadSignature}
	}
	return p, ok, nil
}

// checkTrustPoint checks that checkpoint p, at or after the anchor, is of
// the stored trail: its event (or the anchor) and the tree's stored nodes,
// whose compact range it returns.
func checkTrustPoint(tx *bolt.Tx, anchor otelaudit.Anchor, p otelaudit.Checkpoint) (*tlog.Tree, error) {
	when := p.Time.UTC().Format(time.RFC3339)
	if p.Seq == anchor.Seq {
		if p.Hash != anchor.Hash {
			return nil, &otelaudit.ChainError{Seq: p.Seq, Reason: fmt.Sprintf("the anchor's Hash differs from the checkpoint of %s", when)}
		}
	} else {
		v := tx.Bucket(bucketEvents).Get(seqKey(p.Seq))
		if v == nil {
			return nil, &otelaudit.ChainError{Seq: p.Seq, Reason: "missing, though the trail reaches past it"}
		}
		se, err := splitValue(p.Seq, v)
		if err != nil {
			return nil, err
		}
		switch {
		case se.hash != p.Hash:
			return nil, &otelaudit.ChainError{Seq: p.Seq, Reason: fmt.Sprintf("Hash differs from the checkpoint of %s: the trail was rewritten", when)}
		case se.leaf+1 != p.Size:
			return nil, &otelaudit.ChainError{Seq: p.Seq, Reason: fmt.Sprintf("stored as leaf %d of the Merkle tree, and the checkpoint of %s names it leaf %d", se.leaf, when, p.Size-1)}
		}
		if err := checkOwnHash(p.Seq, se); err != nil {
			return nil, err
		}
	}
	hs, err := tlog.NewNodes(tileReader(tx)).Range(p.Size)
	if err != nil {
		return nil, fmt.Errorf("%w: the Merkle tree of %d leaves: %w", ErrCorrupt, p.Size, err)
	}
	tree, err := tlog.NewTree(p.Size, hs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if root := otelaudit.Hash(tree.Root()); root != p.Root {
		return nil, &otelaudit.ChainError{Seq: p.Seq, Reason: fmt.Sprintf("the Merkle tree's stored nodes give the tree of %d leaves the root %s, and the checkpoint of %s says %s: the trail was rewritten", p.Size, short(root), when, short(p.Root))}
	}
	return tree, nil
}

// checkOwnHash checks that a stored event decodes, as the event of its key,
// and hashes to its stored Hash from its stored PrevHash and Source
// digest.
func checkOwnHash(seq uint64, se storedEvent) error {
	var e otelaudit.Event
	if err := e.UnmarshalBinary(se.data); err != nil {
		return &otelaudit.ChainError{Seq: seq, Reason: fmt.Sprintf("event does not decode (%v)", err)}
	}
	if e.Seq != seq {
		return &otelaudit.ChainError{Seq: seq, Reason: fmt.Sprintf("stored under key %d but numbered %d", seq, e.Seq)}
	}
	if otelaudit.ChainHash(se.prev, se.src, se.data) != se.hash {
		return &otelaudit.ChainError{Seq: seq, Reason: "its contents do not hash to its stored Hash"}
	}
	return nil
}

// checkFirstEvent checks that the first stored event follows the anchor
// and chains to it, or, with none stored, that the head is the anchor.
func checkFirstEvent(events *bolt.Bucket, anchor, head otelaudit.Anchor) error {
	k, v := events.Cursor().First()
	if k == nil {
		if head != anchor {
			return &otelaudit.ChainError{Seq: anchor.Seq + 1, Reason: fmt.Sprintf("missing: the store holds no events, but its head is seq %d", head.Seq)}
		}
		return nil
	}
	if len(k) != 8 {
		return fmt.Errorf("%w: event key of %d bytes", ErrCorrupt, len(k))
	}
	seq := binary.BigEndian.Uint64(k)
	se, err := splitValue(seq, v)
	switch {
	case err != nil:
		return err
	case seq <= anchor.Seq:
		return &otelaudit.ChainError{Seq: seq, Reason: fmt.Sprintf("out of order: stored at or before the anchor, seq %d", anchor.Seq)}
	case se.prev != anchor.Hash:
		return &otelaudit.ChainError{Seq: seq, Reason: fmt.Sprintf("does not chain to the anchor, seq %d", anchor.Seq)}
	}
	return nil
}

// checkTail verifies the events after from as Verify does, growing tree
// (the tree up to from) by their leaves: up to head, with no event missing.
func checkTail(tx *bolt.Tx, from, head otelaudit.Anchor, tree *tlog.Tree) error {
	idx := indexLookup{tx: tx, memo: map[string][]uint64{}}
	w := newEventWalk(tx, from, tree)
	c := tx.Bucket(bucketEvents).Cursor()
	for k, val := c.Seek(seqKey(from.Seq + 1)); k != nil; k, val = c.Next() {
		seq, se, err := w.next(k, val)
		if err != nil {
			return err
		}
		if err := idx.check(seq, se.data); err != nil {
			return &otelaudit.ChainError{Seq: seq, Reason: err.Error()}
		}
	}
	return w.end(head)
}

// indexLookup checks that an event is listed under each of its keys, by
// lookup: the entry of that key whose first Seq is the latest at or before
// the event's.
type indexLookup struct {
	tx   *bolt.Tx
	memo map[string][]uint64 // decoded entries, by key
}

func (x *indexLookup) check(seq uint64, data []byte) error {
	k, err := wire.ReadKeys(data)
	if err != nil {
		return fmt.Errorf("%w: %w", otelaudit.ErrMalformed, err)
	}
	if k.TraceID != ([16]byte{}) {
		if err := x.listed(bucketByTrace, k.TraceID[:], seq); err != nil {
			return err
		}
	}
	if err := x.listed(bucketByType, k.Type, seq); err != nil {
		return err
	}
	if len(k.AgentString()) > 0 {
		return x.listed(bucketByAgent, k.Agent, seq)
	}
	return nil
}

func (x *indexLookup) listed(name, prefix []byte, seq uint64) error {
	c := x.tx.Bucket(name).Cursor()
	k, v := c.Seek(binary.BigEndian.AppendUint64(bytes.Clone(prefix), seq+1))
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	if hasPrefix(k, prefix) && len(k) == len(prefix)+8 {
		mk := string(name) + "\x00" + string(k)
		seqs, ok := x.memo[mk]
		if !ok {
			var err error
			if seqs, err = decodePosting(k, v, len(prefix)); err != nil {
				return err
			}
			x.memo[mk] = seqs
		}
		if _, found := slices.BinarySearch(seqs, seq); found {
			return nil
		}
	}
	return fmt.Errorf("the %s index does not list it", name)
}

// checkTileEdges checks the right edge of every tile level: the last tile
// holds exactly the nodes the tree has there, and no tile lies past it.
// (The tiles the tail completed were compared node by node.) A level-0
// tile wholly before first, the first leaf still stored, was pruned with
// its events.
func checkTileEdges(b *bolt.Bucket, t *tlog.Tree, first uint64) error {
	c := b.Cursor()
	for tl := uint8(0); uint(tl)*tlog.TileHeight < 64; tl++ {
		nodes := t.Size() >> (uint(tl) * tlog.TileHeight)
		if nodes == 0 {
			if k, _ := c.Seek([]byte{tl}); k != nil {
				return fmt.Errorf("%w: tile %x past the tree of %d leaves", ErrCorrupt, k, t.Size())
			}
			return nil
		}
		last := (nodes - 1) / tlog.TileWidth
		row := b.Get(tileKey(tl, last))
		want := nodes - last*tlog.TileWidth
		pruned := tl == 0 && row == nil && (last+1)*tlog.TileWidth <= first
		if !pruned && uint64(len(row)) != want*tlog.Size {
			return fmt.Errorf("%w: tile (%d, %d) holds %d bytes, and the tree of %d leaves has %d nodes there", ErrCorrupt, tl, last, len(row), t.Size(), want)
		}
		if k, _ := c.Seek(tileKey(tl, last+1)); len(k) > 0 && k[0] == tl {
			return fmt.Errorf("%w: tile %x past the tree of %d leaves", ErrCorrupt, k, t.Size())
		}
	}
	return nil
}

// checkCommitsAfter checks the commit times of the Writes after seq (and
// the one before them, which they must not precede): 8-byte times, none
// past the head, never going back.
func checkCommitsAfter(tx *bolt.Tx, seq uint64, head otelaudit.Anchor) error {
	b := tx.Bucket(bucketCommits)
	c := b.Cursor()
	k, v := c.Seek(seqKey(seq + 1))
	p := b.Cursor()
	var pv []byte
	if k == nil {
		_, pv = p.Last()
	} else {
		p.Seek(k)
		_, pv = p.Prev()
	}
	var last time.Time
	if pv != nil {
		t, err := decodeCommit(pv)
		if err != nil {
			return err
		}
		last = t
	}
	for ; k != nil; k, v = c.Next() {
		var err error
		if last, err = checkCommit(k, v, head, last); err != nil {
			return err
		}
	}
	return nil
}

// checkSmallBuckets checks, as Verify does, what is small whatever the
// trail's length: every Source (a trail has few), every cursor, and every
// bucket kept inline in its parent's page, whose keys bbolt's Tx.Check
// does not compare (see walkBucket): at most a page each.
func checkSmallBuckets(tx *bolt.Tx) error {
	if err := checkSources(tx); err != nil {
		return err
	}
	if err := checkCursors(tx); err != nil {
		return err
	}
	for _, name := range allBuckets {
		b := tx.Bucket(name)
		if b.Root() != 0 {
			continue
		}
		err := walkBucket(b, name, func(k, v []byte) error {
			if bytes.Equal(name, bucketCheckpoints) {
				_, err := decodeCheckpoint(k, v)
				return err
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
