package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// AppendEncodedAfter appends to dst the stored events with Seq greater
// than after, oldest first, at most limit of them when limit > 0, as
// EventsAfter returns them but in their binary encoding, undecoded: how
// the exporter's direct OTLP Stream follows the store. It returns how many
// it appended. Each event's Seq is checked against its key, and its
// Source is read and checked against its digest; the rest of its bytes
// are not checked here (Verify does that), and whoever reads them must
// refuse what does not parse. Events removed by retention are skipped.
func (s *Store) AppendEncodedAfter(dst *otelaudit.EncodedEvents, after uint64, limit int) (n int, err error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	if dst == nil {
		return 0, fmt.Errorf("store: encoded events: nil destination")
	}
	defer guard()(&err)
	err = s.db.View(func(tx *bolt.Tx) error {
		r := reader{s: s, tx: tx}
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && (limit <= 0 || n < limit); k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			se, err := splitValue(seq, v)
			if err != nil {
				return err
			}
			if got, ok := wire.Seq(se.data); !ok || got != seq {
				return fmt.Errorf("%w: event %d: stored under the wrong key or not an event of this version", ErrCorrupt, seq)
			}
			src, err := r.source(se.src)
			if err != nil {
				return fmt.Errorf("event %d: %w", seq, err)
			}
			// bbolt's bytes live only as long as the transaction: Append
			// copies them.
			dst.Append(se.data, src)
			n++
		}
		return nil
	})
	return n, err
}
