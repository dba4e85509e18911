// Package store keeps an otelaudit trail durable in an embedded bbolt
// database: crash-safe, indexed by trace ID, type and agent, hash-chained
// and verifiable.
//
// A store is attached to a Generator with otelaudit.WithStore: the
// Generator's background writer hands it sealed events in group commits
// (one bbolt transaction, one fsync, per batch), and numbering and the hash
// chain continue from the store's head when a process restarts.
//
//	st, err := store.Open("audit.db")
//	if err != nil { ... }
//	g := otelaudit.NewGenerator(otelaudit.WithStore(st))
//	defer g.Shutdown(ctx) // flushes, then closes st
//
// The same package reads a store back, as the otelaudit CLI does: queries
// by trace ID, type, agent and time, Verify, Stats. Opened read-only (see
// WithReadOnly) a store can be read while nothing writes to it, and a store
// whose chain does not verify can still be opened for forensics.
//
// # Format (version 1)
//
// One bbolt file with these buckets; integers big endian, so keys sort in
// numeric order:
//
//	otelaudit    "format" -> 1 (one byte); "anchor" and "head" -> Seq (8) | Hash (32)
//	events       Seq (8) -> PrevHash (32) | Hash (32) | SourceDigest (32) | event
//	sources      SourceDigest (32) -> encoded Source (otelaudit.Source.MarshalBinary)
//	by_trace     TraceID (16) | first Seq (8) -> posting list
//	by_type      uvarint length | type | first Seq (8) -> posting list
//	by_agent     uvarint length | AgentID | first Seq (8) -> posting list
//	checkpoints  Seq (8) -> Time (Unix ns, 8) | Hash (32) | ed25519 signature (0 or 64)
//	cursors      name -> Seq (8): where a follower (a streaming exporter) got to
//
// A posting list is the Seqs of that key's events in one Write: a uvarint
// count, then the uvarint gaps between consecutive Seqs after the first
// (which is in the key). An events value ends with the event's canonical
// encoding (otelaudit.Event MarshalBinary, version byte first). "anchor"
// is the last event removed by retention (Seq 0 and otelaudit.GenesisHash
// when none), "head" the newest event. Every event's Hash is
// otelaudit.ChainHash of its PrevHash, SourceDigest and encoding; Verify
// recomputes them all.
//
// # Durability
//
// Write commits one bbolt transaction and returns after bbolt's fsync
// (fdatasync on Linux) of it. A batch is all there or not at all: bbolt's
// copy-on-write pages and two meta pages mean a process killed at any
// instant leaves the last committed transaction intact, never a partial
// one. What a Generator's ForceFlush returned for survives a process kill
// and, if the disk honours flushes, a power loss; events accepted but not
// yet flushed may be lost in either, and the chain stays verifiable.
//
// # Reading a store that is being written
//
// Queries, Verify and Stats run in bbolt read transactions, beside the
// writer. A commit that has to grow the file waits for the read
// transactions open at that moment: a full Verify or Stats of a large store
// (about half a second per million events) can hold up commits that long,
// and the Generator's queue fills meanwhile. Run them on a quiet store, or
// read recent events through the Generator.
package store
