package store_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

var testSource = otelaudit.NewSource(
	resource.NewSchemaless(attribute.String("service.name", "runtime")),
	instrumentation.Scope{Name: "agents", Version: "1.0.0"})

// testEvent is the i-th event of a test trail: three traces, two agents,
// alternating types, a Source on every other one.
func testEvent(i int) otelaudit.Event {
	e := otelaudit.Event{
		Type:          []otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeEnd, otelaudit.TrustDenied}[i%3],
		Time:          time.Unix(1_700_000_000+int64(i), 0),
		TraceID:       trace.TraceID{0xa, byte(i % 3)},
		SpanID:        trace.SpanID{byte(i + 1)},
		AgentID:       fmt.Sprintf("agent-%d", i%2),
		HumanOriginID: []string{"alice", "bob", ""}[i%3],
		Action:        "fetch",
		Attributes:    []attribute.KeyValue{attribute.Int("audit.i", i)},
	}
	if i%2 == 0 {
		e.Source = testSource
	}
	if e.Type == otelaudit.TrustDenied {
		e.Outcome = otelaudit.Denied
	}
	return e
}

func openStore(t *testing.T, path string, opts ...store.Option) *store.Store {
	t.Helper()
	st, err := store.Open(path, opts...)
	require.NoError(t, err)
	return st
}

// record writes n test events from index from through a Generator attached
// to the store at path, shuts it down, and returns what the Generator held.
func record(t *testing.T, path string, from, n int, gopts ...otelaudit.Option) []otelaudit.Event {
	t.Helper()
	g := otelaudit.NewGenerator(append([]otelaudit.Option{otelaudit.WithStore(openStore(t, path))}, gopts...)...)
	for i := from; i < from+n; i++ {
		_, err := g.Append(context.Background(), testEvent(i))
		require.NoError(t, err)
	}
	held := g.Events(0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, g.Shutdown(ctx))
	return held
}

func TestStoreRoundTripAndResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	first := record(t, path, 0, 10)
	second := record(t, path, 10, 5)
	require.Len(t, second, 5)
	assert.Equal(t, uint64(11), second[0].Seq, "numbering continues after reopening")
	assert.Equal(t, first[9].Hash, second[0].PrevHash, "the chain continues after reopening")

	st := openStore(t, path, store.WithReadOnly())
	defer st.Close()
	all, err := st.Events(store.Query{})
	require.NoError(t, err)
	require.Len(t, all, 15)
	assert.Equal(t, append(first, second...), all, "the store returns what the Generators held")
	require.NoError(t, otelaudit.VerifyChain(otelaudit.GenesisAnchor, all, nil, nil))
	assert.Equal(t, otelaudit.Anchor{Seq: 15, Hash: all[14].Hash}, st.Head())

	rep, err := st.Verify(nil, nil)
	require.NoError(t, err)
	assert.Equal(t, uint64(15), rep.Events)

	byTrace, err := st.EventsByTrace(trace.TraceID{0xa, 1})
	require.NoError(t, err)
	assert.Equal(t, []uint64{2, 5, 8, 11, 14}, seqsOf(byTrace))
	assert.Equal(t, "runtime", sourceName(all[0]))

	cases := []struct {
		name string
		q    store.Query
		want []uint64
	}{
		{"type", store.Query{Type: otelaudit.TrustDenied}, []uint64{3, 6, 9, 12, 15}},
		{"type, newest 2", store.Query{Type: otelaudit.TrustDenied, Limit: 2}, []uint64{12, 15}},
		{"agent", store.Query{AgentID: "agent-1", Limit: 3}, []uint64{10, 12, 14}},
		{"type and agent", store.Query{Type: otelaudit.NodeStart, AgentID: "agent-0"}, []uint64{1, 7, 13}},
		{"since, until", store.Query{Since: time.Unix(1_700_000_003, 0), Until: time.Unix(1_700_000_006, 0)}, []uint64{4, 5, 6}},
		{"newest 4", store.Query{Limit: 4}, []uint64{12, 13, 14, 15}},
		{"unknown type", store.Query{Type: "nope"}, nil},
		{"user", store.Query{HumanOriginID: "alice"}, []uint64{1, 4, 7, 10, 13}},
		{"user, newest 2", store.Query{HumanOriginID: "alice", Limit: 2}, []uint64{10, 13}},
		{"user and agent", store.Query{HumanOriginID: "bob", AgentID: "agent-0"}, []uint64{5, 11}},
		{"outcome", store.Query{Outcome: otelaudit.Denied, Limit: 2}, []uint64{12, 15}},
		{"no outcome", store.Query{Outcome: otelaudit.NoOutcome, AgentID: "agent-1", Limit: 3}, []uint64{8, 10, 14}},
		{"oldest 2 of a type", store.Query{Type: otelaudit.TrustDenied, Limit: 2, Oldest: true}, []uint64{3, 6}},
		{"oldest 3", store.Query{Limit: 3, Oldest: true}, []uint64{1, 2, 3}},
		{"oldest 2 of a trace", store.Query{TraceID: trace.TraceID{0xa, 1}, Limit: 2, Oldest: true}, []uint64{2, 5}},
		{"until is exclusive", store.Query{Until: time.Unix(1_700_000_003, 0)}, []uint64{1, 2, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.Events(tc.q)
			require.NoError(t, err)
			assert.Equal(t, tc.want, seqsOf(got))
		})
	}
	e, ok, err := st.Get(7)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, all[6], e)
	_, ok, err = st.Get(99)
	require.NoError(t, err)
	assert.False(t, ok)

	stats, err := st.Stats()
	require.NoError(t, err)
	assert.Equal(t, uint64(15), stats.Events)
	assert.Equal(t, 3, stats.Traces)
	assert.Equal(t, 1, stats.Sources)
	assert.Equal(t, 5, stats.Types[otelaudit.TrustDenied])
	assert.Equal(t, 8, stats.Agents["agent-0"])
}

func seqsOf(events []otelaudit.Event) []uint64 {
	var out []uint64
	for _, e := range events {
		out = append(out, e.Seq)
	}
	return out
}

func sourceName(e otelaudit.Event) string {
	v, _ := e.Source.Resource().Set().Value("service.name")
	return v.AsString()
}

func TestOpenRefusesWhatIsNotAStore(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	otherBolt := filepath.Join(dir, "other.db")
	db, err := bolt.Open(otherBolt, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err }))
	require.NoError(t, db.Close())

	newer := filepath.Join(dir, "newer.db")
	record(t, newer, 0, 2)
	db, err = bolt.Open(newer, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("otelaudit")).Put([]byte("format"), []byte{store.FormatVersion + 1})
	}))
	require.NoError(t, db.Close())

	valid := filepath.Join(dir, "valid.db")
	record(t, valid, 0, 20)
	data, err := os.ReadFile(valid)
	require.NoError(t, err)

	cases := []struct {
		name string
		path string
		opts []store.Option
		want error
	}{
		{"text file", write("notes.txt", []byte("hello, this is not a database\n")), nil, store.ErrNotStore},
		{"random bytes", write("random.db", make([]byte, 64<<10)), nil, store.ErrNotStore},
		{"truncated store", write("truncated.db", data[:4096+100]), []store.Option{store.WithReadOnly()}, nil},
		{"another bbolt database", otherBolt, nil, store.ErrNotStore},
		{"newer format", newer, nil, store.ErrNewerFormat},
		{"newer format, read-only", newer, []store.Option{store.WithReadOnly()}, store.ErrNewerFormat},
		{"missing, read-only", filepath.Join(dir, "missing.db"), []store.Option{store.WithReadOnly()}, os.ErrNotExist},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := store.Open(tc.path, tc.opts...)
			require.Error(t, err)
			assert.Nil(t, st)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
			}
			assert.Contains(t, err.Error(), filepath.Base(tc.path))
		})
	}
	t.Run("in use", func(t *testing.T) {
		st := openStore(t, valid)
		defer st.Close()
		_, err := store.Open(valid, store.WithLockTimeout(50*time.Millisecond))
		assert.ErrorIs(t, err, store.ErrInUse)
	})
}

// tamper opens the store file at path with bbolt directly, as an attacker
// with write access to it would, and runs fn in a write transaction.
func tamper(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(fn))
	require.NoError(t, db.Close())
}

func key(seq uint64) []byte {
	return []byte{0, 0, 0, 0, 0, 0, 0, byte(seq)}
}

func TestStoreTamperDetected(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	dir := t.TempDir()
	pristine := filepath.Join(dir, "pristine.db")
	// A checkpoint every 5 events (5, 10, 15, 20), and one of the head, 22,
	// at Shutdown.
	record(t, pristine, 0, 22, otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(5, time.Hour))
	st := openStore(t, pristine, store.WithReadOnly())
	cps, err := st.Checkpoints()
	require.NoError(t, err)
	rep, err := st.Verify(pub, nil)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	require.Equal(t, uint64(22), rep.Events)
	require.NotEmpty(t, cps)
	last := cps[len(cps)-1]
	require.Equal(t, []uint64{5, 10, 15, 20, 22}, cpSeqs(cps))

	events := []byte("events")
	flip := func(seq uint64, at int) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			b := tx.Bucket(events)
			v := append([]byte(nil), b.Get(key(seq))...)
			if at < 0 {
				at += len(v)
			}
			v[at] ^= 1
			return b.Put(key(seq), v)
		}
	}
	const dataAt = 96 // where the event's encoding starts in a value
	// Reads that must refuse what Open does not read.
	readAll := func(st *store.Store) error { _, err := st.Events(store.Query{}); return err }
	readTrace := func(st *store.Store) error {
		e, ok, err := st.Get(1)
		if err != nil || !ok {
			return fmt.Errorf("event 1: %v", err)
		}
		_, err = st.EventsByTrace(e.TraceID)
		return err
	}
	cases := []struct {
		name    string
		edit    func(tx *bolt.Tx) error
		extra   []otelaudit.Checkpoint
		wantSeq uint64
		// open: Open refuses it (it is in what Open reads: the signed
		// head's event, the tail, the meta, the Sources, the small
		// buckets). Otherwise read, when set, must fail on it; Verify
		// and Open WithFullVerify refuse it either way.
		open bool
		read func(st *store.Store) error
	}{
		{"change the agent of an event", flip(7, dataAt+61+1+len("node_end")+1+1+2), nil, 7, false, readAll},
		{"change the time of the first event", flip(1, dataAt+9), nil, 1, false, readAll},
		{"change an attribute of the last event", flip(22, -1), nil, 22, true, nil},
		{"change a stored hash", flip(12, 40), nil, 12, false, readAll},
		{"change a PrevHash", flip(9, 3), nil, 9, false, readAll},
		{"delete an event", func(tx *bolt.Tx) error { return tx.Bucket(events).Delete(key(13)) }, nil, 13, false, readAll},
		{"insert an event", func(tx *bolt.Tx) error {
			// Seq 23 would need a forged successor; the forger inserts a
			// copy of 10 under 11's key, moving the rest one up.
			b := tx.Bucket(events)
			for seq := uint64(22); seq >= 11; seq-- {
				if err := b.Put(key(seq+1), append([]byte(nil), b.Get(key(seq))...)); err != nil {
					return err
				}
			}
			return b.Put(key(11), append([]byte(nil), b.Get(key(10))...))
		}, nil, 11, true, nil},
		{"reorder two events", func(tx *bolt.Tx) error {
			b := tx.Bucket(events)
			v3, v4 := append([]byte(nil), b.Get(key(3))...), append([]byte(nil), b.Get(key(4))...)
			if err := b.Put(key(3), v4); err != nil {
				return err
			}
			return b.Put(key(4), v3)
		}, nil, 3, false, readAll},
		{"truncate the tail", func(tx *bolt.Tx) error {
			for seq := uint64(18); seq <= 22; seq++ {
				if err := tx.Bucket(events).Delete(key(seq)); err != nil {
					return err
				}
			}
			return nil
		}, nil, 18, true, nil},
		{"truncate the tail, head and stored checkpoints too", func(tx *bolt.Tx) error {
			// The forger cuts events 18-22, rewrites the head and deletes
			// every stored checkpoint and the signed head: only a
			// checkpoint kept elsewhere tells.
			b := tx.Bucket(events)
			for seq := uint64(18); seq <= 22; seq++ {
				if err := b.Delete(key(seq)); err != nil {
					return err
				}
			}
			v := b.Get(key(17))
			head := append(append([]byte(nil), key(17)...), v[32:64]...)
			if err := tx.Bucket([]byte("otelaudit")).Put([]byte("head"), head); err != nil {
				return err
			}
			if err := tx.Bucket([]byte("otelaudit")).Delete([]byte("signed")); err != nil {
				return err
			}
			if err := tx.DeleteBucket([]byte("checkpoints")); err != nil {
				return err
			}
			_, err := tx.CreateBucket([]byte("checkpoints"))
			return err
		}, []otelaudit.Checkpoint{last}, 18, false, nil},
		{"change a stored source", func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("sources"))
			k, v := b.Cursor().First()
			v = append([]byte(nil), v...)
			v[len(v)-1] ^= 1
			return b.Put(append([]byte(nil), k...), v)
		}, nil, 0, true, nil},
		{"delete a stored source", func(tx *bolt.Tx) error {
			// Every event of it would fail to read: its Source is part of
			// it.
			b := tx.Bucket([]byte("sources"))
			k, _ := b.Cursor().First()
			return b.Delete(append([]byte(nil), k...))
		}, nil, 1, false, readAll},
		{"remove an index entry", func(tx *bolt.Tx) error {
			// Hides a trace's events from EventsByTrace; the chain is intact.
			c := tx.Bucket([]byte("by_trace")).Cursor()
			k, _ := c.First()
			return tx.Bucket([]byte("by_trace")).Delete(append([]byte(nil), k...))
		}, nil, 0, false, nil},
		{"index an event that is not stored", func(tx *bolt.Tx) error {
			// A posting of seq 40 under an existing trace: EventsByTrace
			// would fail on it, so Verify must.
			c := tx.Bucket([]byte("by_trace")).Cursor()
			k, _ := c.First()
			nk := append(append([]byte(nil), k[:16]...), key(40)...)
			return tx.Bucket([]byte("by_trace")).Put(nk, []byte{1})
		}, nil, 0, false, readTrace},
		{"rewrite a trace's index entries so that they overlap", func(tx *bolt.Tx) error {
			// The same (trace, Seq) pairs, so every sum matches, in two
			// entries: the trace's second Seq alone, keyed after an entry
			// of all the others. A walk newest first meets it before the
			// later Seqs, and a query with a Limit returns it in place of
			// the newest event.
			b := tx.Bucket([]byte("by_trace"))
			first, _ := b.Cursor().First()
			prefix := append([]byte(nil), first[:16]...)
			var seqs []uint64
			c := b.Cursor()
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(prefix) {
				// A posting list: count, then the gaps after the first Seq.
				n, w := binary.Uvarint(v)
				s := binary.BigEndian.Uint64(k[16:])
				seqs = append(seqs, s)
				for rest := v[w:]; n > 1; n-- {
					d, w := binary.Uvarint(rest)
					s += d
					seqs = append(seqs, s)
					rest = rest[w:]
				}
				if err := c.Delete(); err != nil {
					return err
				}
			}
			if len(seqs) < 3 {
				return fmt.Errorf("trace %x has %d events", prefix, len(seqs))
			}
			posting := func(seqs []uint64) []byte {
				out := binary.AppendUvarint(nil, uint64(len(seqs)))
				for i := 1; i < len(seqs); i++ {
					out = binary.AppendUvarint(out, seqs[i]-seqs[i-1])
				}
				return out
			}
			if err := b.Put(append(bytes.Clone(prefix), key(seqs[0])...), posting(append([]uint64{seqs[0]}, seqs[2:]...))); err != nil {
				return err
			}
			return b.Put(append(bytes.Clone(prefix), key(seqs[1])...), posting(seqs[1:2]))
		}, nil, 0, false, readTrace},
		{"forge a checkpoint", func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("checkpoints"))
			v := append([]byte(nil), b.Get(key(10))...)
			v[9] ^= 1
			return b.Put(key(10), v)
		}, nil, 10, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.db")
			data, err := os.ReadFile(pristine)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, data, 0o600))
			tamper(t, path, tc.edit)

			// Opening for writing refuses it when it is in what Open
			// reads; otherwise the reads that reach it refuse it...
			w, err := store.Open(path)
			switch {
			case tc.extra != nil:
			case tc.open:
				require.ErrorIs(t, err, store.ErrCorrupt)
				require.ErrorIs(t, err, otelaudit.ErrChainBroken)
			default:
				require.NoError(t, err, "an event before the signed head is not Open's to read")
				if tc.read != nil {
					rerr := tc.read(w)
					require.ErrorIs(t, rerr, store.ErrCorrupt)
				}
			}
			if w != nil {
				require.NoError(t, w.Close())
			}
			// ...and WithFullVerify refuses it at Open, as Verify does.
			if tc.extra == nil {
				w, err := store.Open(path, store.WithFullVerify())
				if w != nil {
					require.NoError(t, w.Close())
				}
				require.ErrorIs(t, err, store.ErrCorrupt)
				require.ErrorIs(t, err, otelaudit.ErrChainBroken)
			}
			// ...read-only opens it for forensics, and Verify names the event.
			st, err := store.Open(path, store.WithReadOnly())
			require.NoError(t, err)
			defer st.Close()
			_, err = st.Verify(pub, tc.extra)
			require.ErrorIs(t, err, otelaudit.ErrChainBroken)
			var ce *otelaudit.ChainError
			if tc.wantSeq == 0 {
				assert.False(t, errors.As(err, &ce), "%v", err)
				return
			}
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.Equal(t, tc.wantSeq, ce.Seq, "%v", err)
		})
	}
}

// slowStore is a real store behind a gate: Write waits until the test lets
// it through, or fails while failing is set. It shows what the Generator
// does while its store falls behind or fails. The Generator's first Write,
// which reserves Seqs before any event (and has no records), goes through.
type slowStore struct {
	*store.Store
	gate    chan struct{}
	mu      sync.Mutex
	failing int
	writes  int
}

func (s *slowStore) Write(b otelaudit.Batch) error {
	if len(b.Events) == 0 && s.writes == 0 {
		s.writes++
		return s.Store.Write(b)
	}
	<-s.gate
	s.mu.Lock()
	s.writes++
	if s.failing > 0 {
		s.failing--
		s.mu.Unlock()
		return errors.New("disk on fire")
	}
	s.mu.Unlock()
	return s.Store.Write(b)
}

func TestGeneratorWaitsForAStoreThatFallsBehind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	slow := &slowStore{Store: openStore(t, path), gate: make(chan struct{})}
	g := otelaudit.NewGenerator(otelaudit.WithStore(slow), otelaudit.WithCapacity(4), otelaudit.WithStoreWait(50*time.Millisecond))
	ctx := context.Background()
	for i := range 4 {
		_, err := g.Append(ctx, testEvent(i))
		require.NoError(t, err)
	}
	// The ring is full of events the writer has not stored: the fifth waits
	// 50 ms, then is refused and counted.
	start := time.Now()
	_, err := g.Append(ctx, testEvent(4))
	require.ErrorIs(t, err, otelaudit.ErrStoreBehind)
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	assert.Equal(t, uint64(1), g.Stats().Rejected)

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err = g.ForceFlush(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "4 events not durable yet")

	// The store fails twice, then works: the writer retries, nothing is
	// skipped.
	slow.mu.Lock()
	slow.failing = 2
	slow.mu.Unlock()
	close(slow.gate)
	require.NoError(t, g.ForceFlush(ctx))
	stats := g.Stats()
	assert.Equal(t, uint64(4), stats.Durable)
	assert.Equal(t, uint64(2), stats.StoreErrors)
	// Durable events may be evicted again.
	_, err = g.Append(ctx, testEvent(5))
	require.NoError(t, err)
	require.NoError(t, g.Shutdown(ctx))
	_, err = g.Append(ctx, testEvent(6))
	require.ErrorIs(t, err, otelaudit.ErrShutdown)

	st := openStore(t, path, store.WithReadOnly())
	defer st.Close()
	all, err := st.Events(store.Query{})
	require.NoError(t, err)
	assert.Equal(t, []uint64{1, 2, 3, 4, 5}, seqsOf(all))
}

func TestRetention(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "audit.db")
	record(t, path, 0, 30, otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(5, time.Hour))

	t.Run("by count", func(t *testing.T) {
		st := openStore(t, path, store.WithRetention(0, 12))
		removed, err := st.Prune()
		require.NoError(t, err)
		assert.Equal(t, 18, removed)
		all, err := st.Events(store.Query{})
		require.NoError(t, err)
		assert.Equal(t, uint64(19), all[0].Seq)
		assert.Equal(t, otelaudit.Anchor{Seq: 18, Hash: all[0].PrevHash}, st.Anchor())
		_, err = st.Verify(pub, nil)
		require.NoError(t, err)
		cps, err := st.Checkpoints()
		require.NoError(t, err)
		assert.Equal(t, []uint64{20, 25, 30}, cpSeqs(cps))
		byTrace, err := st.EventsByTrace(trace.TraceID{0xa, 0})
		require.NoError(t, err)
		assert.Equal(t, []uint64{19, 22, 25, 28}, seqsOf(byTrace), "index entries of removed events are gone")
		require.NoError(t, st.Close())
	})
	t.Run("by age, by when the store committed, whatever the events say", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "age.db")
		start := time.Unix(1_800_000_000, 0)
		var mu sync.Mutex
		now := start
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		set := func(d time.Duration) { mu.Lock(); now = start.Add(d); mu.Unlock() }
		future, past := start.Add(1000*time.Hour), start.Add(-1000*time.Hour)
		st, err := store.Open(path, store.WithRetention(150*time.Second, 0), store.WithClock(clock))
		require.NoError(t, err)
		g := otelaudit.NewGenerator(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
		ctx := context.Background()
		commit := func(times ...time.Time) {
			for _, at := range times {
				_, err := g.Append(ctx, otelaudit.Event{Type: otelaudit.NodeEnd, Time: at})
				require.NoError(t, err)
			}
			require.NoError(t, g.ForceFlush(ctx))
		}
		// Three commits, 100 s apart, of events stamped anywhere: one far
		// in the future first (by event time it would keep everything
		// after it forever), ones long ago last (by event time they would
		// go at once).
		commit(future, past) // seqs 1, 2
		set(100 * time.Second)
		commit(past, past) // 3, 4
		set(200 * time.Second)
		commit(future) // 5: the first commit is now 200 s old and goes
		require.NoError(t, g.Shutdown(ctx))

		st = openStore(t, path, store.WithReadOnly())
		all, err := st.Events(store.Query{})
		require.NoError(t, err)
		assert.Equal(t, []uint64{3, 4, 5}, seqsOf(all), "the first commit is gone, the others are not")
		_, err = st.Verify(pub, nil)
		require.NoError(t, err)
		require.NoError(t, st.Close())

		set(320 * time.Second) // the second commit is 220 s old, the third 120 s
		st, err = store.Open(path, store.WithRetention(150*time.Second, 0), store.WithClock(clock))
		require.NoError(t, err)
		removed, err := st.Prune()
		require.NoError(t, err)
		assert.Equal(t, 2, removed)
		all, err = st.Events(store.Query{})
		require.NoError(t, err)
		assert.Equal(t, []uint64{5}, seqsOf(all))
		_, err = st.Verify(pub, nil)
		require.NoError(t, err)
		require.NoError(t, st.Close())
	})
}

func cpSeqs(cps []otelaudit.Checkpoint) []uint64 {
	var out []uint64
	for _, c := range cps {
		out = append(out, c.Seq)
	}
	return out
}

// A Record waiting for room when Shutdown comes is refused, and nothing not
// yet durable is evicted for it.
func TestShutdownWhileWaitingForRoom(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	slow := &slowStore{Store: openStore(t, path), gate: make(chan struct{})}
	g := otelaudit.NewGenerator(otelaudit.WithStore(slow), otelaudit.WithCapacity(4), otelaudit.WithStoreWait(10*time.Second))
	ctx := context.Background()
	for i := range 4 {
		_, err := g.Append(ctx, testEvent(i))
		require.NoError(t, err)
	}
	waiting := make(chan error, 1)
	go func() {
		_, err := g.Append(ctx, testEvent(4))
		waiting <- err
	}()
	require.Eventually(t, func() bool { return g.Stats().LastSeq == 4 }, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let the fifth Append reach its wait
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.Error(t, g.Shutdown(short), "the store never took the events")
	select {
	case err := <-waiting:
		require.ErrorIs(t, err, otelaudit.ErrShutdown)
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting Append did not return after Shutdown")
	}
	st := g.Stats()
	assert.Zero(t, st.Evicted, "nothing not yet durable was evicted")
	assert.Equal(t, uint64(4), st.LastSeq)
	assert.Equal(t, []uint64{1, 2, 3, 4}, seqsOf(g.Events(0)))
	close(slow.gate)
}

// Clear with a store returns under steady load: it waits for the events
// held when it was called, not for a moment when all are durable.
func TestClearUnderLoad(t *testing.T) {
	// A ring of 8,192: Clear waits for at most that many events to become
	// durable, which a loaded machine under -race does within the bound.
	g := otelaudit.NewGenerator(otelaudit.WithStore(openStore(t, filepath.Join(t.TempDir(), "audit.db"))),
		otelaudit.WithStoreWait(time.Minute), otelaudit.WithCapacity(8192))
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := g.Append(ctx, testEvent(w*1_000_000+i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	for range 3 {
		done := make(chan struct{})
		go func() { g.Clear(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Clear did not return under load")
		}
	}
	close(stop)
	wg.Wait()
	require.NoError(t, g.Shutdown(ctx))
	st := g.Stats()
	// (Cleared may be 0: with the ring full, durable events are evicted as
	// soon as they are durable, and Clear finds none left to drop.)
	assert.Equal(t, st.Recorded, uint64(st.Len)+st.Evicted+st.Cleared)
	assert.Equal(t, st.LastSeq, st.Durable, "everything reached the store")
}

// Deleting the oldest events and moving the anchor past them is what
// retention does, and a forger can do the same: the chain from the new
// anchor verifies. Verify says where the trail starts now and how many
// checkpoints vouch for events before it, so that a verifier who expects
// the whole trail can tell.
func TestStoreOldestEventsRemoved(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "audit.db")
	record(t, path, 0, 30, otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(5, time.Hour))
	st := openStore(t, path, store.WithReadOnly())
	kept, err := st.Checkpoints() // copies kept elsewhere: 5, 10, ..., 30
	require.NoError(t, err)
	require.NoError(t, st.Close())

	st = openStore(t, path, store.WithRetention(0, 20))
	_, err = st.Prune()
	require.NoError(t, err)
	rep, err := st.Verify(pub, kept)
	require.NoError(t, err, "the rest still verifies")
	assert.Equal(t, uint64(10), rep.Anchor.Seq, "but the trail starts after seq 10")
	assert.Equal(t, 1, rep.Older, "and the kept checkpoint of seq 5 vouches for events no longer there")
	assert.Equal(t, uint64(20), rep.Events)
	require.NoError(t, st.Close())
}
