package store

import (
	"encoding/binary"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Stats describes a store.
type Stats struct {
	Path   string
	Format int
	// Anchor and Head bound the stored events: Seqs Anchor.Seq+1 to
	// Head.Seq, Events of them (fewer where Seqs were lost to a crash).
	Anchor, Head otelaudit.Anchor
	Events       uint64
	// Reserved is the highest Seq reserved by the last run: Head.Seq after
	// a clean Shutdown; more while a Generator runs, or after a crash,
	// when the next run records the Seqs past Head.Seq as lost.
	Reserved    uint64
	Traces      int // distinct trace IDs stored
	Sources     int
	Checkpoints int
	// Types and Agents count stored events per type and per agent.
	Types  map[otelaudit.EventType]int
	Agents map[string]int
	// FileSize is the size of the file in bytes.
	FileSize int64
}

// Stats counts what the store holds. It walks the indexes: its cost grows
// with the number of events.
func (s *Store) Stats() (st Stats, err error) {
	if err := s.usable(); err != nil {
		return st, err
	}
	defer guard()(&err)
	st = Stats{Path: s.path, Format: FormatVersion, Types: map[otelaudit.EventType]int{}, Agents: map[string]int{}}
	err = s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		var err error
		if st.Anchor, err = decodeAnchor(meta.Get(keyAnchor)); err != nil {
			return err
		}
		if st.Head, err = decodeAnchor(meta.Get(keyHead)); err != nil {
			return err
		}
		if st.Reserved, err = decodeSeq("reservation", meta.Get(keyReserved)); err != nil {
			return err
		}
		st.Events = uint64(tx.Bucket(bucketEvents).Stats().KeyN)
		st.Sources = tx.Bucket(bucketSources).Stats().KeyN
		cps, err := readCheckpoints(tx)
		if err != nil {
			return err
		}
		st.Checkpoints = len(cps)
		var last []byte
		err = tx.Bucket(bucketByTrace).ForEach(func(k, _ []byte) error {
			if len(k) == 24 && (last == nil || string(last) != string(k[:16])) {
				st.Traces++
				last = append(last[:0], k[:16]...)
			}
			return nil
		})
		if err != nil {
			return err
		}
		// An entry's value starts with its number of events.
		count := func(b []byte, fn func(string, int)) error {
			return tx.Bucket(b).ForEach(func(k, v []byte) error {
				key, ok := prefixString(k)
				n, w := binary.Uvarint(v)
				if !ok || w <= 0 {
					return fmt.Errorf("%w: index entry in %s", ErrCorrupt, b)
				}
				fn(key, int(n))
				return nil
			})
		}
		if err := count(bucketByType, func(k string, n int) { st.Types[otelaudit.EventType(k)] += n }); err != nil {
			return err
		}
		return count(bucketByAgent, func(k string, n int) { st.Agents[k] += n })
	})
	if fi, ferr := os.Stat(s.path); ferr == nil {
		st.FileSize = fi.Size()
	}
	return st, err
}
