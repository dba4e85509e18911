package store_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
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

// The attacker of these tests writes the store file with bbolt and has no
// key. Open reads the tail after the newest checkpoint the key signed (in
// a store written with the key, none: the head is signed) and the state
// the next run continues from; every read checks the events it returns
// against the Merkle tree Open verified. Each attack must be refused by
// Open, or, when it lies before the signed head, by every read that
// reaches it and by Verify, while the rest of the trail stays readable.

const openTestEvents = 600 // three level-0 tiles

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// signedStore writes openTestEvents events with a signing key, a milestone
// every 100, and returns a pristine copy's path.
func signedStore(t *testing.T) (string, ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "pristine.db")
	record(t, path, 0, openTestEvents, otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(100, time.Hour))
	return path, pub, priv
}

func copyOf(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "audit.db")
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// editEvent changes the encoding of event seq where it holds "fetch"; with
// rehash, it also stores the Hash the new contents give, as anyone can.
func editEvent(seq uint64, rehash bool) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("events"))
		v := bytes.Clone(b.Get(seqKey(seq)))
		i := bytes.Index(v[104:], []byte("fetch"))
		if i < 0 {
			return errors.New("no action to change")
		}
		v[104+i] = 'F'
		if rehash {
			h := otelaudit.ChainHash(otelaudit.Hash(v[0:32]), otelaudit.Hash(v[64:96]), v[104:])
			copy(v[32:64], h[:])
		}
		return b.Put(seqKey(seq), v)
	}
}

func chainSeq(t *testing.T, err error) uint64 {
	t.Helper()
	var ce *otelaudit.ChainError
	require.True(t, errors.As(err, &ce), "%v", err)
	return ce.Seq
}

func TestOpenChecksTheTail(t *testing.T) {
	pristine, pub, priv := signedStore(t)
	const old = 300 // in the second tile, long before the signed head

	// What a read of an event before the signed head must do, after an
	// attack Open does not see: refuse it (with the rest of its tile, when
	// the tile is what changed), and still read the rest.
	refusedOnRead := func(t *testing.T, path string, seq uint64, tile bool) {
		t.Helper()
		st, err := store.Open(path, store.WithPublicKey(pub))
		require.NoError(t, err, "an event before the signed head is not Open's to read")
		_, _, err = st.Get(seq)
		require.ErrorIs(t, err, store.ErrCorrupt)
		require.ErrorIs(t, err, otelaudit.ErrChainBroken)
		assert.Equal(t, seq, chainSeq(t, err))
		_, ok, err := st.Get(1)
		require.NoError(t, err, "the rest stays readable")
		require.True(t, ok)
		_, _, err = st.Get(seq - 3)
		if tile {
			require.ErrorIs(t, err, store.ErrCorrupt, "its tile is refused whole")
		} else {
			require.NoError(t, err, "the rest of its tile too")
		}
		// testEvent puts every third event in one trace, seq among them.
		_, err = st.EventsByTrace(testEvent(int(seq - 1)).TraceID)
		require.ErrorIs(t, err, store.ErrCorrupt)
		_, err = st.EventsAfter(seq-1, 2)
		require.ErrorIs(t, err, store.ErrCorrupt)
		got, err := st.EventsAfter(seq+256, 10)
		require.NoError(t, err, "events of another tile")
		require.Len(t, got, 10)

		_, err = st.Verify(pub, nil)
		require.ErrorIs(t, err, otelaudit.ErrChainBroken)
		if !tile {
			assert.Equal(t, seq, chainSeq(t, err), "Verify names it")
		}
		require.NoError(t, st.Close())
		_, err = store.Open(path, store.WithPublicKey(pub), store.WithFullVerify())
		require.ErrorIs(t, err, store.ErrCorrupt, "WithFullVerify refuses it at Open")
	}

	t.Run("an old event changed", func(t *testing.T) {
		path := copyOf(t, pristine)
		tamper(t, path, editEvent(old, false))
		refusedOnRead(t, path, old, false)
	})
	t.Run("an old event changed, and its Hash", func(t *testing.T) {
		// The event hashes to its stored Hash; the tree Open verified
		// has the original's leaf there.
		path := copyOf(t, pristine)
		tamper(t, path, editEvent(old, true))
		refusedOnRead(t, path, old, false)
	})
	t.Run("an old event changed, its Hash and its tile", func(t *testing.T) {
		// The tile holds the new leaf; the tree's other nodes and the
		// signed root do not give it.
		path := copyOf(t, pristine)
		tamper(t, path, func(tx *bolt.Tx) error {
			if err := editEvent(old, true)(tx); err != nil {
				return err
			}
			v := tx.Bucket([]byte("events")).Get(seqKey(old))
			leaf := binary.BigEndian.Uint64(v[96:])
			tiles := tx.Bucket([]byte("tiles"))
			tk := append([]byte{0}, seqKey(leaf/256)...)
			row := bytes.Clone(tiles.Get(tk))
			lh := otelaudit.LeafHash(otelaudit.Hash(v[32:64]))
			copy(row[(leaf%256)*32:], lh[:])
			return tiles.Put(tk, row)
		})
		refusedOnRead(t, path, old, true)
	})
	t.Run("an old event deleted", func(t *testing.T) {
		path := copyOf(t, pristine)
		tamper(t, path, func(tx *bolt.Tx) error { return tx.Bucket([]byte("events")).Delete(seqKey(old)) })
		st, err := store.Open(path, store.WithPublicKey(pub))
		require.NoError(t, err)
		_, err = st.Events(store.Query{})
		require.ErrorIs(t, err, store.ErrCorrupt, "a scan sees the hole")
		_, err = st.EventsAfter(old-2, 5)
		require.ErrorIs(t, err, store.ErrCorrupt, "so does a follower")
		_, err = st.Verify(pub, nil)
		assert.Equal(t, uint64(old), chainSeq(t, err))
		require.NoError(t, st.Close())
	})

	// What Open reads: the signed head and its event, the tree it
	// continues, the meta, the tail.
	for _, tc := range []struct {
		name string
		edit func(tx *bolt.Tx) error
		// unsigned: Open refuses it as not the key's (ErrUnsigned)
		// rather than as corrupt.
		unsigned bool
	}{
		{"the head event changed", editEvent(openTestEvents, false), false},
		{"the head event changed and rehashed", editEvent(openTestEvents, true), false},
		{"the head moved back", func(tx *bolt.Tx) error {
			v := tx.Bucket([]byte("events")).Get(seqKey(openTestEvents - 1))
			return tx.Bucket([]byte("otelaudit")).Put([]byte("head"), append(seqKey(openTestEvents-1), v[32:64]...))
		}, false},
		{"the signed head's signature", func(tx *bolt.Tx) error {
			m := tx.Bucket([]byte("otelaudit"))
			v := bytes.Clone(m.Get([]byte("signed")))
			v[len(v)-1] ^= 1
			return m.Put([]byte("signed"), v)
		}, false},
		{"the signed head's root", func(tx *bolt.Tx) error {
			m := tx.Bucket([]byte("otelaudit"))
			v := bytes.Clone(m.Get([]byte("signed")))
			v[8+8+32+8] ^= 1
			return m.Put([]byte("signed"), v)
		}, false},
		{"the tree state", func(tx *bolt.Tx) error {
			m := tx.Bucket([]byte("otelaudit"))
			v := bytes.Clone(m.Get([]byte("tree")))
			v[len(v)-1] ^= 1
			return m.Put([]byte("tree"), v)
		}, false},
		{"a node of a level-1 tile", func(tx *bolt.Tx) error {
			// The tree's compact range at the signed head is read from
			// the tiles: it must give the signed root.
			b := tx.Bucket([]byte("tiles"))
			tk := append([]byte{1}, seqKey(0)...)
			v := bytes.Clone(b.Get(tk))
			v[0] ^= 1
			return b.Put(tk, v)
		}, false},
		{"an unknown meta key", func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("otelaudit")).Put([]byte("trusted"), []byte{1})
		}, false},
		{"the first event no longer chains to the anchor", func(tx *bolt.Tx) error {
			m := tx.Bucket([]byte("otelaudit"))
			return m.Put([]byte("anchor"), append(seqKey(0), bytes.Repeat([]byte{7}, 32)...))
		}, false},
		{"every checkpoint deleted", func(tx *bolt.Tx) error {
			if err := tx.DeleteBucket([]byte("checkpoints")); err != nil {
				return err
			}
			if _, err := tx.CreateBucket([]byte("checkpoints")); err != nil {
				return err
			}
			return tx.Bucket([]byte("otelaudit")).Delete([]byte("signed"))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := copyOf(t, pristine)
			tamper(t, path, tc.edit)
			st, err := store.Open(path, store.WithPublicKey(pub))
			if st != nil {
				require.NoError(t, st.Close())
			}
			if tc.unsigned {
				require.ErrorIs(t, err, store.ErrUnsigned)
			} else {
				require.Error(t, err)
				require.NotErrorIs(t, err, store.ErrUnsigned, "refused as damaged, not as merely unsigned")
			}
			st, err = store.Open(path, store.WithReadOnly())
			if err == nil {
				_, verr := st.Verify(pub, nil)
				require.Error(t, verr, "and Verify agrees")
				require.NoError(t, st.Close())
			}
		})
	}

	t.Run("a keyless tail, then a tail event changed", func(t *testing.T) {
		path := copyOf(t, pristine)
		record(t, path, openTestEvents, 20) // no key: 20 unsigned events
		st, err := store.Open(path, store.WithPublicKey(pub))
		if st != nil {
			require.NoError(t, st.Close())
		}
		require.ErrorIs(t, err, store.ErrUnsigned)
		assert.Equal(t, uint64(openTestEvents+1), chainSeq(t, err), "the first unsigned event")
		st, err = store.Open(path, store.WithPublicKey(pub), store.WithAdoptHead())
		require.NoError(t, err, "adopted on purpose")
		require.NoError(t, st.Close())

		// A tail event's trace index entry removed: Open looks each tail
		// event up in its indexes.
		hidden := copyOf(t, path)
		tamper(t, hidden, func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("by_trace"))
			id := testEvent(openTestEvents + 4).TraceID
			k, _ := b.Cursor().Seek(append(id[:], seqKey(openTestEvents+1)...))
			if !bytes.HasPrefix(k, id[:]) {
				return errors.New("no index entry of the tail")
			}
			return b.Delete(bytes.Clone(k))
		})
		st, err = store.Open(hidden, store.WithPublicKey(pub), store.WithAdoptHead())
		if st != nil {
			require.NoError(t, st.Close())
		}
		require.ErrorIs(t, err, store.ErrCorrupt, "a tail event the index does not list")

		tamper(t, path, editEvent(openTestEvents+5, false))
		for _, opts := range [][]store.Option{{store.WithPublicKey(pub), store.WithAdoptHead()}, nil} {
			st, err = store.Open(path, opts...)
			if st != nil {
				require.NoError(t, st.Close())
			}
			require.ErrorIs(t, err, store.ErrCorrupt, "the tail is Open's to read")
			assert.Equal(t, uint64(openTestEvents+5), chainSeq(t, err))
		}
	})

	t.Run("a runtime continues, and reads new and old events", func(t *testing.T) {
		path := copyOf(t, pristine)
		st, err := store.Open(path, store.WithPublicKey(pub))
		require.NoError(t, err)
		g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
		require.NoError(t, err)
		for i := range 300 {
			_, err := g.Append(context.Background(), testEvent(openTestEvents+i))
			require.NoError(t, err)
		}
		require.NoError(t, g.ForceFlush(context.Background()))
		all, err := st.Events(store.Query{})
		require.NoError(t, err)
		require.Len(t, all, openTestEvents+300)
		require.NoError(t, otelaudit.VerifyChain(otelaudit.GenesisAnchor, all, nil, nil))
		require.NoError(t, g.Shutdown(context.Background()))
		st = openStore(t, path, store.WithReadOnly(), store.WithPublicKey(pub))
		defer st.Close()
		require.NoError(t, st.VerifyError())
		_, err = st.Verify(pub, nil)
		require.NoError(t, err)
	})

	t.Run("read-only, damaged: reads return what is stored once Verify failed", func(t *testing.T) {
		path := copyOf(t, pristine)
		tamper(t, path, editEvent(old, false))
		st := openStore(t, path, store.WithReadOnly())
		defer st.Close()
		require.NoError(t, st.VerifyError(), "Open does not read it")
		_, _, err := st.Get(old)
		require.ErrorIs(t, err, store.ErrCorrupt)
		_, err = st.Verify(pub, nil)
		require.Error(t, err)
		require.ErrorIs(t, st.VerifyError(), otelaudit.ErrChainBroken, "flagged")
		e, ok, err := st.Get(old)
		require.NoError(t, err, "for forensics")
		require.True(t, ok)
		assert.Equal(t, "Fetch", e.Action)
	})
}
