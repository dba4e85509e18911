// Package store keeps an otelaudit trail durable in an embedded bbolt
// database: crash-safe, indexed by trace ID, type and agent, hash-chained,
// signed and verifiable.
//
// A store is attached to a Generator with otelaudit.WithStore: the
// Generator's background writer hands it sealed events in group commits
// (one bbolt transaction, one fsync, per batch), and numbering and the hash
// chain continue from the store's head when a process restarts.
//
//	key, _ := keyfile.ReadPrivate("audit.key")
//	st, err := store.Open("audit.db", store.WithPublicKey(key.Public().(ed25519.PublicKey)))
//	if err != nil { ... } // ErrUnsigned: the head is not the key's
//	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(key))
//	if err != nil { ... }
//	defer g.Shutdown(ctx) // flushes, releases what it reserved, closes st
//
// The same package reads a store back, as the otelaudit CLI does: queries
// by trace ID, type, agent and time, Verify, Stats. Opened read-only (see
// WithReadOnly) a store can be read while nothing writes to it, and a store
// that does not verify can still be opened for forensics.
//
// # What Open checks
//
// Open verifies, in time that grows with the tail of the trail (the events
// after the newest checkpoint it can trust), not with the trail: a store
// written with a key has no tail (every commit is signed), and opens in a
// few milliseconds at a million events (BENCHMARKS.md). Verify, and the
// CLI's otelaudit verify, check everything; WithFullVerify makes Open run
// Verify.
//
// The checkpoint Open trusts is the newest stored one whose signature the
// WithPublicKey key verifies: in a store written with the key, the newest
// commit's signed head. Without a key, the newest stored checkpoint, whose
// signature nothing here can check. Open checks:
//
//   - the file against bbolt's meta pages and freelist (before bbolt maps
//     it), the format, the buckets and meta keys of the format and no
//     others, and the bounds of the anchor, head, reservation, signed head
//     and tree state;
//   - that no stored checkpoint as new or newer has a signature the key
//     does not verify (Verify would refuse it);
//   - the event the checkpoint names: stored, with the checkpoint's Hash,
//     as the checkpoint's last leaf, decoding as itself and hashing to its
//     Hash;
//   - the Merkle tree's stored nodes: the compact range of the
//     checkpoint's tree, read from the tiles, must give the signed root;
//   - every event after it as Verify checks it (decoded, chained, its leaf
//     and the tiles it completes, its Source stored, listed in its index
//     entries), up to the recorded head; the stored tree state must be the
//     tree that gives, and the tiles at the tree's right edge hold exactly
//     its nodes;
//   - that the first stored event chains to the anchor; the commit times
//     of the tail; every Source against its digest (a trail has few);
//     every cursor; the key order of every bucket small enough to live in
//     its parent's page (bbolt's Tx.Check does not compare those);
//   - with a key, that it signed the head (ErrUnsigned otherwise, naming
//     the first event past its newest valid checkpoint).
//
// When any of that fails, Open runs Verify, so that the error names the
// first bad event as Verify would: the full cost is paid by a broken store
// only. Without a trusted checkpoint (a store written without a key) the
// tail is the whole trail, and Open reads it all.
//
// What Open trusts without reading: every event before the checkpoint,
// their index entries, older checkpoints, and the bbolt pages it does not
// visit. Why that is safe against someone who can write the file but has
// no key: the signed root covers every leaf, so every event's Hash and,
// through the chain hash, its bytes, PrevHash and Source digest. The tree
// state the next run continues from is checked against that root, so a
// runtime never signs a tree other than the one its key signed, whatever
// was done to the events under it: a change to an old event stays visible
// to Verify after the runtime has continued and signed new commits; it
// cannot be laundered into them.
//
// Reads are guarded: every event a query, Get or EventsAfter returns is
// rehashed from its stored bytes, PrevHash and Source digest, and its leaf
// hash compared with the level-0 tile at its leaf; the first read of a
// tile checks the tile itself against the tree Open verified (its hashes
// and the tree's other stored nodes must give the verified root), and the
// tiles checked are remembered. A scan (Events without a trace, type or
// agent; EventsAfter) checks that each event chains to the one stored
// before it; an index walk, that one key's entries do not overlap. A read
// that meets an old event changed, rehashed, re-tiled, reordered, moved
// or removed fails with ErrCorrupt (wrapping a ChainError naming it), and
// the rest of the trail stays readable. What reads cannot see: an index
// entry of an old event removed (the query misses it; Verify's index sums
// find it), an old checkpoint forged (Checkpoints returns it; Verify
// checks every signature and root, as does whoever checks a checkpoint
// shipped elsewhere), and damage to bbolt pages Open did not read (a read
// through them fails with ErrCorrupt; Verify runs Tx.Check). A read-only
// store on which Verify failed reads what is stored, unchecked, for
// forensics, and VerifyError says why.
//
// # Format (version 3)
//
// One bbolt file with these buckets and no others; integers big endian, so
// keys sort in numeric order:
//
//	otelaudit    "format" -> 3 (one byte)
//	             "anchor", "head" -> Seq (8) | Hash (32)
//	             "reserved" -> Seq (8): the highest Seq the last run may have handed out
//	             "signed" -> Seq (8) | a checkpoints value: the newest commit's
//	                         signed checkpoint (absent without a key)
//	             "tree" -> size (8) | the roots of the perfect subtrees covering
//	                         the Merkle tree, left to right (32 each)
//	events       Seq (8) -> PrevHash (32) | Hash (32) | SourceDigest (32) | leaf index (8) | event
//	sources      SourceDigest (32) -> encoded Source (otelaudit.Source.MarshalBinary)
//	by_trace     TraceID (16) | first Seq (8) -> posting list
//	by_type      uvarint length | type | first Seq (8) -> posting list
//	by_agent     uvarint length | AgentID | first Seq (8) -> posting list
//	checkpoints  Seq (8) -> Time (Unix ns, 8) | Hash (32) | tree size (8) | root (32) |
//	             origin length (1) | origin | note signature (key hash 4 | ed25519 64, or none)
//	tiles        level (1) | index (8) -> the hashes of tree level 8*level, nodes
//	             index*256 .. index*256+255 (fewer at the right edge): C2SP tlog-tiles
//	commits      first Seq of a Write (8) -> when it committed (Unix ns, 8)
//	cursors      name -> Seq (8): where a follower (a streaming exporter) got to
//
// A posting list is the Seqs of that key's events in one Write: a uvarint
// count, then the uvarint gaps between consecutive Seqs after the first
// (which is in the key). An events value ends with the event's canonical
// encoding (otelaudit.Event.MarshalBinary, version byte first). "anchor"
// is the last event removed by retention (Seq 0 and otelaudit.GenesisHash
// when none), "head" the newest event. Every event's Hash is
// otelaudit.ChainHash of its PrevHash, SourceDigest and encoding, whose
// input binds the encoding's length (hash rule v2); Verify decodes every
// event and recomputes every hash. The layout of an encoded event and the
// chain rule have one owner, package internal/wire.
//
// The Merkle tree's leaves are the events' Hashes in the trail's order
// (see otelaudit.LeafHash); every Write grows it in its transaction, and a
// checkpoint is a C2SP signed note of its size and root (see
// otelaudit.Checkpoint), which Write checks against the tree. Evidence and
// Consistency build proofs from the tiles; package evidence checks them.
// The tree costs 8 bytes per event in its events value (the leaf index),
// 32 in the level-0 tiles, and 1/256 of that again for each tile level
// above (0.13 bytes in all): about 40 bytes per event, beside the 96 of
// the value's hashes and the event's encoding.
//
// Format 2 (no tree, checkpoints that were not notes) is refused with
// ErrOldFormat: its signatures would vouch for nothing in a tree built by
// converting it. Format 1, written before the hash input bound the
// encoding's length, is refused with ErrOldFormat, not converted: converting would re-hash every
// event, and the signed checkpoints of the old chain would then vouch for
// nothing in the new one. A converted trail could only be re-signed by
// whoever converts it, which is exactly what signing is there to prevent.
// Read a format 1 store with the release that wrote it.
//
// # What a keyless writer can and cannot do
//
// Anyone who can write the file can change it, with this package or with
// bbolt directly. With a signing key (otelaudit.WithSigningKey), every
// commit carries a signed checkpoint of the tree it leaves (its last leaf the
// commit's last event), signed in the same
// transaction, so a store written with a key never has an unsigned tail.
// Against someone without the key, Verify with the public key (and the
// CLI's verify --pubkey) then fails, naming the first event that cannot be
// trusted, for: any change to a stored event, Source, hash or index entry
// (the chain, the digests and the index check), a Source deleted, index
// entries split to overlap or stored out of order; events inserted,
// deleted or reordered; events appended, through a keyless Generator or by
// hand, and a tail rewritten and re-chained with the checkpoints that no
// longer match deleted (the events past the newest checkpoint the key
// signed: ErrUnsigned), forged SeqGap or HeadAdopted records included;
// all checkpoints deleted (every event is then unsigned); a forged
// checkpoint, or the signed head of another store signed by the same key;
// every event deleted and the anchor set where no checkpoint the key
// signed vouches for it (ErrUnsigned: a store written with the key keeps
// the newest commit's, which retention leaves), or at seq 0 with any hash
// but the genesis (ErrCorrupt). A runtime that opens the store with its key
// (WithPublicKey, or a Generator with a signing key) refuses a head the key
// did not sign, so it never continues, and signs, a forged tail; to take
// over such a trail on purpose, WithAdoptHead, and the run records that it
// did as an otelaudit.HeadAdopted event.
//
// What the store alone cannot show, and needs checkpoints kept elsewhere
// for (otelaudit checkpoints --json, copied off the machine, checked with
// verify --checkpoint): a tail cut back to an earlier signed commit, the
// file replaced by an older copy, or the oldest events removed with the
// anchor moved past them, which is what retention does (verify
// --from-genesis refuses that), or the file deleted (a new store there
// starts again from Seq 1; an emptied file is refused, not taken for a new
// store).
//
// Nor is the store's bookkeeping signed: the reservation (a run that
// continues a tail cut back to a signed checkpoint finds Seqs reserved past
// the head and records them, signed, as lost to a crash: only a kept
// checkpoint tells a crash from a cut), the commit times retention by age
// reads (set back, the oldest events go early; set forward, none go until
// then), and the cursors (set forward, a restarted stream skips events,
// which stay stored).
//
// # Durability and crashes
//
// Write commits one bbolt transaction and returns after bbolt's fsync
// (fdatasync on Linux) of it. A batch is all there or not at all: bbolt's
// copy-on-write pages and two meta pages mean a process killed at any
// instant leaves the last committed transaction intact, never a partial
// one. Exactly:
//
//  1. Every event a Generator's ForceFlush (or Shutdown) returned nil for
//     survives a process kill, and a power loss if the disk honours
//     flushes.
//  2. Events accepted and not yet committed may be lost; at most the
//     Generator's capacity of them.
//  3. No Seq names two events. Before a Seq is handed out it is reserved
//     in the store: every commit records, with its events, the last Seq
//     plus the Generator's capacity ("reserved"), which bounds what can be
//     outstanding, since events not yet durable are never evicted. A clean
//     Shutdown that made everything durable releases the reservation.
//  4. After a crash, the next run's first event is an otelaudit.SeqGap
//     record of the Seqs reserved and never stored, with when the lost run
//     last committed and when the new one started; the run numbers after
//     them. Verify accepts a jump in Seqs only where such a record accounts
//     for it exactly; Report.Gaps lists them.
//  5. With a key, the head after any commit is signed, so a crash never
//     leaves an unsigned tail.
//
// tests/crash_test.go checks 1 to 5: a child process records from two
// goroutines and reports what it flushed and the events it saw handed
// out; the parent SIGKILLs it at random moments, 24 times on one file, and
// after each kill checks that the chain and the signed head verify, every
// flushed event is there, every event seen is stored as seen or lies in
// the recorded gap, and the next run starts with a SeqGap record of
// exactly what the killed one reserved.
//
// # Damaged files
//
// No file, truncated, bit-flipped, foreign or crafted, makes Open or any
// method panic or end the process. Open first compares the file with
// bbolt's own meta pages (a file shorter than they say is truncated:
// ErrCorrupt, before bbolt maps it); every method that touches bbolt's
// memory map runs with the goroutine's memory faults turned into panics
// (debug.SetPanicOnFault) and bbolt's panics turned into ErrCorrupt; and
// Verify ends with bbolt's own consistency check (Tx.Check), after
// checking what that check would read on a goroutine of its own. Its walk
// also checks every bucket's keys in order (Tx.Check skips buckets kept
// inline in their parent's page, where a lookup would miss entries stored
// out of order) and refuses nested buckets, whose pages Tx.Check alone
// would read; tests/craftedfile_test.go places both. Open runs Verify
// only on a store its own check refuses, or WithFullVerify: it checks the
// key order of the inline buckets itself, and walks the Sources, cursors
// and meta, where a nested bucket would be refused; damage in the pages of
// older events is refused by the reads that reach it and by Verify (see
// "What Open checks"), and a runtime that continues such a store signs
// the tree its key signed before, not the damage.
// Not covered: a file changed under an open store by another process that
// ignores bbolt's lock (a guarded method then fails with ErrCorrupt, but
// Tx.Check, on its own goroutine, could still fault).
// tests/filefuzz_test.go cuts a small signed store at every page boundary
// and flips random bits, in a child process; scripts/fuzz-store.sh runs
// many more.
//
// # Retention
//
// WithRetention removes the oldest events by count or by age, a bounded
// step per commit and at once with Prune; the last event removed becomes
// the anchor. Age is measured from when the store committed an event (the
// commits bucket, by the store's clock, never going back), not from the
// event's Time, which is whatever its recorder said.
//
// # Reading a store that is being written
//
// Queries, Verify and Stats run in bbolt read transactions, beside the
// writer. A commit that has to grow the file waits for the read
// transactions open at that moment, and Verify holds up commits while
// bbolt's consistency check runs: a full Verify or Stats of a large store
// (see BENCHMARKS.md for the rate) can hold up commits that long, and the
// Generator's queue fills meanwhile. Run them on a quiet store, or read
// recent events through the Generator.
package store
