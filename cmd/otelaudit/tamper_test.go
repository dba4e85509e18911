package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// The attacker of these tests can write the store file, with this
// project's own library and CLI or with bbolt directly, but has no signing
// key. Every attack must fail `otelaudit verify --pubkey` (exit 1, naming
// the first event that cannot be trusted) or be refused by store.Open with
// the key, and the runtime, starting again with its key, must refuse to
// continue a trail it did not sign.

// editStore opens the store file with bbolt directly and runs fn in a
// write transaction.
func editStore(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(fn))
	require.NoError(t, db.Close())
}

func seqBytes(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// The stored layout the attacker works with: events values are PrevHash,
// Hash, SourceDigest (32 bytes each), the leaf index (8), then the
// encoding; the meta bucket holds the head (Seq, Hash), the reservation
// (Seq), the newest signed checkpoint and the Merkle tree's compact range;
// the tiles bucket the tree's nodes.
const valueData = 104

// rewrite replaces the encoding of event seq by what change makes of the
// decoded event, and then recomputes the hash of every event from it to
// the head, and the head, as anyone can: the hash chain has no secret.
func rewrite(t *testing.T, tx *bolt.Tx, seq uint64, change func(e *otelaudit.Event, data []byte) []byte) {
	t.Helper()
	events, meta := tx.Bucket([]byte("events")), tx.Bucket([]byte("otelaudit"))
	v := bytes.Clone(events.Get(seqBytes(seq)))
	var e otelaudit.Event
	require.NoError(t, e.UnmarshalBinary(v[valueData:]))
	v = append(v[:valueData], change(&e, v[valueData:])...)
	require.NoError(t, events.Put(seqBytes(seq), v))
	var prev otelaudit.Hash
	copy(prev[:], v[:32])
	c := events.Cursor()
	var last uint64
	for k, val := c.Seek(seqBytes(seq)); k != nil; k, val = c.Next() {
		val = bytes.Clone(val)
		var src otelaudit.Hash
		copy(src[:], val[64:96])
		h := otelaudit.ChainHash(prev, src, val[valueData:])
		copy(val[:32], prev[:])
		copy(val[32:64], h[:])
		last = binary.BigEndian.Uint64(k)
		require.NoError(t, events.Put(bytes.Clone(k), val))
		prev = h
	}
	require.NoError(t, meta.Put([]byte("head"), append(seqBytes(last), prev[:]...)))
	retree(t, tx)
}

// retree rebuilds the Merkle tree of the stored events, tiles and compact
// range, from leaf 0, as anyone can: it has no secret either. Only the
// signed checkpoints of the old tree no longer match.
func retree(t *testing.T, tx *bolt.Tx) {
	t.Helper()
	require.NoError(t, tx.DeleteBucket([]byte("tiles")))
	tiles, err := tx.CreateBucket([]byte("tiles"))
	require.NoError(t, err)
	tree, err := tlog.NewTree(0, nil)
	require.NoError(t, err)
	rows := map[string][]byte{}
	c := tx.Bucket([]byte("events")).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		v = bytes.Clone(v)
		binary.BigEndian.PutUint64(v[96:], tree.Size())
		require.NoError(t, tx.Bucket([]byte("events")).Put(bytes.Clone(k), v))
		tree.Append([32]byte(v[32:64]), func(level uint, index uint64, h []byte) {
			if level%tlog.TileHeight == 0 {
				tl, ti, _ := tlog.TileOf(level, index)
				key := string(binary.BigEndian.AppendUint64([]byte{tl}, ti))
				rows[key] = append(rows[key], h...)
			}
		})
	}
	for k, row := range rows {
		require.NoError(t, tiles.Put([]byte(k), row))
	}
	state := seqBytes(tree.Size())
	for _, h := range tree.Hashes() {
		state = append(state, h[:]...)
	}
	require.NoError(t, tx.Bucket([]byte("otelaudit")).Put([]byte("tree"), state))
}

// dropCheckpointsFrom deletes the stored checkpoints of seq and after, and
// the signed head: the attacker cannot sign new ones.
func dropCheckpointsFrom(t *testing.T, tx *bolt.Tx, seq uint64) {
	t.Helper()
	c := tx.Bucket([]byte("checkpoints")).Cursor()
	for k, _ := c.Seek(seqBytes(seq)); k != nil; k, _ = c.Seek(seqBytes(seq)) {
		require.NoError(t, c.Delete())
	}
	require.NoError(t, tx.Bucket([]byte("otelaudit")).Delete([]byte("signed")))
}

// appendKeyless appends n events through a Generator without the key: the
// library's own front door, used by someone who can write the file.
func appendKeyless(t *testing.T, path string, n int) {
	t.Helper()
	st, err := store.Open(path)
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st))
	require.NoError(t, err)
	for i := range n {
		e := fixtureEvent(i)
		e.Outcome, e.Type = otelaudit.Success, otelaudit.TrustVerification
		_, err := g.Record(context.Background(), e)
		require.NoError(t, err)
	}
	require.NoError(t, g.Shutdown(context.Background()))
}

// forge rebuilds the store at path, through the library's own Store.Write
// (which keeps the indexes, commits and sources consistent), from the
// batches build makes of the original's events and stored checkpoints.
func forge(t *testing.T, path string, build func(orig []otelaudit.Event, cps []otelaudit.Checkpoint) []otelaudit.Batch) {
	t.Helper()
	st, err := store.Open(path, store.WithReadOnly())
	require.NoError(t, err)
	orig, err := st.Events(store.Query{})
	require.NoError(t, err)
	cps, err := st.Checkpoints()
	require.NoError(t, err)
	require.NoError(t, st.Close())
	require.NoError(t, os.Remove(path))
	st, err = store.Open(path)
	require.NoError(t, err)
	for _, b := range build(orig, cps) {
		require.NoError(t, st.Write(b))
	}
	require.NoError(t, st.Close())
}

// record is e as a SealedEvent chained to prev.
func record(t *testing.T, e otelaudit.Event, prev otelaudit.Hash) otelaudit.SealedEvent {
	t.Helper()
	data, err := e.MarshalBinary()
	require.NoError(t, err)
	var src otelaudit.Hash
	if e.Source != nil {
		src = e.Source.Digest()
	}
	return otelaudit.SealedEvent{Seq: e.Seq, PrevHash: prev, Hash: otelaudit.ChainHash(prev, src, data), Data: data, Source: e.Source, SourceDigest: src}
}

// checkpointsUpTo returns the checkpoints of seq and before.
func checkpointsUpTo(cps []otelaudit.Checkpoint, seq uint64) (out []otelaudit.Checkpoint) {
	for _, c := range cps {
		if c.Seq <= seq {
			out = append(out, c)
		}
	}
	return out
}

// emptyStore deletes every event, index entry, commit, checkpoint and the
// signed head, and anchors the store at a.
func emptyStore(t *testing.T, tx *bolt.Tx, a otelaudit.Anchor) error {
	t.Helper()
	for _, name := range []string{"events", "by_trace", "by_type", "by_agent", "checkpoints", "commits"} {
		if err := tx.DeleteBucket([]byte(name)); err != nil {
			return err
		}
		if _, err := tx.CreateBucket([]byte(name)); err != nil {
			return err
		}
	}
	meta := tx.Bucket([]byte("otelaudit"))
	v := append(seqBytes(a.Seq), a.Hash[:]...)
	for _, k := range []string{"anchor", "head"} {
		if err := meta.Put([]byte(k), v); err != nil {
			return err
		}
	}
	if err := meta.Delete([]byte("signed")); err != nil {
		return err
	}
	return meta.Put([]byte("reserved"), seqBytes(a.Seq))
}

// otherSignedHead writes another store with the fixture's key (the key
// file in dir), as the same runtime would on another day, and returns its
// signed head: something the key holder did sign, for another trail.
func otherSignedHead(t *testing.T, dir string) otelaudit.Checkpoint {
	t.Helper()
	priv, err := keyfile.ReadPrivate(filepath.Join(dir, "sign.pem"))
	require.NoError(t, err)
	st, err := store.Open(filepath.Join(dir, "other.db"))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.NoError(t, err)
	for i := range fixtureEvents {
		e := fixtureEvent(i)
		e.Action = "another day"
		_, err := g.Append(context.Background(), e)
		require.NoError(t, err)
	}
	require.NoError(t, g.Shutdown(context.Background()))
	st, err = store.Open(filepath.Join(dir, "other.db"), store.WithReadOnly())
	require.NoError(t, err)
	defer st.Close()
	cps, err := st.Checkpoints()
	require.NoError(t, err)
	return cps[len(cps)-1]
}

// storedSigned is c as the "signed" meta value holds it: Seq, Time (Unix
// ns), Hash, signature.
func storedSigned(c otelaudit.Checkpoint) []byte {
	b := append(seqBytes(c.Seq), binary.BigEndian.AppendUint64(nil, uint64(c.Time.UnixNano()))...)
	b = append(append(b, c.Hash[:]...), seqBytes(c.Size)...)
	b = append(append(b, c.Root[:]...), byte(len(c.Origin)))
	return append(append(b, c.Origin...), c.Signature...)
}

func TestTamperTable(t *testing.T) {
	const far = ^uint64(0) - 1 // a head Seq near 2^64
	tests := []struct {
		name   string
		attack func(t *testing.T, path string)
		// wantSeq is the Seq verify --pubkey names, 0 when the store is
		// refused at open (the error then names what is wrong).
		wantSeq uint64
		want    string // in verify's error line
		// openErr is what store.Open with the key wraps; nil when the
		// damage is before the signed head, which Open does not read:
		// reading the event named then fails, and Open WithFullVerify
		// refuses it as verify does.
		openErr error
	}{
		{"append through a keyless Generator", func(t *testing.T, path string) {
			appendKeyless(t, path, 3)
		}, 31, "first event not signed with --pubkey", store.ErrUnsigned},
		{"rewrite an event and rechain, dropping the checkpoints it breaks", func(t *testing.T, path string) {
			editStore(t, path, func(tx *bolt.Tx) error {
				// Seq 9 is a denied trust check: make it a success. (The
				// type stays, or the type index would give it away.)
				rewrite(t, tx, 9, func(e *otelaudit.Event, _ []byte) []byte {
					require.Equal(t, otelaudit.Denied, e.Outcome)
					e.Outcome = otelaudit.Success
					b, err := e.MarshalBinary()
					require.NoError(t, err)
					return b
				})
				dropCheckpointsFrom(t, tx, 9)
				return nil
			})
		}, 6, "first event not signed with --pubkey", store.ErrUnsigned},
		{"rewrite an event and rechain, keeping the checkpoints", func(t *testing.T, path string) {
			editStore(t, path, func(tx *bolt.Tx) error {
				rewrite(t, tx, 9, func(e *otelaudit.Event, _ []byte) []byte {
					e.Outcome = otelaudit.Success
					b, _ := e.MarshalBinary()
					return b
				})
				return nil
			})
		}, 10, "the trail was rewritten", store.ErrCorrupt},
		{"delete every checkpoint", func(t *testing.T, path string) {
			editStore(t, path, func(tx *bolt.Tx) error {
				dropCheckpointsFrom(t, tx, 0)
				return nil
			})
		}, 1, "the key signed no checkpoint", store.ErrUnsigned},
		{"zero-pad an event's encoding", func(t *testing.T, path string) {
			editStore(t, path, func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("events"))
				return b.Put(seqBytes(12), append(bytes.Clone(b.Get(seqBytes(12))), 0, 0, 0))
			})
		}, 12, "3 trailing bytes", nil},
		{"zero-pad an event's encoding and rechain", func(t *testing.T, path string) {
			editStore(t, path, func(tx *bolt.Tx) error {
				rewrite(t, tx, 12, func(_ *otelaudit.Event, data []byte) []byte { return append(bytes.Clone(data), 0, 0, 0) })
				dropCheckpointsFrom(t, tx, 12)
				return nil
			})
		}, 12, "does not decode", store.ErrCorrupt},
		{"a head near 2^64", func(t *testing.T, path string) {
			editStore(t, path, func(tx *bolt.Tx) error {
				meta := tx.Bucket([]byte("otelaudit"))
				head := bytes.Clone(meta.Get([]byte("head")))
				binary.BigEndian.PutUint64(head, far)
				if err := meta.Put([]byte("head"), head); err != nil {
					return err
				}
				return meta.Put([]byte("reserved"), seqBytes(far))
			})
		}, 0, fmt.Sprintf("head seq %d is past the largest Seq", far), store.ErrCorrupt},
		{"an emptied store anchored near 2^64", func(t *testing.T, path string) {
			editStore(t, path, func(tx *bolt.Tx) error {
				return emptyStore(t, tx, otelaudit.Anchor{Seq: far, Hash: otelaudit.GenesisHash})
			})
		}, 0, "past the largest Seq", store.ErrCorrupt},
		{"delete events and explain the hole with a forged crash-gap record", func(t *testing.T, path string) {
			// Events 21 to 24 go; a SeqGap record at 25 says a crash lost
			// them; 26 to 30 are re-chained after it. Everything up to 20,
			// and its signed checkpoints, is the original.
			forge(t, path, func(orig []otelaudit.Event, cps []otelaudit.Checkpoint) []otelaudit.Batch {
				var recs []otelaudit.SealedEvent
				prev := otelaudit.GenesisHash
				for _, e := range orig[:20] {
					r := record(t, e, prev)
					require.Equal(t, e.Hash, r.Hash)
					recs = append(recs, r)
					prev = r.Hash
				}
				kept := checkpointsUpTo(cps, 20)
				first := otelaudit.Batch{Events: recs, Checkpoints: kept, Head: kept[len(kept)-1], Reserved: 24}
				gap := otelaudit.Event{Seq: 25, Type: otelaudit.SeqGap, Time: orig[24].Time, Action: "restart after a crash",
					Attributes: []attribute.KeyValue{
						attribute.Int64(otelaudit.AttrGapFirst, 21), attribute.Int64(otelaudit.AttrGapLast, 24),
						attribute.String(otelaudit.AttrGapLastCommit, ""),
					}}
				r := record(t, gap, prev)
				recs = []otelaudit.SealedEvent{r}
				for _, e := range orig[25:] {
					r = record(t, e, r.Hash)
					recs = append(recs, r)
				}
				return []otelaudit.Batch{first, {Events: recs, Reserved: 30}}
			})
		}, 25, "first event not signed with --pubkey", store.ErrUnsigned},
		{"append a forged head-adopted record", func(t *testing.T, path string) {
			st, err := store.Open(path)
			require.NoError(t, err)
			head := st.Head()
			adopt := otelaudit.Event{Seq: head.Seq + 1, Type: otelaudit.HeadAdopted, Time: fixtureNow, Action: "adopt a head the signing key did not sign",
				Attributes: []attribute.KeyValue{
					attribute.Int64(otelaudit.AttrAdoptedSeq, int64(head.Seq)), attribute.String(otelaudit.AttrAdoptedHash, head.Hash.String()),
					attribute.Int64(otelaudit.AttrAdoptedSignedSeq, int64(head.Seq)),
					attribute.String(otelaudit.AttrAdoptedKey, strings.Repeat("00", 32)),
				}}
			require.NoError(t, st.Write(otelaudit.Batch{Events: []otelaudit.SealedEvent{record(t, adopt, head.Hash)}, Reserved: head.Seq + 1}))
			require.NoError(t, st.Close())
		}, 31, "first event not signed with --pubkey", store.ErrUnsigned},
		{"rewrite the tail and put in the signed head of another store signed by the same key", func(t *testing.T, path string) {
			editStore(t, path, func(tx *bolt.Tx) error {
				rewrite(t, tx, 28, func(e *otelaudit.Event, _ []byte) []byte {
					e.Action = "nothing to see"
					b, _ := e.MarshalBinary()
					return b
				})
				dropCheckpointsFrom(t, tx, 28)
				// A checkpoint of seq 30 the key really signed, of another
				// trail.
				other := otherSignedHead(t, filepath.Dir(path))
				require.Equal(t, uint64(30), other.Seq)
				return tx.Bucket([]byte("otelaudit")).Put([]byte("signed"), storedSigned(other))
			})
		}, 30, "the trail was rewritten", store.ErrCorrupt},
		{"drop events in the middle and call them retained", func(t *testing.T, path string) {
			// Retention removes the oldest events and moves the anchor
			// past them; here 11 to 15 go and the anchor moves to 15,
			// with 1 to 10 still stored.
			editStore(t, path, func(tx *bolt.Tx) error {
				events := tx.Bucket([]byte("events"))
				v := events.Get(seqBytes(15))
				anchor := append(seqBytes(15), v[32:64]...)
				for seq := uint64(11); seq <= 15; seq++ {
					if err := events.Delete(seqBytes(seq)); err != nil {
						return err
					}
				}
				return tx.Bucket([]byte("otelaudit")).Put([]byte("anchor"), anchor)
			})
		}, 1, "out of order", store.ErrCorrupt},
		{"empty the store and anchor it at a forged hash", func(t *testing.T, path string) {
			// Where a runtime with the key would continue, and sign.
			editStore(t, path, func(tx *bolt.Tx) error {
				return emptyStore(t, tx, otelaudit.Anchor{Seq: 12, Hash: otelaudit.Hash{0xF0}})
			})
		}, 12, "holds no events", store.ErrUnsigned},
		{"empty the store and anchor it at seq 0 with a forged hash", func(t *testing.T, path string) {
			editStore(t, path, func(tx *bolt.Tx) error {
				return emptyStore(t, tx, otelaudit.Anchor{Seq: 0, Hash: otelaudit.Hash{0xF0}})
			})
		}, 0, "anchor seq 0 is not the genesis", store.ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			path := filepath.Join(f.dir, "tampered.db")
			copyFile(t, f.db, path)
			tc.attack(t, path)

			r := runCLI(t, nil, "verify", "--db", path, "--pubkey", f.pub)
			assert.Equal(t, exitFail, r.code, "%s\n%s", r.stdout, r.stderr)
			assertOneErrorLine(t, r)
			assert.Contains(t, r.stderr, tc.want)
			if tc.wantSeq != 0 {
				assert.Regexp(t, fmt.Sprintf(`\bseq %d\b`, tc.wantSeq), r.stderr)
			}
			assert.NotContains(t, r.stdout, "OK:")

			pub := f.publicKey(t)
			opens := [][]store.Option{{store.WithPublicKey(pub)}, {store.WithPublicKey(pub), store.WithFullVerify()}}
			openErr := tc.openErr
			if openErr == nil {
				st, err := store.Open(path, store.WithPublicKey(pub))
				require.NoError(t, err, "the damage is before the signed head, which Open does not read")
				_, _, err = st.Get(tc.wantSeq)
				require.ErrorIs(t, err, store.ErrCorrupt, "reading the damaged event")
				require.NoError(t, st.Close())
				opens, openErr = opens[1:], store.ErrCorrupt
			}
			for _, opts := range opens {
				st, err := store.Open(path, opts...)
				if st != nil {
					require.NoError(t, st.Close())
				}
				require.ErrorIs(t, err, openErr)
				if tc.wantSeq != 0 {
					var ce *otelaudit.ChainError
					require.True(t, errors.As(err, &ce), "%v", err)
					assert.Equal(t, tc.wantSeq, ce.Seq, "%v", err)
				}
			}
		})
	}
}

// TestRuntimeRefusesALaunderedFile: forged events appended without the key,
// then the runtime restarts with its key. It must neither open the store
// for its key nor continue the trail and sign over the forgery, whichever
// way it was wired; a store verified against checkpoints kept elsewhere
// still fails. Only an explicit adoption continues it, and says so in the
// trail.
func TestRuntimeRefusesALaunderedFile(t *testing.T) {
	f := newFixture(t)
	r := runCLI(t, nil, "checkpoints", "--db", f.db, "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	kept := filepath.Join(f.dir, "kept.jsonl")
	require.NoError(t, os.WriteFile(kept, []byte(r.stdout), 0o600))
	appendKeyless(t, f.db, 4)

	priv, err := keyfile.ReadPrivate(f.priv)
	require.NoError(t, err)
	pub := f.publicKey(t)
	_, err = store.Open(f.db, store.WithPublicKey(pub))
	require.ErrorIs(t, err, store.ErrUnsigned, "the store opened for the key refuses")
	assert.Contains(t, err.Error(), "store.WithAdoptHead()")

	st, err := store.Open(f.db)
	require.NoError(t, err, "a store opened without a key opens")
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.ErrorIs(t, err, otelaudit.ErrStoreRefused, "but the Generator with the key does not continue it")
	require.ErrorIs(t, err, store.ErrUnsigned)
	assert.Nil(t, g)
	require.NoError(t, st.Close(), "the store is still its opener's")
	// NewGenerator, which cannot return the error, refuses every event
	// with it instead.
	st, err = store.Open(f.db)
	require.NoError(t, err)
	g = otelaudit.NewGenerator(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	_, err = g.Record(context.Background(), fixtureEvent(0))
	require.ErrorIs(t, err, store.ErrUnsigned)
	assert.Equal(t, uint64(1), g.Stats().Rejected)
	require.NoError(t, g.Shutdown(context.Background()))
	require.NoError(t, st.Close())

	r = runCLI(t, nil, "verify", "--db", f.db, "--pubkey", f.pub, "--checkpoint", kept)
	assert.Equal(t, exitFail, r.code)
	assert.Contains(t, r.stderr, "seq 31 is the first event not signed with --pubkey")

	// Adopting is possible, once, on purpose, and on the record.
	st, err = store.Open(f.db, store.WithPublicKey(pub), store.WithAdoptHead())
	require.NoError(t, err)
	g, err = otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.NoError(t, err)
	require.NoError(t, g.Shutdown(context.Background()))
	r = runCLI(t, nil, "verify", "--db", f.db, "--pubkey", f.pub)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Adopted: at ")
	assert.Contains(t, r.stdout, "continued the head seq 34, which that key had signed up to seq 30 only (seq 35 records it)")
}

// TestCutTailNeedsKeptCheckpoints: what the README says the store alone
// cannot show. The tail is cut back to an earlier signed checkpoint, with
// the library's own Write, so that indexes, commits and the signed head
// are those of the shorter trail; the next run with the key finds Seqs
// reserved past the head and records them as lost to a crash, and signs
// that. verify --pubkey passes, and says so; checkpoints kept off the
// machine fail it.
func TestCutTailNeedsKeptCheckpoints(t *testing.T) {
	f := newFixture(t)
	r := runCLI(t, nil, "checkpoints", "--db", f.db, "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	kept := filepath.Join(f.dir, "kept.jsonl")
	require.NoError(t, os.WriteFile(kept, []byte(r.stdout), 0o600))

	forge(t, f.db, func(orig []otelaudit.Event, cps []otelaudit.Checkpoint) []otelaudit.Batch {
		var recs []otelaudit.SealedEvent
		prev := otelaudit.GenesisHash
		for _, e := range orig[:20] {
			rec := record(t, e, prev)
			recs = append(recs, rec)
			prev = rec.Hash
		}
		signed := checkpointsUpTo(cps, 20)
		return []otelaudit.Batch{{Events: recs, Checkpoints: signed, Head: signed[len(signed)-1], Reserved: fixtureEvents}}
	})
	r = runCLI(t, nil, "verify", "--db", f.db, "--pubkey", f.pub)
	require.Equal(t, exitOK, r.code, "the store alone cannot show a cut back to a signed checkpoint: %s", r.stderr)

	priv, err := keyfile.ReadPrivate(f.priv)
	require.NoError(t, err)
	st, err := store.Open(f.db, store.WithPublicKey(f.publicKey(t)))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.NoError(t, err)
	require.NoError(t, g.Shutdown(context.Background()))
	r = runCLI(t, nil, "verify", "--db", f.db, "--pubkey", f.pub)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Lost to a crash, on the record: seq 21 to 30 reserved and never stored (seq 31 records it",
		"the next run records the cut as a crash")

	r = runCLI(t, nil, "verify", "--db", f.db, "--pubkey", f.pub, "--checkpoint", kept)
	assert.Equal(t, exitFail, r.code, r.stdout)
	assertOneErrorLine(t, r)
	assert.Contains(t, r.stderr, "first bad event is seq 25: missing")
}
