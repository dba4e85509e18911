package otelaudit

import (
	"crypto/ed25519"
	"time"
)

// The hand-off between a Generator and its Store: the interface, where a
// resumed trail continues, and what one commit carries.

// Store makes a Generator's events durable; see WithStore. Package store
// implements it on bbolt. The Generator calls Resume once, when it is
// created, then Write from one goroutine, its writer, never concurrently,
// and Close from Shutdown.
type Store interface {
	// Resume says where the trail continues (see Resumption). pub is the
	// public half of the Generator's signing key, nil without one: with
	// it, a store refuses, with an error wrapping ErrUnsigned, a head that
	// pub did not sign, unless it was opened to adopt it. Any error
	// refuses the store: the Generator then refuses every event with it.
	Resume(pub ed25519.PublicKey) (Resumption, error)
	// Write makes a batch durable, atomically: when it returns nil all of
	// it survives a crash, when it fails none of it was written and the
	// Generator retries it. Records follow on from the head: the first
	// has Seq Head.Seq+1 and PrevHash its Hash, or is a SeqGap record
	// that jumps exactly over the Seqs reserved past the head. Nothing in
	// b, nor the records' Data, may be kept after Write returns.
	Write(b Batch) error
	// Close releases the store. The Generator calls it from Shutdown.
	Close() error
}

// Resumption is where a store's trail continues.
type Resumption struct {
	// Head is the newest stored event (or the last one dropped, or
	// GenesisAnchor when it never held any).
	Head Anchor
	// Reserved is the highest Seq the run before may have handed out
	// (see Batch.Reserved): Head.Seq after a clean Shutdown, more after a
	// crash, which the new run records as a SeqGap event.
	Reserved uint64
	// LastCommit is when the run before last committed; zero if unknown.
	LastCommit time.Time
	// Adopt says that the head is not signed by the key Resume was given,
	// and that the store was opened to continue it anyway: the new run
	// records that it did as a HeadAdopted event. SignedSeq is the newest
	// Seq the key had signed (0: none).
	Adopt     bool
	SignedSeq uint64
	// TreeSize is how many events (leaves) the trail's Merkle tree has,
	// every event the store ever held, and TreeRange the roots of the
	// perfect subtrees covering them, left to right (at most 64): where a
	// signing Generator's tree continues (see LeafHash).
	TreeSize  uint64
	TreeRange []Hash
	// Origin is the origin of the store's checkpoints, empty when it has
	// none: a Generator signing under another one refuses the store.
	Origin string
	// Signed is the store's signed head: the checkpoint of its newest
	// signed commit (zero when none). A Generator signing with the same
	// key and origin takes it as its newest checkpoint until it commits
	// (see Generator.Checkpoint), when it is of the tree TreeSize and
	// TreeRange describe.
	Signed Checkpoint
}

// Batch is one group commit: what the Generator's writer hands its Store
// in one Write.
type Batch struct {
	// Events are the sealed events, in Seq order.
	Events []SealedEvent
	// Checkpoints are checkpoints to keep as milestones (see
	// WithCheckpointInterval), each of the tree up to one of the events
	// or before them: the store checks each against its tree.
	Checkpoints []Checkpoint
	// Head, with a signing key, is the signed checkpoint of the tree with
	// the records appended, its chain head the last record (zero without
	// a key or without events): the store checks it against its own
	// tree, and keeps the newest as its signed head, so that a store
	// written with a key has no unsigned tail after any commit.
	Head Checkpoint
	// Reserved is the highest Seq the Generator may hand out before its
	// next Write commits: the store keeps it, durably, with the events,
	// so that a run after a crash numbers past every Seq this one may
	// have handed out, and never reuses one. The Generator reserves the
	// last event's Seq plus its capacity (events not yet durable are
	// never evicted, so no more can be outstanding), and, once shut down
	// with everything durable, exactly the last Seq: nothing is lost.
	Reserved uint64
}

// SealedEvent is a sealed event as the Generator hands it to its Store: its
// canonical encoding, its Source and its place in the chain.
type SealedEvent struct {
	Seq      uint64
	PrevHash Hash
	Hash     Hash
	// Data is the event's MarshalBinary form.
	Data []byte
	// Source and its Digest (the zero Hash for none), which Hash covers.
	Source       *Source
	SourceDigest Hash
}
