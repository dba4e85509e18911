package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// FormatVersion is the store format this build writes and reads; see the
// package documentation. Format 1 (hash rule v1, which did not bind an
// encoding's length) and format 2 (no Merkle tree, checkpoints that were
// not C2SP notes) are refused with ErrOldFormat.
const FormatVersion = 3

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
	bucketTiles       = []byte("tiles")

	allBuckets = [][]byte{bucketMeta, bucketEvents, bucketSources, bucketByTrace, bucketByType, bucketByAgent, bucketCheckpoints, bucketCursors, bucketCommits, bucketTiles}

	keyFormat   = []byte("format")
	keyAnchor   = []byte("anchor")
	keyHead     = []byte("head")
	keyReserved = []byte("reserved")
	keySigned   = []byte("signed")
	keyTree     = []byte("tree")

	allMetaKeys = [][]byte{keyFormat, keyAnchor, keyHead, keyReserved, keySigned, keyTree}
)

const (
	hashSize = wire.Size
	// valueHeader is the fixed part of an events value: PrevHash, Hash,
	// SourceDigest, leaf index.
	valueHeader = 3*hashSize + 8
	anchorSize  = 8 + hashSize
)

// pageSize is the bbolt page size of a new store (bbolt's default is the
// OS page, 4 KiB here). bbolt writes every dirty page with a call of its
// own, and a commit of many events dirties many pages: at 16 KiB a commit
// of 50,000 events makes a quarter of the calls, and its index entries fill
// a quarter of the branch nodes, while a commit of one event (Require's)
// writes at most a few pages and costs about what it costs at 4 KiB (see
// BENCHMARKS.md). A file created with another page size keeps it.
const pageSize = 16 << 10

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

// appendValue appends the events value of r, leaf index leaf of the tree,
// to b.
func appendValue(b []byte, r *otelaudit.SealedEvent, leaf uint64) []byte {
	b = append(b, r.PrevHash[:]...)
	b = append(b, r.Hash[:]...)
	b = append(b, r.SourceDigest[:]...)
	b = binary.BigEndian.AppendUint64(b, leaf)
	return append(b, r.Data...)
}

// storedEvent is an events value split into its parts; data aliases the
// value.
type storedEvent struct {
	prev, hash, src otelaudit.Hash
	leaf            uint64
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
	s.leaf = binary.BigEndian.Uint64(v[3*hashSize:])
	s.data = v[valueHeader:]
	return s, nil
}

// A checkpoints value: Time (Unix ns, 8), Hash (32), tree Size (8), Root
// (32), origin (a length byte and the bytes), note signature (key hash and
// ed25519 signature, 68, or none).
func encodeCheckpoint(c otelaudit.Checkpoint) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, cpFixed+len(c.Origin)+len(c.Signature)), uint64(c.Time.UnixNano()))
	b = append(b, c.Hash[:]...)
	b = binary.BigEndian.AppendUint64(b, c.Size)
	b = append(b, c.Root[:]...)
	b = append(b, byte(len(c.Origin)))
	b = append(b, c.Origin...)
	return append(b, c.Signature...)
}

const (
	// cpFixed is the fixed part of a checkpoints value.
	cpFixed = 8 + hashSize + 8 + hashSize + 1
	// noteSignature is the size of a stored note signature.
	noteSignature = 4 + 64
)

func decodeCheckpoint(k, v []byte) (otelaudit.Checkpoint, error) {
	if len(k) != 8 || len(v) < cpFixed || len(v) < cpFixed+int(v[cpFixed-1]) {
		return otelaudit.Checkpoint{}, fmt.Errorf("%w: checkpoint record of %d bytes", ErrCorrupt, len(v))
	}
	c := otelaudit.Checkpoint{
		Seq:  binary.BigEndian.Uint64(k),
		Time: time.Unix(0, int64(binary.BigEndian.Uint64(v))),
		Size: binary.BigEndian.Uint64(v[8+hashSize:]),
	}
	copy(c.Hash[:], v[8:])
	copy(c.Root[:], v[8+hashSize+8:])
	n := int(v[cpFixed-1])
	c.Origin = string(v[cpFixed : cpFixed+n])
	switch sig := v[cpFixed+n:]; len(sig) {
	case 0:
	case noteSignature:
		c.Signature = append([]byte(nil), sig...)
	default:
		return otelaudit.Checkpoint{}, fmt.Errorf("%w: checkpoint of seq %d with a signature of %d bytes", ErrCorrupt, c.Seq, len(sig))
	}
	return c, nil
}

// encodeTree and decodeTree are the "tree" meta value: the tree's size
// (8) and the roots of the perfect subtrees that cover it (32 each).
func encodeTree(t *tlog.Tree) []byte {
	hs := t.Hashes()
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(hs)*hashSize), t.Size())
	for _, h := range hs {
		b = append(b, h[:]...)
	}
	return b
}

func decodeTree(v []byte) (*tlog.Tree, error) {
	if v == nil {
		return tlog.NewTree(0, nil)
	}
	if len(v) < 8 || (len(v)-8)%hashSize != 0 {
		return nil, fmt.Errorf("%w: tree state of %d bytes", ErrCorrupt, len(v))
	}
	hs := make([][hashSize]byte, (len(v)-8)/hashSize)
	for i := range hs {
		hs[i] = [hashSize]byte(v[8+i*hashSize:])
	}
	t, err := tlog.NewTree(binary.BigEndian.Uint64(v), hs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return t, nil
}

// tileKey is a tiles key: the tile's level (1) and index (8).
func tileKey(level uint8, index uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{level}, index)
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
