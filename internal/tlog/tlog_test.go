package tlog

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// leaf is the chain Hash of the i-th test event.
func leaf(i uint64) [Size]byte { return sha256.Sum256(binary.BigEndian.AppendUint64(nil, i)) }

// libraryRoot is the root of the first n leaves, computed by the library
// alone, with its own hasher.
func libraryRoot(t *testing.T, n uint64) []byte {
	rf := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	r := rf.NewEmptyRange(0)
	for i := range n {
		h := leaf(i)
		require.NoError(t, r.Append(rfc6962.DefaultHasher.HashLeaf(h[:]), nil))
	}
	root, err := r.GetRootHash(nil)
	require.NoError(t, err)
	if root == nil {
		return rfc6962.DefaultHasher.EmptyRoot()
	}
	return root
}

func TestNodeHashIsTheLibrarys(t *testing.T) {
	a, b := leaf(1), leaf(2)
	assert.Equal(t, rfc6962.DefaultHasher.HashChildren(a[:], b[:]), NodeHash(a[:], b[:]))
	assert.Equal(t, rfc6962.DefaultHasher.HashLeaf(a[:]), func() []byte { h := LeafHash(a); return h[:] }())
	assert.Equal(t, rfc6962.DefaultHasher.EmptyRoot(), EmptyRoot[:])
}

// tiles is a tile store in memory, written as the store writes its
// bucket: each tile-level node appended to its tile.
type tiles map[[2]uint64][]byte

func (ts tiles) visit(level uint, index uint64, hash []byte) {
	if level%TileHeight != 0 {
		return
	}
	tl, ti, pos := TileOf(level, index)
	k := [2]uint64{uint64(tl), ti}
	if len(ts[k]) != pos*Size {
		panic(fmt.Sprintf("tile (%d, %d) holds %d hashes where node %d goes", tl, ti, len(ts[k])/Size, pos))
	}
	ts[k] = append(ts[k], hash...)
}

func (ts tiles) read(level uint8, index uint64) ([]byte, error) {
	return ts[[2]uint64{uint64(level), index}], nil
}

// Proofs from the tiles and from a commit's nodes are the library's: at
// the edges of tiles on both tile levels, every inclusion proof checked
// and consistency proofs between the sizes verify with the library's
// verifier against roots it computes itself; the compact range read from
// the tiles is the tree's.
func TestProofsFromTilesAndCommits(t *testing.T) {
	sizes := []uint64{1, 2, 3, 7, 255, 256, 257, 511, 512, 513, 1000, 65535, 65536, 65537, 66000}
	max := sizes[len(sizes)-1]
	ts := tiles{}
	tree, err := NewTree(0, nil)
	require.NoError(t, err)
	roots := map[uint64][]byte{}
	ranges := map[uint64][][Size]byte{}
	commits := map[uint64]*BatchNodes{} // the commit that ends at each size
	next := 0
	for tree.Size() < max {
		to := sizes[next]
		commits[to] = NewBatchNodes(tree)
		for tree.Size() < to {
			h := leaf(tree.Size())
			tree.Append(h, func(level uint, index uint64, hash []byte) {
				ts.visit(level, index, hash)
				commits[to].Visit(level, index, hash)
			})
		}
		r := tree.Root()
		roots[to], ranges[to] = r[:], tree.Hashes()
		next++
	}
	for _, n := range []uint64{1, 257, 65536, 66000} {
		require.Equal(t, libraryRoot(t, n), roots[n], "root of %d", n)
	}
	nodes := NewNodes(ts.read)
	for i, n := range sizes {
		rng, err := nodes.Range(n)
		require.NoError(t, err)
		assert.Equal(t, ranges[n], rng, "the compact range of %d from the tiles", n)
		from := uint64(0)
		if i > 0 {
			from = sizes[i-1]
		}
		for _, idx := range []uint64{0, n / 2, n - 1, from} {
			if idx >= n {
				continue
			}
			h := leaf(idx)
			p, err := nodes.Inclusion(idx, n)
			require.NoError(t, err)
			require.NoError(t, proof.VerifyInclusion(rfc6962.DefaultHasher, idx, n, rfc6962.DefaultHasher.HashLeaf(h[:]), flat(p), roots[n]), "leaf %d of %d from tiles", idx, n)
			if idx >= from {
				q, err := commits[n].Inclusion(idx, n)
				require.NoError(t, err)
				assert.Equal(t, p, q, "leaf %d of %d: the commit's proof is the tiles'", idx, n)
			}
		}
		for _, m := range sizes[:i+1] {
			p, err := nodes.Consistency(m, n)
			require.NoError(t, err)
			require.NoError(t, proof.VerifyConsistency(rfc6962.DefaultHasher, m, n, flat(p), roots[m], roots[n]), "%d to %d", m, n)
		}
	}
	// A leaf before the commit has no proof from the commit's nodes
	// alone, and a node past the tiles none from the tiles: an error,
	// never a wrong proof.
	_, err = commits[513].Inclusion(3, 513)
	assert.ErrorIs(t, err, ErrMissingNode)
	_, err = nodes.Inclusion(3, max+256)
	assert.ErrorIs(t, err, ErrMissingNode)
}

func flat(p [][Size]byte) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}
