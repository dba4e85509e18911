package otelaudit

import (
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/proof"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
)

// The Merkle tree over the trail. Its leaves are the events' Hashes in the
// trail's order, one leaf per event, the trail's own records (SeqGap,
// HeadAdopted) included: leaf index 0 is the first event the trail ever
// held, and an event's leaf index is how many events the trail held before
// it. Seqs are not leaf indexes: a SeqGap record jumps over Seqs no event
// holds, never over a leaf. The tree is RFC 6962's (see LeafHash), kept as
// a compact range that grows a leaf at a time, and signed as C2SP
// checkpoints (see Checkpoint).
//
// Who grows it: with a store, the Generator's writer, outside the lock,
// for each commit it signs (and the store, for its own tiles, which it
// checks against the commit's checkpoint); without a store, sealing, in
// Seq order, when the Generator signs. A Generator without a key keeps no
// tree, and its store does.

// LeafHash returns the RFC 6962 leaf hash of the event whose Hash is h:
// SHA-256(0x00 | h). Inclusion proofs prove leaf hashes.
func LeafHash(h Hash) Hash { return Hash(tlog.LeafHash(h)) }

// VerifyInclusion checks that the event whose Hash is hash is leaf index
// of the tree of size leaves whose root is root, proof being the RFC 6962
// inclusion proof, checked by transparency-dev/merkle's proof package.
// The error wraps ErrBadProof.
func VerifyInclusion(index, size uint64, hash Hash, p []Hash, root Hash) error {
	leaf := LeafHash(hash)
	if err := proof.VerifyInclusion(tlog.Hasher, index, size, leaf[:], hashSlices(p), root[:]); err != nil {
		return fmt.Errorf("%w: leaf %d of a tree of %d: %w", ErrBadProof, index, size, err)
	}
	return nil
}

// VerifyConsistency checks that the tree of size2 leaves whose root is
// root2 extends the tree of size1 leaves whose root is root1, p being the
// RFC 6962 consistency proof. The error wraps ErrBadProof.
func VerifyConsistency(size1, size2 uint64, root1, root2 Hash, p []Hash) error {
	if err := proof.VerifyConsistency(tlog.Hasher, size1, size2, hashSlices(p), root1[:], root2[:]); err != nil {
		return fmt.Errorf("%w: tree of %d to tree of %d: %w", ErrBadProof, size1, size2, err)
	}
	return nil
}

// maxProof bounds the hashes an inclusion or consistency proof can need
// in a tree of at most 2^64 leaves.
const maxProof = 2 * 64

func hashSlices(p []Hash) [][]byte {
	if len(p) > maxProof {
		p = p[:maxProof+1] // the library refuses it as too long
	}
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}

// commitTree is the tree as the writer of a Generator with a store and a
// signing key grows it, commit by commit, and when it last kept a
// checkpoint as a milestone. Only the writer goroutine touches it.
type commitTree struct {
	tree          *tlog.Tree
	milestoneSeq  uint64
	milestoneTime time.Time
	due           bool // the milestone interval passed while idle
}

// treeCommit is what signing one commit left: the tree and milestone
// state before it, to go back to if the commit fails, and the nodes its
// receipts' proofs need.
type treeCommit struct {
	before commitTree
	nodes  *tlog.BatchNodes
	first  uint64 // the leaf index of the commit's first record
}

// signBatch grows the tree by the batch's records and signs a checkpoint
// of the new tree into b.Head. It also signs, into b.Checkpoints, a
// milestone at every record that ends WithCheckpointInterval's events
// since the last one, and keeps b.Head as one when the interval's time has
// passed or when milestone says Checkpoint asked for one. With proofs, it
// keeps the nodes the receipts of the commit need. On the writer only;
// undo goes back if the commit fails.
func (g *Generator) signBatch(b *Batch, proofs, milestone bool) treeCommit {
	ct := &g.cps.ctree
	tc := treeCommit{before: *ct, first: ct.tree.Size()}
	tc.before.tree = ct.tree.Clone()
	var visit tlog.Visit
	if proofs {
		tc.nodes = tlog.NewBatchNodes(ct.tree)
		visit = tc.nodes.Visit
	}
	now := time.Now()
	every := uint64(g.cfg.cpEvents)
	for i := range b.Events {
		r := &b.Events[i]
		ct.tree.Append(r.Hash, visit)
		if r.Seq-ct.milestoneSeq >= every && i < len(b.Events)-1 {
			c := Checkpoint{Origin: g.cps.origin, Size: ct.tree.Size(), Root: ct.tree.Root(), Seq: r.Seq, Hash: r.Hash, Time: now}.sign(g.cps.signer)
			b.Checkpoints = append(b.Checkpoints, c)
			ct.milestoneSeq, ct.milestoneTime = r.Seq, now
		}
	}
	last := b.Events[len(b.Events)-1]
	b.Head = Checkpoint{Origin: g.cps.origin, Size: ct.tree.Size(), Root: ct.tree.Root(), Seq: last.Seq, Hash: last.Hash, Time: now}.sign(g.cps.signer)
	if milestone || ct.due || last.Seq-ct.milestoneSeq >= every || now.Sub(ct.milestoneTime) >= g.cfg.cpInterval {
		b.Checkpoints = append(b.Checkpoints, b.Head)
		ct.milestoneSeq, ct.milestoneTime, ct.due = last.Seq, now, false
	}
	return tc
}

// undo goes back to the tree before a commit that failed: the batch is
// taken again, whole, by the next attempt, and a milestone asked for is
// asked for again (see runWriter). On the writer only.
func (g *Generator) undo(tc treeCommit) {
	if tc.before.tree != nil {
		g.cps.ctree = tc.before
	}
}
