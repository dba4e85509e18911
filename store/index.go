package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/otel/trace"
)

// The secondary indexes (by_trace, by_type, by_agent) hold posting lists:
// one entry per key per Write, not one per event,
//
//	prefix | first Seq (8, big endian)  ->  uvarint n | n-1 uvarint gaps
//
// listing the n events of that key in the Write, in Seq order, as the
// first Seq (in the key) and the gaps between consecutive Seqs. The prefix
// is the trace ID (16 bytes), or a uvarint length and the type or agent.
// Keys of one prefix therefore sort oldest first, and a lookup is a prefix
// scan. A Write of thousands of events of a few types and agents puts a
// few entries instead of thousands: with an entry per event, index upkeep
// would be most of a commit's cost (see BENCHMARKS.md).
//
// Retention drops events oldest first, so it only ever cuts the oldest
// entries of a prefix: whole entries, and the front of one.

func tracePrefix(id trace.TraceID) []byte { return id[:] }

func stringPrefix(key string) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(key))), key...)
}

// prefixString returns the string of a by_type or by_agent key.
func prefixString(k []byte) (string, bool) {
	n, w := binary.Uvarint(k)
	if w <= 0 || uint64(len(k)-w) != n+8 {
		return "", false
	}
	return string(k[w : w+int(n)]), true
}

func encodePosting(seqs []uint64) []byte {
	v := binary.AppendUvarint(make([]byte, 0, 1+2*len(seqs)), uint64(len(seqs)))
	for i := 1; i < len(seqs); i++ {
		v = binary.AppendUvarint(v, seqs[i]-seqs[i-1])
	}
	return v
}

// decodePosting returns the Seqs of the entry k, v whose prefix is
// prefixLen bytes long.
func decodePosting(k, v []byte, prefixLen int) ([]uint64, error) {
	if len(k) != prefixLen+8 {
		return nil, fmt.Errorf("%w: index key of %d bytes", ErrCorrupt, len(k))
	}
	n, w := binary.Uvarint(v)
	if w <= 0 || n == 0 || n > uint64(len(v)) {
		return nil, fmt.Errorf("%w: index entry of %d bytes", ErrCorrupt, len(v))
	}
	seqs := make([]uint64, 1, n)
	seqs[0] = binary.BigEndian.Uint64(k[prefixLen:])
	for v = v[w:]; uint64(len(seqs)) < n; {
		d, w := binary.Uvarint(v)
		if w <= 0 || d == 0 {
			return nil, fmt.Errorf("%w: index entry gap", ErrCorrupt)
		}
		seqs = append(seqs, seqs[len(seqs)-1]+d)
		v = v[w:]
	}
	if len(v) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes in an index entry", ErrCorrupt, len(v))
	}
	return seqs, nil
}

// walkIndex calls fn with the Seq of every event under prefix, newest
// first (oldest first with oldest), until fn says done.
func walkIndex(b *bolt.Bucket, prefix []byte, oldest bool, fn func(seq uint64) (bool, error)) error {
	c := b.Cursor()
	var k, v []byte
	if oldest {
		k, v = c.Seek(prefix)
	} else {
		// The first key past the prefix's range; Prev from there is its last.
		end := append(bytes.Clone(prefix), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		k, v = c.Seek(end)
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	}
	// The edge Seq of the entry walked before: its first walking newest
	// first, its last walking oldest first.
	var edge uint64
	for first := true; hasPrefix(k, prefix); first = false {
		seqs, err := decodePosting(k, v, len(prefix))
		if err != nil {
			return err
		}
		// Entries of one key are disjoint runs, ascending: one that
		// reaches into its neighbour would put an older event among
		// newer ones, and a Limit would keep it in their place.
		if !first && ((!oldest && seqs[len(seqs)-1] >= edge) || (oldest && seqs[0] <= edge)) {
			return fmt.Errorf("%w: index entries of one key overlap (seq %d, seq %d; run Verify)", ErrCorrupt, seqs[len(seqs)-1], edge)
		}
		if oldest {
			edge = seqs[len(seqs)-1]
		} else {
			edge = seqs[0]
		}
		for i := range seqs {
			if !oldest {
				i = len(seqs) - 1 - i
			}
			if done, err := fn(seqs[i]); err != nil || done {
				return err
			}
		}
		if oldest {
			k, v = c.Next()
		} else {
			k, v = c.Prev()
		}
	}
	return nil
}

// trim removes the Seqs up to and including anchor from the entries of
// prefix: whole entries, and the front of the first one left, which moves
// to the key of its new first Seq.
func trim(b *bolt.Bucket, prefix []byte, anchor uint64) error {
	c := b.Cursor()
	for k, v := c.Seek(prefix); hasPrefix(k, prefix); k, v = c.Seek(prefix) {
		seqs, err := decodePosting(k, v, len(prefix))
		if err != nil {
			return err
		}
		if seqs[0] > anchor {
			return nil
		}
		if err := c.Delete(); err != nil {
			return err
		}
		i, _ := slices.BinarySearch(seqs, anchor+1)
		if rest := seqs[i:]; len(rest) > 0 {
			k := binary.BigEndian.AppendUint64(append(make([]byte, 0, len(prefix)+8), prefix...), rest[0])
			return b.Put(k, encodePosting(rest))
		}
	}
	return nil
}
