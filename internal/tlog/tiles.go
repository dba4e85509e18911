package tlog

import (
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

// Tiles: the store keeps the tree's nodes as tiles, the layout of C2SP
// tlog-tiles. The nodes of every eighth level (0, 8, 16, ...) are kept,
// 256 to a tile: tile (L, N) holds the hashes of the nodes of tree level
// 8L numbered N*256 to N*256+W-1, W <= 256 (a tile at the tree's right
// edge is partial, and grows). Any other perfect node is the root of 2^r
// consecutive hashes of one tile below it, r < 8, and is computed from them.
// Level 0 tiles hold the leaf hashes: 32 bytes per event, and 1/256 of that
// again for each level above.
const (
	TileHeight = 8
	TileWidth  = 1 << TileHeight
)

// TileOf returns the tile and the place in it of a node of a tile level
// (level a multiple of TileHeight).
func TileOf(level uint, index uint64) (tileLevel uint8, tile uint64, pos int) {
	return uint8(level / TileHeight), index >> TileHeight, int(index & (TileWidth - 1))
}

// TileReader returns the hashes a tile holds, concatenated, or nil when
// the store has no such tile.
type TileReader func(level uint8, index uint64) ([]byte, error)

// Nodes reads perfect nodes of the tree from tiles, computing those
// between tile levels and remembering what it computed, for the proofs of
// one request.
type Nodes struct {
	read  TileReader
	tiles map[[2]uint64]*tileNodes
}

// NewNodes returns a node reader over read.
func NewNodes(read TileReader) *Nodes {
	return &Nodes{read: read, tiles: map[[2]uint64]*tileNodes{}}
}

// tileNodes is one tile and the nodes computed from it: memo[r][j] is the
// root of hashes j*2^r to (j+1)*2^r-1, once computed.
type tileNodes struct {
	row  []byte
	memo [TileHeight][][]byte
}

// ErrMissingNode is wrapped when a node's tile is not stored: pruned by
// retention, or past the tree the store holds.
var ErrMissingNode = fmt.Errorf("tlog: tree node not stored")

// Hash returns the hash of the perfect node (level, index).
func (n *Nodes) Hash(level uint, index uint64) ([]byte, error) {
	tl := level / TileHeight
	r := level % TileHeight
	first := index << r // its first node on tile level tl
	t, err := n.tile(uint8(tl), first>>TileHeight)
	if err != nil {
		return nil, err
	}
	pos := int(first & (TileWidth - 1))
	if (pos+1<<r)*Size > len(t.row) {
		return nil, fmt.Errorf("%w: node (%d, %d): its tile holds %d hashes", ErrMissingNode, level, index, len(t.row)/Size)
	}
	return t.node(r, pos>>r), nil
}

func (n *Nodes) tile(level uint8, index uint64) (*tileNodes, error) {
	k := [2]uint64{uint64(level), index}
	if t, ok := n.tiles[k]; ok {
		return t, nil
	}
	row, err := n.read(level, index)
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, fmt.Errorf("%w: tile (%d, %d)", ErrMissingNode, level, index)
	}
	if len(row)%Size != 0 || len(row) > TileWidth*Size {
		return nil, fmt.Errorf("tlog: tile (%d, %d) of %d bytes", level, index, len(row))
	}
	t := &tileNodes{row: row}
	n.tiles[k] = t
	return t, nil
}

// node returns the root of hashes j*2^r .. (j+1)*2^r-1 of the tile, which
// must all be there.
func (t *tileNodes) node(r uint, j int) []byte {
	if r == 0 {
		return t.row[j*Size : (j+1)*Size]
	}
	m := t.memo[r]
	if m == nil {
		m = make([][]byte, TileWidth>>r)
		t.memo[r] = m
	}
	if m[j] == nil {
		m[j] = NodeHash(t.node(r-1, 2*j), t.node(r-1, 2*j+1))
	}
	return m[j]
}

// Inclusion returns the inclusion proof of leaf index in the tree of size
// leaves: the hashes RFC 6962 names, as the library lays them out.
func (n *Nodes) Inclusion(index, size uint64) ([][Size]byte, error) {
	p, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return prove(p, n.node)
}

// Consistency returns the consistency proof from the tree of size1 leaves
// to the tree of size2.
func (n *Nodes) Consistency(size1, size2 uint64) ([][Size]byte, error) {
	p, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return prove(p, n.node)
}

func (n *Nodes) node(id compact.NodeID) ([]byte, error) { return n.Hash(id.Level, id.Index) }

// Range returns the compact range of the tree's first size leaves (see
// Tree.Hashes), read from the tiles.
func (n *Nodes) Range(size uint64) ([][Size]byte, error) {
	ids := compact.RangeNodes(0, size, nil)
	out := make([][Size]byte, len(ids))
	for i, id := range ids {
		h, err := n.Hash(id.Level, id.Index)
		if err != nil {
			return nil, err
		}
		out[i] = [Size]byte(h)
	}
	return out, nil
}

// prove is the one place proofs are made, from tiles (Nodes) or from a
// commit (BatchNodes): the library names the nodes of the proof p, get
// gives their hashes, and the library combines them into the proof.
func prove(p proof.Nodes, get func(compact.NodeID) ([]byte, error)) ([][Size]byte, error) {
	hs := make([][]byte, len(p.IDs))
	for i, id := range p.IDs {
		h, err := get(id)
		if err != nil {
			return nil, err
		}
		hs[i] = h
	}
	hs, err := p.Rehash(hs, NodeHash)
	if err != nil {
		return nil, err
	}
	out := make([][Size]byte, len(hs))
	for i, h := range hs {
		out[i] = [Size]byte(h)
	}
	return out, nil
}

// BatchNodes is a TileReader-free node source for proofs within one
// commit: the compact range of the tree before it, and every node the
// commit's leaves completed (see Tree.Append's visit).
type BatchNodes struct {
	before uint64
	left   map[compact.NodeID][]byte
	added  map[compact.NodeID][]byte
}

// NewBatchNodes starts recording a commit that grows t.
func NewBatchNodes(t *Tree) *BatchNodes {
	b := &BatchNodes{before: t.Size(), left: map[compact.NodeID][]byte{}, added: map[compact.NodeID][]byte{}}
	ids := compact.RangeNodes(0, t.Size(), nil)
	for i, h := range t.r.Hashes() {
		b.left[ids[i]] = h
	}
	return b
}

// Visit is the Visit to give Append for every leaf of the commit.
func (b *BatchNodes) Visit(level uint, index uint64, hash []byte) {
	b.added[compact.NewNodeID(level, index)] = hash
}

// Inclusion returns the inclusion proof of a leaf of the commit in the
// tree of size leaves, size at most what the commit grew the tree to.
func (b *BatchNodes) Inclusion(index, size uint64) ([][Size]byte, error) {
	p, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return prove(p, b.node)
}

func (b *BatchNodes) node(id compact.NodeID) ([]byte, error) {
	if h, ok := b.added[id]; ok {
		return h, nil
	}
	if h, ok := b.left[id]; ok {
		return h, nil
	}
	return nil, fmt.Errorf("%w: node (%d, %d) is neither before the commit nor in it", ErrMissingNode, id.Level, id.Index)
}
