package otelaudit

import (
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Checkpointing: which checkpoints a Generator signs and keeps (without a
// store periodically, on demand and at Shutdown; with one, every commit,
// see tree.go), and the milestones Checkpoint asks the store to keep.

// maxCheckpoints is how many checkpoints a Generator keeps in memory; the
// store keeps them all.
const maxCheckpoints = 1024

// checkpointState is what a Generator with a signing key keeps of its
// checkpoints. Invariants, under the Generator's lock but ctree:
//   - kept are the newest maxCheckpoints signed checkpoints, oldest
//     first, each of the trail as it was when signed;
//   - without a store, lastTime and lastSeq are the Time and Seq of the
//     last checkpoint signed (the anchor's Seq and the start before any):
//     the next is due cfg.cpEvents events or cfg.cpInterval later;
//   - msDone <= msAsked: Checkpoint asked for msAsked milestones, and the
//     writer kept the newest commit's checkpoint at the time of the first
//     msDone of them in the store (see Checkpoint);
//   - origin and signer are set once, with the key; ctree, with a store,
//     is the Merkle tree of the durable events, the writer's own (it grows
//     it outside the lock, see tree.go).
type checkpointState struct {
	kept            []Checkpoint
	lastTime        time.Time
	lastSeq         uint64
	msAsked, msDone uint64
	origin          string
	signer          note.Signer
	ctree           commitTree
}

// Checkpoint returns a signed checkpoint of the trail (see WithSigningKey).
// Without a store it seals every event recorded so far and returns a
// checkpoint of the head: the newest one made, if it is of the head, else a
// new one, which the Generator keeps (see Checkpoints). With a store it
// returns the newest commit's signed checkpoint (before the first, the
// store's signed head): the events not durable yet are not in it
// (ForceFlush first to have them in it). It also asks the writer to keep
// a milestone in the store: the checkpoint of the commit that takes the
// events not durable yet, or, with none, the one it returns; ForceFlush
// and Shutdown wait for it. Without a key it returns the head, unsigned,
// and without its tree.
func (g *Generator) Checkpoint() Checkpoint {
	if g.invalid() {
		return Checkpoint{}
	}
	if g.cfg.signer != nil && g.cfg.store != nil {
		g.mu.Lock()
		if !g.closed && g.startErr == nil {
			g.cps.msAsked++
		}
		c, _ := g.lastCheckpoint()
		g.mu.Unlock()
		g.kick()
		return c
	}
	g.lockSealed()
	defer g.mu.Unlock()
	if g.cfg.signer == nil {
		return Checkpoint{Seq: g.seal.sealed - 1, Hash: g.seal.head, Time: time.Now()}
	}
	if c, ok := g.lastCheckpoint(); ok && c.Seq == g.seal.sealed-1 {
		return c
	}
	return g.addCheckpoint()
}

// Checkpoints returns the signed checkpoints made so far, oldest first: the
// newest 1,024 of those kept every WithCheckpointInterval, on demand and at
// Shutdown (a store keeps them all), and, with a store, last, the newest
// commit's when it is newer than them.
func (g *Generator) Checkpoints() []Checkpoint {
	if g.invalid() {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Checkpoint, len(g.cps.kept), len(g.cps.kept)+1)
	copy(out, g.cps.kept)
	if n := len(out); g.dur.signedHead.Signature != nil && (n == 0 || out[n-1].Seq < g.dur.signedHead.Seq) {
		out = append(out, g.dur.signedHead)
	}
	for i := range out {
		out[i].Signature = append([]byte(nil), out[i].Signature...)
	}
	return out
}

// lastCheckpoint returns the newest checkpoint made, the newest commit's
// included. Lock only.
func (g *Generator) lastCheckpoint() (Checkpoint, bool) {
	n := len(g.cps.kept)
	switch {
	case n > 0 && g.cps.kept[n-1].Seq >= g.dur.signedHead.Seq:
		return g.cps.kept[n-1], true
	case g.dur.signedHead.Signature != nil:
		return g.dur.signedHead, true
	}
	return Checkpoint{}, false
}

// maybeCheckpoint signs a checkpoint of the head of a Generator without a
// store when the configured number of events, or the configured time, has
// passed since the last one. Lock only.
func (g *Generator) maybeCheckpoint() {
	head := g.seal.sealed - 1
	if head == g.cps.lastSeq || head == 0 {
		return
	}
	if head-g.cps.lastSeq >= uint64(g.cfg.cpEvents) || time.Since(g.cps.lastTime) >= g.cfg.cpInterval {
		g.addCheckpoint()
	}
}

// addCheckpoint signs the head of a Generator without a store, from the
// tree sealing grows, and keeps it. Lock only; the head must be sealed.
func (g *Generator) addCheckpoint() Checkpoint {
	c := Checkpoint{Origin: g.cps.origin, Size: g.seal.memTree.Size(), Root: g.seal.memTree.Root(), Seq: g.seal.sealed - 1, Hash: g.seal.head, Time: time.Now()}.sign(g.cps.signer)
	g.cps.lastTime, g.cps.lastSeq = c.Time, c.Seq
	g.keepCheckpoint(c)
	return c
}

// keepCheckpoint keeps c among the newest maxCheckpoints. Lock only.
func (g *Generator) keepCheckpoint(c Checkpoint) {
	if len(g.cps.kept) == maxCheckpoints {
		g.cps.kept = append(g.cps.kept[:0], g.cps.kept[1:]...)
	}
	g.cps.kept = append(g.cps.kept, c)
}
