package otelaudit

import "errors"

// The errors of this package wrap one of these sentinels, with detail:
// test with errors.Is. Their text starts with "otelaudit:". Where a ctx
// ended first, the error wraps ctx's error instead or beside; the store's
// own errors (from Store.Write, Resume or Close) are passed on wrapped.

// Errors of recording: the event is refused and counted in Stats.Rejected.
var (
	// ErrNilGenerator is returned by the methods of a nil *Generator.
	ErrNilGenerator = errors.New("otelaudit: nil generator")
	// ErrEmptyType refuses an event without a type: an audit entry that does
	// not say what happened cannot be queried or verified.
	ErrEmptyType = errors.New("otelaudit: event type is empty")
	// ErrInvalidEvent refuses an event whose fields contradict each other or
	// the model: an unknown outcome, a span ID without a trace ID, a negative
	// duration.
	ErrInvalidEvent = errors.New("otelaudit: invalid event")
	// ErrFull is returned when the Generator holds Capacity events and its
	// policy is RejectNew. The event is counted in Stats.Rejected.
	ErrFull = errors.New("otelaudit: generator is full")
	// ErrPseudonymKey refuses a pseudonym key shorter than
	// MinPseudonymKeySize: a Generator given one refuses every event (New
	// returns the error), rather than store in clear what it was told to
	// hide.
	ErrPseudonymKey = errors.New("otelaudit: pseudonym key too short")
)

// Errors of a Generator with a store, and of a Generator after Shutdown.
var (
	// ErrStoreBehind refuses an event when every held event is still
	// waiting for the store writer and none became durable within the
	// store wait (see WithStoreWait). The event is counted in
	// Stats.Rejected.
	ErrStoreBehind = errors.New("otelaudit: store writer is behind")
	// ErrShutdown refuses events recorded after Shutdown.
	ErrShutdown = errors.New("otelaudit: generator is shut down")
	// ErrStoreRefused is wrapped, beside the store's own error, when a
	// Generator cannot continue the trail of its store (see WithStore):
	// New returns it, and a Generator made by NewGenerator refuses every
	// event with it.
	ErrStoreRefused = errors.New("otelaudit: cannot continue the store's trail")
	// ErrNotFlushed is wrapped by ForceFlush and Shutdown when events
	// accepted before the call are not durable yet, a milestone checkpoint
	// asked for is not in the store, or the Seqs reserved past the last
	// event are not released; beside ctx's error, or ErrShutdown when the
	// writer stopped first.
	ErrNotFlushed = errors.New("otelaudit: not flushed")
)

// Errors of Require and Ready.
var (
	// ErrNoReceipt is wrapped by every error of Require and Ready: no
	// receipt was given, and the action the event announces must not go
	// ahead. Beside it the error wraps the reason, and Require's says
	// what became of the event (see ReceiptError).
	ErrNoReceipt = errors.New("otelaudit: no receipt")
	// ErrNoStore is the reason when the Generator has no store (see
	// WithStore): without one nothing is ever durable.
	ErrNoStore = errors.New("otelaudit: no store")
	// ErrStoreFailed is the reason when a commit to the store failed,
	// beside the store's own error: a closed store, a read-only or full
	// file system, an I/O error. The writer keeps retrying the commit,
	// with backoff; Require refuses new events at once while it fails.
	ErrStoreFailed = errors.New("otelaudit: store commit failed")
)

// Errors of verification: of the chain, checkpoints, proofs and receipts.
var (
	// ErrChainBroken is wrapped by every verification failure: an event
	// whose contents do not match its Hash, a missing, inserted or
	// reordered event, or a checkpoint the trail does not honour. Test
	// with errors.Is; errors.As with a *ChainError gives the first failing
	// Seq.
	ErrChainBroken = errors.New("otelaudit: hash chain does not verify")
	// ErrBadSignature is wrapped, beside ErrChainBroken, when a checkpoint
	// is unsigned or its signature does not verify with the public key
	// given: the wrong key, or a forged checkpoint, rather than a changed
	// event.
	ErrBadSignature = errors.New("otelaudit: checkpoint signature does not verify")
	// ErrUnsigned is wrapped when events lie past the newest checkpoint
	// that a given key signed: anyone who can write the trail, without the
	// key, could have written them. Verification with a key wraps it
	// beside ErrChainBroken (the *ChainError names the first such event);
	// a store opened with a key (store.WithPublicKey), and a Generator
	// with a signing key attached to a store, refuse such a head with it
	// unless told to adopt it.
	ErrUnsigned = errors.New("otelaudit: events not covered by a checkpoint signed by the key")
	// ErrBadProof is wrapped when an inclusion or consistency proof does
	// not prove what it is said to.
	ErrBadProof = errors.New("otelaudit: proof does not verify")
	// ErrBadReceipt is wrapped by every error of Receipt.Verify: the
	// receipt does not prove what it says. Beside it, ErrBadSignature when
	// its checkpoint is unsigned or not signed by the key given,
	// ErrBadProof when its proof does not lead to the checkpoint's root.
	ErrBadReceipt = errors.New("otelaudit: receipt does not verify")
)

// Errors of encodings: events, checkpoints and their origins.
var (
	// ErrMalformed is returned when bytes do not decode as an event:
	// truncated, of an unknown version, with a length that points past the
	// end, or in any form but the one canonical encoding of an event.
	ErrMalformed = errors.New("otelaudit: malformed event encoding")
	// ErrBadNote is wrapped by ParseNote's errors: the bytes are not a
	// checkpoint as this package writes one.
	ErrBadNote = errors.New("otelaudit: not a checkpoint note")
	// ErrBadOrigin is returned for an origin a checkpoint cannot carry:
	// empty, longer than MaxOrigin bytes, or holding spaces, a plus sign or
	// anything but printable UTF-8.
	ErrBadOrigin = errors.New("otelaudit: origin must be non-empty UTF-8 of at most 255 bytes, without spaces, control characters or '+'")
)
