// Package tlog is the Merkle tree over an otelaudit trail: RFC 6962 hashing,
// a tree kept as a compact range (github.com/transparency-dev/merkle's
// compact package) that grows a leaf at a time, and the tile layout the
// store keeps the tree's nodes in. The Generator's writer and the store both
// grow the tree with it; neither writes proof code of its own: proofs are
// laid out by the library's proof package and checked by it.
//
// A leaf is an event's chain Hash (32 bytes), in the order the trail holds
// the events; its leaf hash is RFC 6962's, SHA-256(0x00 | Hash), and an
// interior node's SHA-256(0x01 | left | right).
package tlog

import (
	"crypto/sha256"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Size is the size of every hash in the tree.
const Size = sha256.Size

// Hasher is RFC 6962's SHA-256 tree hasher, as the library has it: what
// proofs are checked with.
var Hasher = rfc6962.DefaultHasher

// LeafHash returns the leaf hash of an event whose chain Hash is h.
func LeafHash(h [Size]byte) [Size]byte {
	var in [1 + Size]byte
	in[0] = rfc6962.RFC6962LeafHashPrefix
	copy(in[1:], h[:])
	return sha256.Sum256(in[:])
}

// NodeHash returns the hash of an interior node from its children's: what
// Hasher.HashChildren returns, with one allocation instead of three (the
// tree hashes about one node per leaf).
func NodeHash(left, right []byte) []byte {
	var in [1 + 2*Size]byte
	in[0] = rfc6962.RFC6962NodeHashPrefix
	copy(in[1:], left)
	copy(in[1+Size:], right)
	sum := sha256.Sum256(in[:])
	return sum[:]
}

var factory = &compact.RangeFactory{Hash: NodeHash}

// EmptyRoot is the root of the tree of no leaves: SHA-256 of nothing.
var EmptyRoot = [Size]byte(Hasher.EmptyRoot())

// Tree is the Merkle tree of a trail's first Size leaves, kept as the
// roots of the perfect subtrees that cover them (at most 64 hashes).
type Tree struct {
	r *compact.Range
}

// NewTree returns the tree of size leaves whose compact range is hashes,
// left to right (see Hashes); nil hashes and size 0 for an empty tree.
func NewTree(size uint64, hashes [][Size]byte) (*Tree, error) {
	hs := make([][]byte, len(hashes))
	for i := range hashes {
		hs[i] = append([]byte(nil), hashes[i][:]...)
	}
	r, err := factory.NewRange(0, size, hs)
	if err != nil {
		return nil, fmt.Errorf("tlog: tree of %d leaves: %w", size, err)
	}
	return &Tree{r: r}, nil
}

// Size returns how many leaves the tree has.
func (t *Tree) Size() uint64 { return t.r.End() }

// Hashes returns the roots of the perfect subtrees covering the tree, left
// to right, largest first: with Size, all NewTree needs.
func (t *Tree) Hashes() [][Size]byte {
	hs := t.r.Hashes()
	out := make([][Size]byte, len(hs))
	for i, h := range hs {
		out[i] = [Size]byte(h)
	}
	return out
}

// Clone returns a copy of t that grows apart from it.
func (t *Tree) Clone() *Tree {
	c, _ := NewTree(t.Size(), t.Hashes())
	return c
}

// Visit is told every node a leaf's Append completes: the leaf itself
// (level 0), and each perfect subtree it closes.
type Visit func(level uint, index uint64, hash []byte)

// Append adds the leaf of an event whose chain Hash is h, telling visit (if
// not nil) every node it completes.
func (t *Tree) Append(h [Size]byte, visit Visit) {
	leaf := LeafHash(h)
	var v compact.VisitFn
	if visit != nil {
		v = func(id compact.NodeID, hash []byte) { visit(id.Level, id.Index, hash) }
	}
	// Append fails only for ranges of other factories.
	_ = t.r.Append(leaf[:], v)
}

// Root returns the tree's root hash; EmptyRoot for no leaves.
func (t *Tree) Root() [Size]byte {
	root, err := t.r.GetRootHash(nil)
	if err != nil || root == nil {
		return EmptyRoot
	}
	return [Size]byte(root)
}
