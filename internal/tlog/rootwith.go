package tlog

import (
	"fmt"

	"github.com/transparency-dev/merkle/compact"
)

// RootWith returns the root of the tree of size leaves computed from row,
// the level-0 hashes (leaf hashes) of leaves begin, begin+1, ..., and the
// stored nodes for every leaf outside row. Compared with a root one trusts
// (a signed checkpoint's), it checks row: whatever the stored nodes are,
// no other leaves give that root (SHA-256 collision resistance), which is
// the argument of an inclusion proof, for a run of leaves at once.
func (n *Nodes) RootWith(begin uint64, row []byte, size uint64) ([Size]byte, error) {
	if len(row)%Size != 0 {
		return [Size]byte{}, fmt.Errorf("tlog: a row of %d bytes", len(row))
	}
	end := begin + uint64(len(row)/Size)
	if end > size || end < begin {
		return [Size]byte{}, fmt.Errorf("tlog: leaves %d to %d, past the tree of %d", begin, end, size)
	}
	stored := func(from, to uint64) (*compact.Range, error) {
		ids := compact.RangeNodes(from, to, nil)
		hs := make([][]byte, len(ids))
		for i, id := range ids {
			h, err := n.Hash(id.Level, id.Index)
			if err != nil {
				return nil, err
			}
			hs[i] = h
		}
		return factory.NewRange(from, to, hs)
	}
	r, err := stored(0, begin)
	if err != nil {
		return [Size]byte{}, err
	}
	mid := factory.NewEmptyRange(begin)
	for i := 0; i < len(row); i += Size {
		if err := mid.Append(row[i:i+Size], nil); err != nil {
			return [Size]byte{}, err
		}
	}
	if err := r.AppendRange(mid, nil); err != nil {
		return [Size]byte{}, err
	}
	right, err := stored(end, size)
	if err != nil {
		return [Size]byte{}, err
	}
	if err := r.AppendRange(right, nil); err != nil {
		return [Size]byte{}, err
	}
	root, err := r.GetRootHash(nil)
	if err != nil || root == nil {
		return EmptyRoot, err
	}
	return [Size]byte(root), nil
}
