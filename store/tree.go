package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// The Merkle tree (see package tlog and otelaudit.LeafHash): every Write
// appends a leaf per record to the tree, in the same transaction, and
// keeps what grew in the tiles bucket and the tree's compact range in the
// meta bucket ("tree"). Every stored event records its leaf index in its
// value. Verify recomputes the tree from the events and compares every
// tile, the compact range and every checkpoint's root.

// tileWriter collects the tiles one Write changes: load reads them from
// the bucket, visit appends the nodes the tree's growth completes, put
// writes them back. Between load and put it touches no bbolt state, so
// that the tree can grow on a goroutine of its own while the Write puts
// the events in the same transaction.
type tileWriter struct {
	b     *bolt.Bucket
	rows  map[[2]uint64][]byte
	order [][2]uint64
	err   error
}

func newTileWriter(b *bolt.Bucket) *tileWriter {
	return &tileWriter{b: b, rows: map[[2]uint64][]byte{}}
}

// load reads every tile that growing the tree from before to after leaves
// puts nodes in: on each tile level, those of the nodes (before >> level)
// to (after >> level) - 1, the first of them at the tree's right edge,
// partial or not there yet, the others not there yet (a tile that is
// there all the same is refused by visit).
func (w *tileWriter) load(before, after uint64) {
	for level := uint(0); level < 64 && after>>level > before>>level; level += tlog.TileHeight {
		first, last := (before>>level)>>tlog.TileHeight, ((after>>level)-1)>>tlog.TileHeight
		for t := first; t <= last; t++ {
			k := [2]uint64{uint64(level / tlog.TileHeight), t}
			w.rows[k] = append(make([]byte, 0, tlog.TileWidth*tlog.Size), w.b.Get(tileKey(uint8(k[0]), t))...)
			w.order = append(w.order, k)
		}
	}
}

// visit is the tree's Visit: it adds the hashes of tile levels to their
// tiles, each at the next place of its tile.
func (w *tileWriter) visit(level uint, index uint64, hash []byte) {
	if level%tlog.TileHeight != 0 || w.err != nil {
		return
	}
	tl, t, pos := tlog.TileOf(level, index)
	row, ok := w.rows[[2]uint64{uint64(tl), t}]
	switch {
	case !ok:
		w.err = fmt.Errorf("store: tile (%d, %d) of the Merkle tree was not read before the tree grew into it", tl, t)
		return
	case len(row) != pos*tlog.Size:
		w.err = fmt.Errorf("%w: tile (%d, %d) holds %d hashes where node %d goes", ErrCorrupt, tl, t, len(row)/tlog.Size, pos)
		return
	}
	w.rows[[2]uint64{uint64(tl), t}] = append(row, hash...)
}

// put writes the changed tiles.
func (w *tileWriter) put() error {
	if w.err != nil {
		return w.err
	}
	w.b.FillPercent = 1
	for _, k := range w.order {
		if err := w.b.Put(tileKey(uint8(k[0]), k[1]), w.rows[k]); err != nil {
			return err
		}
	}
	return nil
}

// growTree appends the records' leaves to t, writing their tiles, and
// checks the batch's checkpoints against it: each must be of the tree at
// its Size, within the batch, with the Root the tree has there, and the
// signed head of all of it. A milestone may also be of the tree before
// the batch, whose last leaf is head: the newest commit's checkpoint, kept
// when it was asked for after its commit.
func growTree(t *tlog.Tree, tiles *tileWriter, b *otelaudit.Batch, head otelaudit.Anchor) error {
	before := t.Size()
	want := map[uint64][]otelaudit.Checkpoint{}
	check := append([]otelaudit.Checkpoint(nil), b.Checkpoints...)
	if b.Head.Signature != nil {
		check = append(check, b.Head)
	}
	after := before + uint64(len(b.Events))
	for i, c := range check {
		if c.Size == before && before > 0 && i < len(b.Checkpoints) {
			if c.Seq != head.Seq || c.Hash != head.Hash {
				return fmt.Errorf("%w: the checkpoint of the tree of %d leaves names seq %d as its last, and it is seq %d", ErrOutOfOrder, c.Size, c.Seq, head.Seq)
			}
			if root := otelaudit.Hash(t.Root()); c.Root != root {
				return fmt.Errorf("%w: the checkpoint of the tree of %d leaves has root %s, and the tree's is %s", ErrOutOfOrder, c.Size, c.Root, root)
			}
			continue
		}
		if c.Size <= before || c.Size > after {
			return fmt.Errorf("%w: a checkpoint of a tree of %d leaves, in a commit that grows it from %d to %d", ErrOutOfOrder, c.Size, before, after)
		}
		want[c.Size] = append(want[c.Size], c)
	}
	for i := range b.Events {
		r := &b.Events[i]
		t.Append(r.Hash, tiles.visit)
		for _, c := range want[t.Size()] {
			if c.Seq != r.Seq || c.Hash != r.Hash {
				return fmt.Errorf("%w: the checkpoint of the tree of %d leaves names seq %d as its last, and it is seq %d", ErrOutOfOrder, c.Size, c.Seq, r.Seq)
			}
			if root := otelaudit.Hash(t.Root()); c.Root != root {
				return fmt.Errorf("%w: the checkpoint of the tree of %d leaves has root %s, and the tree's is %s", ErrOutOfOrder, c.Size, c.Root, root)
			}
		}
	}
	return nil
}

// tileReader reads tiles in tx, for proofs.
func tileReader(tx *bolt.Tx) tlog.TileReader {
	b := tx.Bucket(bucketTiles)
	return func(level uint8, index uint64) ([]byte, error) {
		return b.Get(tileKey(level, index)), nil
	}
}

// tileChecker compares the tile-level nodes a tree recomputed from the
// stored events completes with the stored tiles.
type tileChecker struct {
	b    *bolt.Bucket
	rows map[[2]uint64][]byte
	err  error
}

func (c *tileChecker) visit(level uint, index uint64, hash []byte) {
	if level%tlog.TileHeight != 0 || c.err != nil {
		return
	}
	tl, t, pos := tlog.TileOf(level, index)
	k := [2]uint64{uint64(tl), t}
	row, ok := c.rows[k]
	if !ok {
		row = c.b.Get(tileKey(tl, t))
		c.rows[k] = row
	}
	if len(row) < (pos+1)*tlog.Size || !bytes.Equal(row[pos*tlog.Size:(pos+1)*tlog.Size], hash) {
		c.err = fmt.Errorf("%w: tile (%d, %d) of the Merkle tree does not hold the hashes of the events it covers", otelaudit.ErrChainBroken, tl, t)
	}
}

// checkTiles checks, after c saw the tree recomputed up to t, that every
// stored tile holds exactly the nodes the tree has on its level (none past
// it, none missing), and that the stored tree state is t. Tiles wholly
// before the first stored event were pruned with their events; what is
// left of them is vouched for by the checkpoints of the anchor, whose root
// it gives.
func checkTiles(tx *bolt.Tx, c *tileChecker, t *tlog.Tree) error {
	if c.err != nil {
		return c.err
	}
	err := walkBucket(c.b, bucketTiles, func(k, v []byte) error {
		if len(k) != 9 || len(v)%tlog.Size != 0 || len(v) > tlog.TileWidth*tlog.Size {
			return fmt.Errorf("%w: tile %x of %d bytes", ErrCorrupt, k, len(v))
		}
		level := uint(k[0]) * tlog.TileHeight
		index := binary.BigEndian.Uint64(k[1:])
		if level >= 64 || index >= 1<<(64-tlog.TileHeight-level) {
			return fmt.Errorf("%w: tile %x past the largest tree", ErrCorrupt, k)
		}
		first := index << tlog.TileHeight
		nodes := t.Size() >> level // the perfect nodes of that level
		if nodes <= first || uint64(len(v)/tlog.Size) != min(tlog.TileWidth, nodes-first) {
			return fmt.Errorf("%w: tile (%d, %d) holds %d nodes, and the tree of %d leaves has %d there", ErrCorrupt, k[0], index, len(v)/tlog.Size, t.Size(), min(tlog.TileWidth, max(nodes, first)-first))
		}
		return nil
	})
	if err != nil {
		return err
	}
	stored, err := decodeTree(tx.Bucket(bucketMeta).Get(keyTree))
	if err != nil {
		return err
	}
	if !bytes.Equal(encodeTree(stored), encodeTree(t)) {
		return fmt.Errorf("%w: the stored Merkle tree state (%d leaves) is not the tree of the stored events (%d)", otelaudit.ErrChainBroken, stored.Size(), t.Size())
	}
	return nil
}

// pruneTiles removes the level-0 tiles wholly before leaf first, the first
// leaf still stored. The tiles above stay (1/256 of the size, and less):
// they hold the nodes that prove the events left, and the anchor's tree.
func pruneTiles(tx *bolt.Tx, first uint64) error {
	c := tx.Bucket(bucketTiles).Cursor()
	for k, _ := c.Seek([]byte{0}); k != nil && k[0] == 0; k, _ = c.Seek([]byte{0}) {
		if (binary.BigEndian.Uint64(k[1:])+1)*tlog.TileWidth > first {
			break
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
