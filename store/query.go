package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Query selects stored events; zero fields select everything. Values are
// compared as stored: with pseudonyms (otelaudit.WithPseudonyms), look a
// clear value up by its pseudonym (otelaudit.Pseudonym).
type Query struct {
	Type          otelaudit.EventType
	AgentID       string
	HumanOriginID string
	TraceID       trace.TraceID
	// Outcome selects events with this outcome; otelaudit.NoOutcome those
	// without one.
	Outcome otelaudit.Outcome
	// Since and Until bound the event Time: Since <= Time < Until (until
	// is exclusive, as in every query of the project).
	Since, Until time.Time
	// Limit keeps the newest Limit matching events (the oldest, with
	// Oldest); <= 0 keeps all.
	Limit  int
	Oldest bool
}

// match reports whether the event encoded in data passes q, reading its
// fields in place.
func (q *Query) match(data []byte) (bool, error) {
	f, err := wire.ReadFields(data)
	if err != nil {
		return false, err
	}
	t := time.Unix(f.Sec, int64(f.Nsec))
	out := string(f.Strings[wire.StrOutcome])
	return (q.Type == "" || string(f.Strings[wire.StrType]) == string(q.Type)) &&
		(q.AgentID == "" || string(f.Strings[wire.StrAgent]) == q.AgentID) &&
		(q.HumanOriginID == "" || string(f.Strings[wire.StrHumanOrigin]) == q.HumanOriginID) &&
		(!q.TraceID.IsValid() || f.TraceID == q.TraceID) &&
		(q.Outcome == "" || q.Outcome == otelaudit.NoOutcome && out == "" || out == string(q.Outcome)) &&
		(q.Since.IsZero() || !t.Before(q.Since)) &&
		(q.Until.IsZero() || t.Before(q.Until)), nil
}

// Events returns the stored events q selects, oldest first: the newest
// q.Limit of them when q.Limit > 0 (the oldest, with q.Oldest). A trace
// ID, type or agent is looked up in its index, walked from the end the
// query asks for; every other filter (user, outcome, times) is read in
// place from each event the walk passes, and only the events returned are
// decoded. A query by user, outcome or time alone walks every stored
// event, reading each in place, until it has its limit.
func (s *Store) Events(q Query) (out []otelaudit.Event, err error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	defer guard()(&err)
	err = s.db.View(func(tx *bolt.Tx) error {
		r := reader{s: s, tx: tx}
		events := tx.Bucket(bucketEvents)
		// One cursor for every lookup: Bucket.Get makes one per call.
		cur := events.Cursor()
		var key [8]byte
		take := func(seq uint64) (bool, error) {
			binary.BigEndian.PutUint64(key[:], seq)
			k, v := cur.Seek(key[:])
			if !bytes.Equal(k, key[:]) {
				return false, fmt.Errorf("%w: event %d is indexed but missing", ErrCorrupt, seq)
			}
			se, err := splitValue(seq, v)
			if err != nil {
				return false, err
			}
			ok, err := q.match(se.data)
			if err != nil {
				return false, fmt.Errorf("%w: event %d: %w", ErrCorrupt, seq, err)
			}
			if ok {
				e, err := r.decode(seq, se)
				if err != nil {
					return false, err
				}
				out = append(out, e)
			}
			return q.Limit > 0 && len(out) >= q.Limit, nil
		}
		switch {
		case q.TraceID.IsValid():
			err = walkIndex(tx.Bucket(bucketByTrace), tracePrefix(q.TraceID), q.Oldest, take)
		case q.Type != "":
			err = walkIndex(tx.Bucket(bucketByType), stringPrefix(string(q.Type)), q.Oldest, take)
		case q.AgentID != "":
			err = walkIndex(tx.Bucket(bucketByAgent), stringPrefix(q.AgentID), q.Oldest, take)
		default:
			c := tx.Bucket(bucketEvents).Cursor()
			first, next := c.Last, c.Prev
			if q.Oldest {
				first, next = c.First, c.Next
			}
			for k, _ := first(); k != nil; k, _ = next() {
				done, err := take(binary.BigEndian.Uint64(k))
				if err != nil || done {
					return err
				}
			}
		}
		return err
	})
	if !q.Oldest {
		slices.Reverse(out)
	}
	return out, err
}

// EventsByTrace returns the stored events of trace id, oldest first: an
// index lookup, however large the store.
func (s *Store) EventsByTrace(id trace.TraceID) ([]otelaudit.Event, error) {
	if !id.IsValid() {
		return nil, nil
	}
	return s.Events(Query{TraceID: id})
}

// Get returns stored event seq; ok is false when there is none.
func (s *Store) Get(seq uint64) (e otelaudit.Event, ok bool, err error) {
	if err := s.usable(); err != nil {
		return e, false, err
	}
	defer guard()(&err)
	err = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketEvents).Get(seqKey(seq)) == nil {
			return nil
		}
		r := reader{s: s, tx: tx}
		e, err = r.event(seq)
		ok = err == nil
		return err
	})
	return e, ok, err
}

// Checkpoints returns the stored checkpoints, oldest first: those kept in
// the checkpoints bucket and the newest commit's signed head.
func (s *Store) Checkpoints() (out []otelaudit.Checkpoint, err error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	defer guard()(&err)
	err = s.db.View(func(tx *bolt.Tx) error {
		out, err = readCheckpoints(tx)
		return err
	})
	return out, err
}

// readCheckpoints reads the checkpoints bucket and the signed head, oldest
// first; the signed head is left out when the bucket has the same one.
func readCheckpoints(tx *bolt.Tx) (out []otelaudit.Checkpoint, err error) {
	err = walkBucket(tx.Bucket(bucketCheckpoints), bucketCheckpoints, func(k, v []byte) error {
		c, err := decodeCheckpoint(k, v)
		out = append(out, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	head, ok, err := decodeSigned(tx.Bucket(bucketMeta).Get(keySigned))
	if err != nil || !ok {
		return out, err
	}
	i, found := slices.BinarySearchFunc(out, head.Seq, func(c otelaudit.Checkpoint, seq uint64) int { return cmp.Compare(c.Seq, seq) })
	if found && out[i].Hash == head.Hash && out[i].Time.Equal(head.Time) && bytes.Equal(out[i].Signature, head.Signature) {
		return out, nil
	}
	if found {
		i++
	}
	return slices.Insert(out, i, head), nil
}

// reader decodes stored events within one transaction.
type reader struct {
	s  *Store
	tx *bolt.Tx
}

// event decodes stored event seq with its hashes and Source.
func (r reader) event(seq uint64) (otelaudit.Event, error) {
	v := r.tx.Bucket(bucketEvents).Get(seqKey(seq))
	if v == nil {
		return otelaudit.Event{}, fmt.Errorf("%w: event %d is indexed but missing", ErrCorrupt, seq)
	}
	se, err := splitValue(seq, v)
	if err != nil {
		return otelaudit.Event{}, err
	}
	return r.decode(seq, se)
}

// decode decodes stored event seq, split from its value, with its hashes
// and Source.
func (r reader) decode(seq uint64, se storedEvent) (otelaudit.Event, error) {
	var e otelaudit.Event
	if err := e.UnmarshalBinary(se.data); err != nil {
		return otelaudit.Event{}, fmt.Errorf("%w: event %d: %w", ErrCorrupt, seq, err)
	}
	if e.Seq != seq {
		return otelaudit.Event{}, fmt.Errorf("%w: event %d is stored under key %d", ErrCorrupt, e.Seq, seq)
	}
	e.PrevHash, e.Hash = se.prev, se.hash
	var err error
	if e.Source, err = r.source(se.src); err != nil {
		return otelaudit.Event{}, fmt.Errorf("event %d: %w", seq, err)
	}
	return e, nil
}

// source returns the stored Source of digest d, decoding each once.
func (r reader) source(d otelaudit.Hash) (*otelaudit.Source, error) {
	if d == (otelaudit.Hash{}) {
		return nil, nil
	}
	r.s.srcMu.Lock()
	src, ok := r.s.sources[d]
	r.s.srcMu.Unlock()
	if ok {
		return src, nil
	}
	b := r.tx.Bucket(bucketSources).Get(d[:])
	if b == nil {
		return nil, fmt.Errorf("%w: source %s missing", ErrCorrupt, d)
	}
	src, err := otelaudit.UnmarshalSource(b)
	if err != nil {
		return nil, fmt.Errorf("%w: source %s: %w", ErrCorrupt, d, err)
	}
	if src.Digest() != d {
		return nil, fmt.Errorf("%w: source %s does not match its digest", ErrCorrupt, d)
	}
	r.s.addSource(d, src)
	return src, nil
}

// CheckpointsAfter returns the stored milestone checkpoints of Seqs in
// (after, upTo], oldest first: what a Stream ships beside the events it
// exported (see exporter.NewStream).
func (s *Store) CheckpointsAfter(after, upTo uint64) (out []otelaudit.Checkpoint, err error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	defer guard()(&err)
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketCheckpoints).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil; k, v = c.Next() {
			cp, err := decodeCheckpoint(k, v)
			if err != nil {
				return err
			}
			if cp.Seq > upTo {
				break
			}
			out = append(out, cp)
		}
		return nil
	})
	return out, err
}
