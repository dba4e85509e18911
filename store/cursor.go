package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// EventsAfter returns the stored events with Seq greater than after, oldest
// first, at most limit of them when limit > 0: how a streaming exporter
// follows the store. Events removed by retention are skipped.
func (s *Store) EventsAfter(after uint64, limit int) (out []otelaudit.Event, err error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	defer guard()(&err)
	err = s.db.View(func(tx *bolt.Tx) error {
		r := newReader(s, tx)
		c := tx.Bucket(bucketEvents).Cursor()
		for k, _ := c.Seek(seqKey(after + 1)); k != nil && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
			e, err := r.event(binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			// Each event chains to the one before it: a follower never
			// skips an event removed from the middle.
			if n := len(out); n > 0 && e.PrevHash != out[n-1].Hash {
				return fmt.Errorf("%w: %w", ErrCorrupt, &otelaudit.ChainError{Seq: e.Seq, Reason: fmt.Sprintf("does not chain to seq %d, the event stored before it (run Verify)", out[n-1].Seq)})
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// LastSeq returns the Seq of the newest stored event.
func (s *Store) LastSeq() (uint64, error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	return s.Head().Seq, nil
}

// Cursor returns the Seq saved under name by SetCursor, 0 if none: where a
// follower, a streaming exporter say, stopped.
func (s *Store) Cursor(name string) (seq uint64, err error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	defer guard()(&err)
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketCursors).Get([]byte(name))
		switch {
		case v == nil:
			return nil
		case len(v) != 8:
			return fmt.Errorf("%w: cursor %q of %d bytes", ErrCorrupt, name, len(v))
		}
		seq = binary.BigEndian.Uint64(v)
		return nil
	})
	return seq, err
}

// SetCursor durably saves seq under name (one small transaction, fsync'd).
func (s *Store) SetCursor(name string, seq uint64) (err error) {
	if name == "" {
		return fmt.Errorf("store: empty cursor name")
	}
	if err := s.usable(); err != nil {
		return err
	}
	if s.cfg.readOnly {
		return ErrReadOnly
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	defer guard()(&err)
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCursors).Put([]byte(name), seqKey(seq))
	})
}
