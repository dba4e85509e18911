package store_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// crashed records n events through a Generator on the store at path, makes
// them durable, and then loses the store under it before Shutdown can
// release the Seqs it reserved, as a process killed at that moment would.
// It returns the last durable Seq.
func crashed(t *testing.T, path string, n int, opts ...otelaudit.Option) uint64 {
	t.Helper()
	st := openStore(t, path)
	g, err := otelaudit.New(append([]otelaudit.Option{otelaudit.WithStore(st), otelaudit.WithCapacity(64), otelaudit.WithStoreWait(10 * time.Second)}, opts...)...)
	require.NoError(t, err)
	for i := range n {
		_, err := g.Append(context.Background(), testEvent(i))
		require.NoError(t, err)
	}
	require.NoError(t, g.ForceFlush(context.Background()))
	last := g.Stats().Durable
	require.NoError(t, st.Close())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = g.Shutdown(ctx)
	return last
}

func TestCrashLeavesARecordedGap(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "audit.db")
	head := crashed(t, path, 10, otelaudit.WithSigningKey(priv))
	require.Equal(t, uint64(10), head)

	st := openStore(t, path, store.WithReadOnly())
	stats, err := st.Stats()
	require.NoError(t, err)
	assert.Equal(t, uint64(10+64), stats.Reserved, "the last commit reserved its Seq plus the capacity")
	require.NoError(t, st.Close())

	// The next run records the Seqs the crashed one reserved and numbers
	// after them.
	next := record(t, path, 10, 3, otelaudit.WithSigningKey(priv))
	assert.Equal(t, []uint64{76, 77, 78}, seqsOf(next), "seq 75 is the record of 11 to 74")
	st = openStore(t, path, store.WithReadOnly())
	defer st.Close()
	rep, err := st.Verify(pub, nil)
	require.NoError(t, err)
	require.Len(t, rep.Gaps, 1)
	g := rep.Gaps[0]
	assert.Equal(t, otelaudit.Gap{Seq: 75, First: 11, Last: 74, Restart: g.Restart, LastCommit: g.LastCommit}, g)
	assert.False(t, g.LastCommit.IsZero())
	assert.False(t, g.Restart.Before(g.LastCommit))
	rec, ok, err := st.Get(75)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, otelaudit.SeqGap, rec.Type)
	assert.Equal(t, head, rec.Seq-65, "the record follows the lost Seqs")
	stats, err = st.Stats()
	require.NoError(t, err)
	assert.Equal(t, stats.Head.Seq, stats.Reserved, "a clean Shutdown releases what it reserved")
	all, err := st.Events(store.Query{})
	require.NoError(t, err)
	require.NoError(t, otelaudit.VerifyChain(otelaudit.GenesisAnchor, all, nil, nil), "queries' events verify across the gap too")

	// A gap no record accounts for is a missing event, and a record of a
	// gap that is not there is no better.
	for name, edit := range map[string]func(tx *bolt.Tx) error{
		"the gap record deleted": func(tx *bolt.Tx) error { return tx.Bucket([]byte("events")).Delete(key(75)) },
		"the gap record moved":   func(tx *bolt.Tx) error { return moveEvent(tx, 75, 11) },
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "audit.db")
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, data, 0o600))
			tamper(t, p, edit)
			// Before the signed head: Open does not read it, a scan
			// of the trail refuses it, and Verify, or Open
			// WithFullVerify, names the first Seq it leaves missing.
			st, err := store.Open(p)
			require.NoError(t, err)
			_, err = st.Events(store.Query{})
			require.ErrorIs(t, err, store.ErrCorrupt)
			require.NoError(t, st.Close())
			_, err = store.Open(p, store.WithFullVerify())
			require.ErrorIs(t, err, otelaudit.ErrChainBroken)
			var ce *otelaudit.ChainError
			require.True(t, errors.As(err, &ce))
			assert.Equal(t, uint64(11), ce.Seq, "%v", err)
		})
	}
}

func moveEvent(tx *bolt.Tx, from, to uint64) error {
	b := tx.Bucket([]byte("events"))
	v := append([]byte(nil), b.Get(key(from))...)
	if err := b.Delete(key(from)); err != nil {
		return err
	}
	return b.Put(key(to), v)
}

func TestResumeWithAKey(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	_, other, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "audit.db")
	record(t, path, 0, 5, otelaudit.WithSigningKey(priv))

	// A Generator that cannot continue a store leaves it to its caller.
	st := openStore(t, path, store.WithPublicKey(pub))
	_, err = otelaudit.New(otelaudit.WithStore(st))
	require.ErrorIs(t, err, store.ErrUnsigned, "a store opened for a key takes no keyless Generator")
	require.NoError(t, st.Close())

	st = openStore(t, path, store.WithPublicKey(pub))
	_, err = otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(other))
	require.ErrorIs(t, err, store.ErrUnsigned, "nor one signing with another key")
	require.NoError(t, st.Close())

	st = openStore(t, path)
	_, err = otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(other))
	require.ErrorIs(t, err, store.ErrUnsigned, "another key never signed this head")
	require.NoError(t, st.Close())

	st = openStore(t, path, store.WithPublicKey(pub))
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.NoError(t, err)
	_, err = otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.Error(t, err, "a store has one Generator")
	require.NoError(t, g.Shutdown(context.Background()))

	// A keyless Write to a store opened for a key is refused too.
	st = openStore(t, path, store.WithPublicKey(pub))
	defer st.Close()
	err = st.Write(otelaudit.Batch{Events: []otelaudit.SealedEvent{{Seq: 6, PrevHash: st.Head().Hash}}, Reserved: 6})
	require.ErrorIs(t, err, store.ErrUnsigned)
}

func TestNilAndZeroStore(t *testing.T) {
	for name, st := range map[string]*store.Store{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			_, err := otelaudit.New(otelaudit.WithStore(st))
			require.ErrorIs(t, err, otelaudit.ErrStoreRefused)
			require.ErrorIs(t, err, store.ErrNotOpen)

			g := otelaudit.NewGenerator(otelaudit.WithStore(st))
			_, err = g.Append(context.Background(), testEvent(0))
			require.ErrorIs(t, err, store.ErrNotOpen)
			require.ErrorIs(t, g.ForceFlush(context.Background()), store.ErrNotOpen)
			assert.NoError(t, g.Shutdown(context.Background()))

			_, err = st.Events(store.Query{})
			assert.ErrorIs(t, err, store.ErrNotOpen)
			_, err = st.Verify(nil, nil)
			assert.ErrorIs(t, err, store.ErrNotOpen)
			_, err = st.Stats()
			assert.ErrorIs(t, err, store.ErrNotOpen)
			assert.ErrorIs(t, st.Write(otelaudit.Batch{}), store.ErrNotOpen)
			_, err = st.Prune()
			assert.ErrorIs(t, err, store.ErrNotOpen)
			_, err = st.EventsAfter(0, 1)
			assert.ErrorIs(t, err, store.ErrNotOpen)
			assert.ErrorIs(t, st.SetCursor("x", 1), store.ErrNotOpen)
			_, err = st.Checkpoints()
			assert.ErrorIs(t, err, store.ErrNotOpen)
			assert.ErrorIs(t, st.Close(), store.ErrNotOpen)
			assert.Equal(t, otelaudit.Anchor{}, st.Head())
		})
	}
	// A nil Store interface is no store at all: a documented no-op.
	g, err := otelaudit.New(otelaudit.WithStore(nil))
	require.NoError(t, err)
	_, err = g.Append(context.Background(), testEvent(0))
	require.NoError(t, err)
}

func TestOpenRefusesFormatOneAndTruncations(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.db")
	record(t, path, 0, 200)
	data, err := os.ReadFile(path)
	require.NoError(t, err)

	v1 := filepath.Join(dir, "v1.db")
	require.NoError(t, os.WriteFile(v1, data, 0o600))
	tamper(t, v1, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("otelaudit")).Put([]byte("format"), []byte{1})
	})
	for _, opts := range [][]store.Option{nil, {store.WithReadOnly()}} {
		_, err := store.Open(v1, opts...)
		require.ErrorIs(t, err, store.ErrOldFormat)
		assert.Contains(t, err.Error(), "read it with the release that wrote it")
	}

	// Cut at any page boundary the meta still counts, the file is refused
	// before bbolt maps it: reading past its end would fault.
	cut := filepath.Join(dir, "cut.db")
	for _, size := range []int{4096 * 4, len(data) / 2 / 4096 * 4096} {
		require.NoError(t, os.WriteFile(cut, data[:size], 0o600))
		for _, opts := range [][]store.Option{nil, {store.WithReadOnly()}} {
			_, err := store.Open(cut, opts...)
			require.ErrorIs(t, err, store.ErrCorrupt)
			assert.Contains(t, err.Error(), "is truncated")
		}
	}
}

// TestEmptiedStoreWithAKey: a store whose every event is gone has nothing
// but its anchor to say where the next run chains. Retention that removed
// everything leaves the newest commit's signed checkpoint, of that anchor,
// and a run with the key continues; an anchor nobody signed (the events
// and checkpoints deleted, the anchor set by hand) is refused, whichever
// way the store was opened.
func TestEmptiedStoreWithAKey(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	dir := t.TempDir()

	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	retained := filepath.Join(dir, "retained.db")
	st := openStore(t, retained, store.WithRetention(time.Hour, 0), store.WithClock(clock))
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.NoError(t, err)
	for i := range 5 {
		_, err := g.Append(context.Background(), testEvent(i))
		require.NoError(t, err)
	}
	require.NoError(t, g.Shutdown(context.Background()))
	now = now.Add(2 * time.Hour)
	st = openStore(t, retained, store.WithRetention(time.Hour, 0), store.WithClock(clock), store.WithPublicKey(pub))
	removed, err := st.Prune()
	require.NoError(t, err)
	require.Equal(t, 5, removed)
	require.Equal(t, st.Head(), st.Anchor(), "every event removed")
	require.NoError(t, st.Close())
	st = openStore(t, retained, store.WithPublicKey(pub))
	g, err = otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.NoError(t, err, "retention's empty store continues")
	_, err = g.Record(context.Background(), testEvent(5))
	require.NoError(t, err)
	require.NoError(t, g.Shutdown(context.Background()))
	st = openStore(t, retained, store.WithReadOnly())
	rep, err := st.Verify(pub, nil)
	require.NoError(t, err)
	assert.Equal(t, uint64(6), rep.Head.Seq)
	require.NoError(t, st.Close())

	forged := filepath.Join(dir, "forged.db")
	record(t, forged, 0, 5, otelaudit.WithSigningKey(priv))
	tamper(t, forged, func(tx *bolt.Tx) error {
		for _, name := range []string{"events", "by_trace", "by_type", "by_agent", "checkpoints", "commits"} {
			if err := tx.DeleteBucket([]byte(name)); err != nil {
				return err
			}
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		meta := tx.Bucket([]byte("otelaudit"))
		anchor := append(key(3), 0xF0)
		anchor = append(anchor, make([]byte, 31)...)
		for k, v := range map[string][]byte{"anchor": anchor, "head": anchor, "reserved": key(3)} {
			if err := meta.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return meta.Delete([]byte("signed"))
	})
	_, err = store.Open(forged, store.WithPublicKey(pub))
	require.ErrorIs(t, err, store.ErrUnsigned)
	st = openStore(t, forged)
	_, err = otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.ErrorIs(t, err, store.ErrUnsigned, "a Generator with the key does not chain to an anchor nobody signed")
	require.NoError(t, st.Close())
}

// TestOpenRefusesAKeyOfTheWrongSize: a key that is not an ed25519 public
// key (a private key passed by mistake, one read in the wrong encoding)
// must not open a store as if no key had been given: that would skip the
// very check the key was given for.
func TestOpenRefusesAKeyOfTheWrongSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	record(t, path, 0, 3) // unsigned: a key would refuse it
	_, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	for name, k := range map[string][]byte{"private": priv, "short": priv[:31], "empty": {}} {
		t.Run(name, func(t *testing.T) {
			st, err := store.Open(path, store.WithPublicKey(ed25519.PublicKey(k)))
			if st != nil {
				require.NoError(t, st.Close())
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "public key of")
		})
	}
	st := openStore(t, path, store.WithPublicKey(nil))
	require.NoError(t, st.Close(), "a nil key is no key")
}
