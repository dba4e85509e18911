package store

import (
	"bytes"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/internal/wire"
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

// readChecks is what the checks of one transaction's reads keep: the
// node reader, which remembers the nodes it computed (the tiles of a scan
// share most of them), and the level-0 tile read last.
type readChecks struct {
	// h rehashes the events read, one SHA-256 state for all of them.
	h     wire.Hasher
	nodes *tlog.Nodes
	tiles *bolt.Bucket
	tile  uint64
	row   []byte // nil: none read yet
}

// check checks stored event seq, read in tx.
func (t *readTrust) check(tx *bolt.Tx, c *readChecks, seq uint64, se storedEvent) error {
	if t == nil {
		return nil
	}
	if otelaudit.Hash(c.h.Full(se.prev, se.src, se.data)) != se.hash {
		return fmt.Errorf("%w: %w", ErrCorrupt, &otelaudit.ChainError{Seq: seq, Reason: "its contents do not hash to its stored Hash (run Verify)"})
	}
	if se.leaf >= t.size {
		return nil
	}
	tile, pos := se.leaf/tlog.TileWidth, int(se.leaf%tlog.TileWidth)
	if c.row == nil || c.tile != tile {
		if c.tiles == nil {
			c.tiles = tx.Bucket(bucketTiles)
		}
		row, err := t.checkTile(tx, c, tile)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, &otelaudit.ChainError{Seq: seq, Reason: fmt.Sprintf("%v, around leaf %d (run Verify)", err, se.leaf)})
		}
		c.tile, c.row = tile, row
	}
	if leaf := tlog.LeafHash(se.hash); !bytes.Equal(c.row[pos*tlog.Size:(pos+1)*tlog.Size], leaf[:]) {
		return fmt.Errorf("%w: %w", ErrCorrupt, &otelaudit.ChainError{Seq: seq, Reason: fmt.Sprintf("not leaf %d of the Merkle tree Open verified: the trail was rewritten (run Verify)", se.leaf)})
	}
	return nil
}

// checkTile returns level-0 tile tile, checked against the trusted tree
// the first time.
func (t *readTrust) checkTile(tx *bolt.Tx, c *readChecks, tile uint64) ([]byte, error) {
	row := c.tiles.Get(tileKey(0, tile))
	n := min(tlog.TileWidth, t.size-tile*tlog.TileWidth) // leaves of the tile in the trusted tree
	if uint64(len(row)) < n*tlog.Size {
		return nil, fmt.Errorf("the Merkle tree's tile %d is missing or short", tile)
	}
	t.mu.Lock()
	_, ok := t.tiles[tile]
	t.mu.Unlock()
	if ok {
		return row, nil
	}
	if c.nodes == nil {
		c.nodes = tlog.NewNodes(tileReader(tx))
	}
	root, err := c.nodes.RootWith(tile*tlog.TileWidth, row[:n*tlog.Size], t.size)
	if err != nil || root != t.root {
		return nil, fmt.Errorf("the Merkle tree's stored nodes are not those of the tree Open verified: the trail was rewritten")
	}
	t.mu.Lock()
	t.tiles[tile] = struct{}{}
	t.mu.Unlock()
	return row, nil
}
