package otelaudit

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// The trail's own records. A Generator with a store writes them itself, as
// the first events of a run, chained like any other event; Record refuses
// their types (every type starting with "otelaudit." is reserved), so an
// event of one of these types is always the Generator's word.
const (
	// SeqGap records Seqs lost to a crash. Before handing out Seqs, a
	// Generator reserves them in its store (see Store); when a run ends
	// without a clean Shutdown, the next run starts after everything
	// reserved, and its first event, of this type, names the Seqs that
	// were reserved and never stored: handed out and lost, or never
	// handed out. It takes the first Seq after them, so the trail jumps
	// from the last stored event to it, and verification accepts the jump
	// only where such a record accounts for it exactly.
	SeqGap EventType = "otelaudit.seq_gap"
	// HeadAdopted records that a run continued a trail whose newest
	// events its signing key had not signed (see store.WithAdoptHead):
	// written by someone without the key, or by a run without one.
	HeadAdopted EventType = "otelaudit.head_adopted"
)

// reservedTypePrefix starts every type of the trail's own records.
const reservedTypePrefix = "otelaudit."

// Attribute keys of the trail's own records, in the order they are
// written. Seqs are int64 attributes (every Seq is at most MaxSeq), times
// RFC 3339 strings in UTC with nanoseconds.
const (
	// AttrGapFirst and AttrGapLast bound the lost Seqs of a SeqGap record.
	AttrGapFirst = "otelaudit.gap.first"
	AttrGapLast  = "otelaudit.gap.last"
	// AttrGapLastCommit is when the run that lost them last committed to
	// the store; empty when it never did.
	AttrGapLastCommit = "otelaudit.gap.last_commit"
	// AttrAdoptedSeq and AttrAdoptedHash are the head a HeadAdopted
	// record adopted; AttrAdoptedSignedSeq the newest Seq the key had
	// signed (0: none); AttrAdoptedKey the public key, in hex.
	AttrAdoptedSeq       = "otelaudit.adopted.seq"
	AttrAdoptedHash      = "otelaudit.adopted.hash"
	AttrAdoptedSignedSeq = "otelaudit.adopted.signed_seq"
	AttrAdoptedKey       = "otelaudit.adopted.key"
)

// Gap is what a SeqGap record says.
type Gap struct {
	// Seq is the record's own Seq: Last+1.
	Seq uint64
	// First and Last are the Seqs lost: reserved by the run before and
	// never stored.
	First, Last uint64
	// Restart is when the new run started (the record's Time);
	// LastCommit when the run before last committed (zero if unknown).
	Restart, LastCommit time.Time
}

// Adoption is what a HeadAdopted record says.
type Adoption struct {
	// Seq is the record's own Seq; Time when the run adopted the head.
	Seq  uint64
	Time time.Time
	// Head is the head adopted; SignedSeq the newest Seq Key had signed
	// then (0: none). The events after SignedSeq up to Head.Seq were not
	// signed by Key.
	Head      Anchor
	SignedSeq uint64
	Key       ed25519.PublicKey
}

const ownTimeLayout = time.RFC3339Nano

func formatOwnTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(ownTimeLayout)
}

// newGapEvent is the SeqGap record for Seqs first..last, at restart.
func newGapEvent(first, last uint64, lastCommit, restart time.Time) Event {
	return Event{
		Seq:    last + 1,
		Type:   SeqGap,
		Time:   restart,
		Action: "restart after a crash",
		Attributes: []attribute.KeyValue{
			attribute.Int64(AttrGapFirst, int64(first)),
			attribute.Int64(AttrGapLast, int64(last)),
			attribute.String(AttrGapLastCommit, formatOwnTime(lastCommit)),
		},
	}
}

// newAdoptionEvent is the HeadAdopted record following head.
func newAdoptionEvent(head Anchor, signed uint64, pub ed25519.PublicKey, at time.Time) Event {
	return Event{
		Seq:    head.Seq + 1,
		Type:   HeadAdopted,
		Time:   at,
		Action: "adopt a head the signing key did not sign",
		Attributes: []attribute.KeyValue{
			attribute.Int64(AttrAdoptedSeq, int64(head.Seq)),
			attribute.String(AttrAdoptedHash, head.Hash.String()),
			attribute.Int64(AttrAdoptedSignedSeq, int64(signed)),
			attribute.String(AttrAdoptedKey, hex.EncodeToString(pub)),
		},
	}
}

// Gap reads e as a SeqGap record. It reports false for any other event,
// and for a SeqGap event that is not exactly as a Generator writes one.
func (e *Event) Gap() (Gap, bool) {
	a := e.Attributes
	if e.Type != SeqGap || len(a) != 3 || !isKey(a[0], AttrGapFirst, attribute.INT64) ||
		!isKey(a[1], AttrGapLast, attribute.INT64) || !isKey(a[2], AttrGapLastCommit, attribute.STRING) {
		return Gap{}, false
	}
	first, last := a[0].Value.AsInt64(), a[1].Value.AsInt64()
	commit, ok := parseOwnTime(a[2].Value.AsString())
	if !ok || first < 1 || last < first || uint64(last)+1 != e.Seq {
		return Gap{}, false
	}
	return Gap{Seq: e.Seq, First: uint64(first), Last: uint64(last), Restart: e.Time, LastCommit: commit}, true
}

// Adoption reads e as a HeadAdopted record, as Gap does for SeqGap.
func (e *Event) Adoption() (Adoption, bool) {
	a := e.Attributes
	if e.Type != HeadAdopted || len(a) != 4 || !isKey(a[0], AttrAdoptedSeq, attribute.INT64) ||
		!isKey(a[1], AttrAdoptedHash, attribute.STRING) || !isKey(a[2], AttrAdoptedSignedSeq, attribute.INT64) ||
		!isKey(a[3], AttrAdoptedKey, attribute.STRING) {
		return Adoption{}, false
	}
	head, signed := a[0].Value.AsInt64(), a[2].Value.AsInt64()
	h, err := ParseHash(a[1].Value.AsString())
	key, kerr := hex.DecodeString(a[3].Value.AsString())
	if err != nil || kerr != nil || len(key) != ed25519.PublicKeySize || head < 0 || signed < 0 || signed > head ||
		uint64(head)+1 != e.Seq || a[1].Value.AsString() != h.String() || a[3].Value.AsString() != hex.EncodeToString(key) {
		return Adoption{}, false
	}
	return Adoption{Seq: e.Seq, Time: e.Time, Head: Anchor{Seq: uint64(head), Hash: h}, SignedSeq: uint64(signed), Key: key}, true
}

func isKey(kv attribute.KeyValue, key string, t attribute.Type) bool {
	return string(kv.Key) == key && kv.Value.Type() == t
}

// parseOwnTime reads a time written by formatOwnTime, refusing any other
// spelling of it.
func parseOwnTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(ownTimeLayout, s)
	if err != nil || formatOwnTime(t) != s {
		return time.Time{}, false
	}
	return t, true
}

// checkOwn checks an event of a reserved type, other than a SeqGap, which
// the Verifier checks against the trail: it must be one of the trail's own
// records, in the form a Generator writes.
func checkOwn(e *Event) error {
	switch e.Type {
	case HeadAdopted:
		if _, ok := e.Adoption(); !ok {
			return fmt.Errorf("a %s record not in the form a Generator writes", e.Type)
		}
		return nil
	}
	return fmt.Errorf("type %q is reserved for the trail's own records, and is none of them", e.Type)
}

func reservedType(t EventType) bool {
	return strings.HasPrefix(string(t), reservedTypePrefix)
}
