package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// FormatVersion is the store format this build writes and reads; see the
// package documentation. Format 1 (hash rule v1, which did not bind an
// encoding's length) is refused with ErrOldFormat.
const FormatVersion = 2

var (
	bucketMeta        = []byte("otelaudit")
	bucketEvents      = []byte("events")
	bucketSources     = []byte("sources")
	bucketByTrace     = []byte("by_trace")
	bucketByType      = []byte("by_type")
	bucketByAgent     = []byte("by_agent")
	bucketCheckpoints = []byte("checkpoints")
	bucketCursors     = []byte("cursors")
	bucketCommits     = []byte("commits")

	allBuckets = [][]byte{bucketMeta, bucketEvents, bucketSources, bucketByTrace, bucketByType, bucketByAgent, bucketCheckpoints, bucketCursors, bucketCommits}

	keyFormat   = []byte("format")
	keyAnchor   = []byte("anchor")
	keyHead     = []byte("head")
	keyReserved = []byte("reserved")
	keySigned   = []byte("signed")

	allMetaKeys = [][]byte{keyFormat, keyAnchor, keyHead, keyReserved, keySigned}
)

const (
	hashSize = wire.Size
	// valueHeader is the fixed part of an events value: PrevHash, Hash,
	// SourceDigest.
	valueHeader = 3 * hashSize
	anchorSize  = 8 + hashSize
)

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}

func encodeAnchor(a otelaudit.Anchor) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, anchorSize), a.Seq)
	return append(b, a.Hash[:]...)
}

func decodeAnchor(b []byte) (otelaudit.Anchor, error) {
	if len(b) != anchorSize {
		return otelaudit.Anchor{}, fmt.Errorf("%w: chain anchor of %d bytes", ErrCorrupt, len(b))
	}
	var a otelaudit.Anchor
	a.Seq = binary.BigEndian.Uint64(b)
	copy(a.Hash[:], b[8:])
	return a, nil
}

func decodeSeq(what string, b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: %s of %d bytes", ErrCorrupt, what, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// appendValue appends the events value of r to b.
func appendValue(b []byte, r *otelaudit.Record) []byte {
	b = append(b, r.PrevHash[:]...)
	b = append(b, r.Hash[:]...)
	b = append(b, r.SourceDigest[:]...)
	return append(b, r.Data...)
}

// storedEvent is an events value split into its parts; data aliases the
// value.
type storedEvent struct {
	prev, hash, src otelaudit.Hash
	data            []byte
}

func splitValue(seq uint64, v []byte) (storedEvent, error) {
	if len(v) <= valueHeader {
		return storedEvent{}, fmt.Errorf("%w: event %d: value of %d bytes", ErrCorrupt, seq, len(v))
	}
	var s storedEvent
	copy(s.prev[:], v)
	copy(s.hash[:], v[hashSize:])
	copy(s.src[:], v[2*hashSize:])
	s.data = v[valueHeader:]
	return s, nil
}

func encodeCheckpoint(c otelaudit.Checkpoint) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+hashSize+len(c.Signature)), uint64(c.Time.UnixNano()))
	b = append(b, c.Hash[:]...)
	return append(b, c.Signature...)
}

// maxSignature bounds a stored signature: an ed25519 signature or none.
const maxSignature = 64

func decodeCheckpoint(k, v []byte) (otelaudit.Checkpoint, error) {
	if len(k) != 8 || len(v) < 8+hashSize || len(v) > 8+hashSize+maxSignature {
		return otelaudit.Checkpoint{}, fmt.Errorf("%w: checkpoint record of %d bytes", ErrCorrupt, len(v))
	}
	c := otelaudit.Checkpoint{
		Seq:  binary.BigEndian.Uint64(k),
		Time: time.Unix(0, int64(binary.BigEndian.Uint64(v))),
	}
	copy(c.Hash[:], v[8:])
	if sig := v[8+hashSize:]; len(sig) > 0 {
		c.Signature = append([]byte(nil), sig...)
	}
	return c, nil
}

// encodeSigned and decodeSigned are the "signed" meta value: the newest
// commit's signed checkpoint, Seq first, then as in the checkpoints bucket.
func encodeSigned(c otelaudit.Checkpoint) []byte {
	return append(seqKey(c.Seq), encodeCheckpoint(c)...)
}

func decodeSigned(v []byte) (otelaudit.Checkpoint, bool, error) {
	if v == nil {
		return otelaudit.Checkpoint{}, false, nil
	}
	if len(v) < 8 {
		return otelaudit.Checkpoint{}, false, fmt.Errorf("%w: signed head of %d bytes", ErrCorrupt, len(v))
	}
	c, err := decodeCheckpoint(v[:8], v[8:])
	return c, err == nil, err
}

// encodeCommit is a commits value: when a Write committed, Unix ns.
func encodeCommit(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(t.UnixNano()))
}

func decodeCommit(v []byte) (time.Time, error) {
	if len(v) != 8 {
		return time.Time{}, fmt.Errorf("%w: commit record of %d bytes", ErrCorrupt, len(v))
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))), nil
}
