// Package otelaudit is the audit trail of an agent or workflow runtime,
// keyed by OpenTelemetry trace ID.
//
// An Event records one runtime action: who (AgentID, HumanOriginID) did
// what (Type, Action, Resource) in which run (TraceID, SpanID, WorkflowID,
// NodeID) with what Outcome. Events enter a Generator either from the span
// processor in package processor, which turns the spans the runtime already
// emits into events, or directly through Generator.Record, which takes the
// trace context from its ctx.
//
// The Generator numbers every accepted event with a Seq that is strictly
// increasing and never reused, holds at most Capacity events (evicting the
// oldest, or refusing new ones, as its FullPolicy says, and counting either
// in Stats), and indexes them by trace ID, type and agent, so that "what
// happened in trace X?" costs one hash lookup plus the events returned.
// Every query returns deep copies, oldest first.
//
// Recording is built for the span processor's hot path: an event is encoded
// (see Event.MarshalBinary) before a short lock that only hands out its Seq
// and room, and copied in after it. Held events are bytes the garbage
// collector never scans. The indexes are brought up to date by the first
// query after new events, each event once, so a process that records much
// and queries rarely, as an audit trail does, pays for them only when it
// asks.
//
// The trail is tamper-evident. Every event carries a PrevHash and a Hash:
// SHA-256 over its canonical encoding and that encoding's length, its
// Source and the Hash before it (see ChainHash), chained in Seq order from
// GenesisHash. Verify checks the
// held trail, VerifyChain any slice of events; both name the first event
// that fails. Eviction and Clear keep the Anchor (Seq and Hash of the last
// event dropped), so what remains still verifies. With a signing key
// (WithSigningKey), checkpoints of the chain head are signed every so many
// events or seconds, so that a verifier with the public key alone can tell
// that a trail was cut or rewritten after them. Sealing (computing the
// chain) stays off the lock: each writer hashes its own event outside it,
// and only SHA-256's last block, holding PrevHash, is hashed in Seq order,
// by a background worker that follows the writers (see
// WithCatchUpInterval), or by the first query, eviction or store commit
// that needs it first.
//
// The trail is durable with a store attached (WithStore; package store
// provides one on bbolt): a background writer hands sealed events to it in
// group commits, off the hot path, and numbering and chain continue from it
// after a restart. With a signing key, every commit carries a signed
// checkpoint of its last event, and a Generator refuses to continue a store
// whose head its key did not sign (ErrUnsigned). Seqs are reserved in the
// store before they are handed out, so a crash never leads to a Seq being
// used twice: the next run records the Seqs it may have lost as its first
// event (SeqGap). ForceFlush waits until what was accepted is durable;
// Shutdown flushes, releases what it reserved and closes.
//
// Every event goes through the Generator's Policy (WithPolicy) before it is
// numbered and hashed: LevelMetadata, the default, keeps the fields and the
// attributes known to be safe (SafeKeys), LevelFull every attribute but the
// known secrets, and no level keeps a known secret (SecretKeys,
// SecretPatterns, the user info, query and fragment of URLKeys) unless
// Policy.Keep names it; Rules change the level per event type or tool.
// WithPseudonyms stores chosen values as keyed HMAC pseudonyms, which
// Pseudonym and Generator.Pseudonym compute for lookups. An event larger
// than the size cap (WithMaxEventSize) is cut and says so, and the held
// events are bounded in bytes as well as in number (WithMaxBytes): see
// Stats.Cut, Stats.Bytes, Stats.EvictedForBytes.
//
// Query selects held events by trace, type, agent, user, outcome and time,
// newest or oldest first, with a limit: it walks one index, reads the
// filters of the events it passes in place and decodes only the events it
// returns. Until is exclusive in every query of the project.
//
// Record returns before its event is durable: a runtime that must not act
// unless the trail holds what it is about to do uses Require, which fails
// closed. It returns only once the event is committed with fsync and, with
// a signing key, covered by a checkpoint the key signed, with a Receipt
// that proves it (Receipt.Verify checks it with the public key alone);
// else an error wrapping ErrNoReceipt, which says whether the event was
// recorded (ReceiptError). Require an intent before the action, Record
// the outcome after it. Concurrent Requires share commits and signatures;
// Ready tells a health endpoint whether Require can give receipts.
//
// Nothing is lost silently: every event Record accepted is held, or counted
// as evicted or cleared (with a store, only once durable); every event it
// refused is counted as rejected and its caller got an error saying why.
package otelaudit
