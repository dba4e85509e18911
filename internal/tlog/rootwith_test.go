package tlog

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RootWith gives the tree's root from a level-0 tile's hashes and the
// other stored nodes, for full and partial tiles, at the left and right
// edges and past a level-1 tile; a changed hash in the row, or in a node
// it combines with, gives another root.
func TestRootWith(t *testing.T) {
	ts := tiles{}
	tree, err := NewTree(0, nil)
	require.NoError(t, err)
	roots := map[uint64][Size]byte{}
	sizes := []uint64{1, 255, 256, 257, 1000, 65536, 65537, 66000}
	for _, n := range sizes {
		for tree.Size() < n {
			tree.Append(leaf(tree.Size()), ts.visit)
		}
		roots[n] = tree.Root()
	}
	nodes := NewNodes(ts.read)
	for _, n := range sizes {
		for _, tile := range []uint64{0, (n - 1) / 2 / TileWidth, (n - 1) / TileWidth} {
			begin := tile * TileWidth
			count := min(TileWidth, n-begin)
			row := ts[[2]uint64{0, tile}][:count*Size]
			root, err := nodes.RootWith(begin, row, n)
			require.NoError(t, err)
			assert.Equal(t, roots[n], root, "tile %d of the tree of %d", tile, n)

			bad := bytes.Clone(row)
			bad[len(bad)-1] ^= 1
			root, err = nodes.RootWith(begin, bad, n)
			require.NoError(t, err)
			assert.NotEqual(t, roots[n], root, "a changed leaf of tile %d of the tree of %d", tile, n)
		}
	}
	// A changed node beside the row: the root changes too.
	forged := tiles{}
	for k, v := range ts {
		forged[k] = bytes.Clone(v)
	}
	forged[[2]uint64{1, 0}][0] ^= 1 // the node over leaves 0-255
	root, err := NewNodes(forged.read).RootWith(256, ts[[2]uint64{0, 1}], 66000)
	require.NoError(t, err)
	assert.NotEqual(t, roots[66000], root)
	_, err = nodes.RootWith(65536, make([]byte, 2*Size), 65537)
	require.Error(t, err, "a row past the tree")
}
