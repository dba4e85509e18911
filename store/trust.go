package store

import (
	"bytes"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// readTrust checks the events a read returns against the Merkle tree Open
// verified, so that an event Open did not read (one before its trust
// point) is returned only if it is the event that tree, and so the signed
// checkpoint it was verified against, covers.
//
// A read recomputes the event's Hash from its stored bytes, PrevHash and
// Source digest, and compares its leaf hash with the level-0 tile at its
// leaf. The first read of a leaf of a tile checks the tile itself: the
// tile's hashes and the tree's other stored nodes must give the trusted
// root (tlog.Nodes.RootWith); the tiles checked are remembered, a bit per
// 256 events. Leaves past the trusted tree are those this Store wrote
// itself after Open.
type readTrust struct {
	size uint64
	root [tlog.Size]byte

	mu    sync.Mutex
	tiles map[uint64]struct{} // level-0 tiles checked against root
}

func newReadTrust(t *tlog.Tree) *readTrust {
	return &readTrust{size: t.Size(), root: t.Root(), tiles: map[uint64]struct{}{}}
}

// check checks stored event seq, read in tx; nodes holds the transaction's
// node reader, made on first use.
func (t *readTrust) check(tx *bolt.Tx, nodes **tlog.Nodes, seq uint64, se storedEvent) error {
	if t == nil {
		return nil
	}
	if otelaudit.ChainHash(se.prev, se.src, se.data) != se.hash {
		return fmt.Errorf("%w: %w", ErrCorrupt, &otelaudit.ChainError{Seq: seq, Reason: "its contents do not hash to its stored Hash (run Verify)"})
	}
	if se.leaf >= t.size {
		return nil
	}
	tile, pos := se.leaf/tlog.TileWidth, int(se.leaf%tlog.TileWidth)
	row := tx.Bucket(bucketTiles).Get(tileKey(0, tile))
	n := min(tlog.TileWidth, t.size-tile*tlog.TileWidth) // leaves of the tile in the trusted tree
	if uint64(len(row)) < n*tlog.Size {
		return fmt.Errorf("%w: %w", ErrCorrupt, &otelaudit.ChainError{Seq: seq, Reason: fmt.Sprintf("the Merkle tree's tile of leaf %d is missing or short (run Verify)", se.leaf)})
	}
	t.mu.Lock()
	_, ok := t.tiles[tile]
	t.mu.Unlock()
	if !ok {
		if *nodes == nil {
			*nodes = tlog.NewNodes(tileReader(tx))
		}
		root, err := (*nodes).RootWith(tile*tlog.TileWidth, row[:n*tlog.Size], t.size)
		if err != nil || root != t.root {
			return fmt.Errorf("%w: %w", ErrCorrupt, &otelaudit.ChainError{Seq: seq, Reason: fmt.Sprintf("the Merkle tree's stored nodes around leaf %d are not those of the tree Open verified: the trail was rewritten (run Verify)", se.leaf)})
		}
		t.mu.Lock()
		t.tiles[tile] = struct{}{}
		t.mu.Unlock()
	}
	if leaf := tlog.LeafHash(se.hash); !bytes.Equal(row[pos*tlog.Size:(pos+1)*tlog.Size], leaf[:]) {
		return fmt.Errorf("%w: %w", ErrCorrupt, &otelaudit.ChainError{Seq: seq, Reason: fmt.Sprintf("not leaf %d of the Merkle tree Open verified: the trail was rewritten (run Verify)", se.leaf)})
	}
	return nil
}
