// Package evidence is the offline check of an otelaudit trail's proofs:
// evidence bundles (the events of one trace, each with an RFC 6962
// inclusion proof against one signed C2SP checkpoint) and consistency
// proofs between two checkpoints, verified with nothing but the bundle
// and the public key.
//
// Package store builds them (store.Store.Evidence, store.Store.Consistency)
// from a store's Merkle tree; the otelaudit CLI writes them (otelaudit
// proof, otelaudit consistency) and checks them (otelaudit verify-proof).
// This package reads and checks only: it does not import the store or
// bbolt, so a verifier that links it carries no database
// (TestImportRule checks it with go list -deps), and the proofs are
// checked by github.com/transparency-dev/merkle's proof package, the
// signed note by golang.org/x/mod/sumdb/note.
//
// # What a bundle proves
//
// Verify proves, for every event in a bundle: that its canonical bytes
// (otelaudit.Event.MarshalBinary) and Source hash, with its PrevHash, to
// its Hash (the hash chain's rule); that this Hash is the leaf at
// LeafIndex of the Merkle tree whose root the checkpoint names; that the
// key signed that checkpoint; that the event belongs to the bundle's trace;
// and that its decoded form says what its bytes say. So: the key's trail
// held, when the checkpoint was signed, exactly these events at these
// places, unaltered.
//
// It does not prove that the trace has no other event. The store finds a
// trace's events through its trace index, which no signature covers: a
// bundle built from a store whose index was emptied of one event is a
// valid bundle of the others. Completeness needs the trail itself:
// otelaudit verify checks that the index lists exactly the stored events,
// so a bundle built from a store that verified (with the key) lacks none
// of the trace's events the store held at that checkpoint. Nor does a
// bundle prove that nothing happened that the runtime did not record.
package evidence
