package tests

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// Files crafted by someone who can write the store and knows bbolt's page
// layout: not random damage (see filefuzz_test.go) but bytes placed where
// bbolt's readers disagree with each other, or where bbolt's consistency
// check reads on a goroutine of its own. Every one must be refused, in a
// process that survives it.

// craftedTraces are the traces craftedStore writes.
var craftedTraces = []trace.TraceID{{0xCF, 1}, {0xCF, 2}, {0xCF, 3}}

// craftedStore writes a small signed store, every event in one commit, so
// that each index holds one entry per key and every bucket but events fits
// inline in its parent's page.
func craftedStore(t *testing.T, path string, priv ed25519.PrivateKey) {
	t.Helper()
	st, err := store.Open(path, store.WithPublicKey(priv.Public().(ed25519.PublicKey)))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.NoError(t, err)
	for i := range 9 {
		_, err := g.Append(context.Background(), otelaudit.Event{
			Type:    otelaudit.NodeStart,
			TraceID: craftedTraces[i%len(craftedTraces)],
			SpanID:  trace.SpanID{byte(i + 1)},
			AgentID: "agent",
		})
		require.NoError(t, err)
	}
	require.NoError(t, g.Shutdown(context.Background()))
}

// moreCrafted continues craftedStore's store with a run that adds a second
// entry to every bucket: another type, agent and Source, two more
// checkpoints, two cursors.
func moreCrafted(t *testing.T, path string, priv ed25519.PrivateKey) {
	t.Helper()
	st, err := store.Open(path, store.WithPublicKey(priv.Public().(ed25519.PublicKey)))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.NoError(t, err)
	for i := range 2 {
		_, err = g.Record(context.Background(), otelaudit.Event{
			Type: otelaudit.NodeEnd, AgentID: "another", TraceID: craftedTraces[0], SpanID: trace.SpanID{0xEE, byte(i)},
			Source: otelaudit.NewSource(nil, instrumentation.Scope{Name: fmt.Sprint("crafted", i)}),
		})
		require.NoError(t, err)
		g.Checkpoint()
		require.NoError(t, g.ForceFlush(context.Background()))
	}
	require.NoError(t, st.SetCursor("a", 1))
	require.NoError(t, st.SetCursor("b", 2))
	require.NoError(t, g.Shutdown(context.Background()))
}

// appendCrafted continues the store at path with n more events.
func appendCrafted(t *testing.T, path string, priv ed25519.PrivateKey, n int) {
	t.Helper()
	st, err := store.Open(path, store.WithPublicKey(priv.Public().(ed25519.PublicKey)))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.NoError(t, err)
	for i := range n {
		_, err := g.Append(context.Background(), otelaudit.Event{
			Type: otelaudit.NodeStart, AgentID: "agent", TraceID: craftedTraces[i%len(craftedTraces)], SpanID: trace.SpanID{0xAA, byte(i)},
		})
		require.NoError(t, err)
	}
	require.NoError(t, g.Shutdown(context.Background()))
}

// bbolt v1.5.0's page layout (internal/common/page.go): a 16-byte header
// (id 8, flags 2, count 2, overflow 4), then count 16-byte elements; a leaf
// element is flags, pos (from the element's own start), ksize, vsize, each
// 4 bytes. A bucket's value in its parent is its root page (8) and
// sequence (8), followed, for an inline bucket (root 0), by its one page.
const (
	bpHeader       = 16
	bpElement      = 16
	bpLeafFlag     = 0x02
	bpBucketFlag   = 0x01
	bpBucketHeader = 16
)

// leafEntry finds, in the leaf page of the file at page offset pageOff,
// the element whose key is key, and returns the offset of the element
// and of its value, and its flags.
func leafEntry(t *testing.T, file []byte, pageOff int, key string) (elem, val int, flags uint32) {
	t.Helper()
	ne := binary.NativeEndian
	require.Equal(t, uint16(bpLeafFlag), ne.Uint16(file[pageOff+8:]), "page at %d is not a leaf page", pageOff)
	count := int(ne.Uint16(file[pageOff+10:]))
	for i := range count {
		e := pageOff + bpHeader + i*bpElement
		pos, ksize := int(ne.Uint32(file[e+4:])), int(ne.Uint32(file[e+8:]))
		if string(file[e+pos:e+pos+ksize]) == key {
			return e, e + pos + ksize, ne.Uint32(file[e:])
		}
	}
	t.Fatalf("no key %q in the leaf page at %d", key, pageOff)
	return 0, 0, 0
}

// bucketPage returns the offset in the file of the root page of the
// top-level bucket name: its own page, or the inline page in its parent's
// value.
func bucketPage(t *testing.T, path string, file []byte, name string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	var rootPage, ownPage int
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		rootPage = int(tx.Cursor().Bucket().Root())
		ownPage = int(tx.Bucket([]byte(name)).Root())
		return nil
	}))
	ps := db.Info().PageSize
	if ownPage != 0 {
		return ownPage * ps
	}
	_, val, flags := leafEntry(t, file, rootPage*ps, name)
	require.Equal(t, uint32(bpBucketFlag), flags)
	return val + bpBucketHeader
}

// swapLeafElements swaps elements i and j of the leaf page at pageOff, so
// that their keys are stored out of order; each keeps pointing at its own
// key and value.
func swapLeafElements(file []byte, pageOff, i, j int) {
	ne := binary.NativeEndian
	ei, ej := pageOff+bpHeader+i*bpElement, pageOff+bpHeader+j*bpElement
	a, b := bytes.Clone(file[ei:ei+bpElement]), bytes.Clone(file[ej:ej+bpElement])
	ne.PutUint32(b[4:], uint32(int(ne.Uint32(b[4:]))+(ej-ei)))
	ne.PutUint32(a[4:], uint32(int(ne.Uint32(a[4:]))-(ej-ei)))
	copy(file[ei:], b)
	copy(file[ej:], a)
}

// TestCraftedUnsortedInlineIndex: bbolt's Tx.Check skips inline buckets,
// and a full walk of a bucket sees every entry whatever their order, while
// a lookup (Seek, Get) binary-searches and misses entries stored out of
// order. An index whose entries are swapped then hides events from
// EventsByTrace while every sum over it still matches: the store must
// refuse it.
func TestCraftedUnsortedInlineIndex(t *testing.T) {
	for _, name := range []string{"by_trace", "by_type", "by_agent", "sources", "commits", "checkpoints", "cursors", "otelaudit"} {
		t.Run(name, func(t *testing.T) {
			pub, priv, err := ed25519.GenerateKey(nil)
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "crafted.db")
			craftedStore(t, path, priv)
			if name != "by_trace" {
				// A second run, for two entries in every bucket.
				moreCrafted(t, path, priv)
			}
			file, err := os.ReadFile(path)
			require.NoError(t, err)
			page := bucketPage(t, path, file, name)
			count := int(binary.NativeEndian.Uint16(file[page+10:]))
			require.GreaterOrEqual(t, count, 2, "bucket %s has %d entries", name, count)
			swapLeafElements(file, page, 0, count-1)
			require.NoError(t, os.WriteFile(path, file, 0o600))

			st, err := store.Open(path, store.WithReadOnly())
			if name == "otelaudit" && err != nil {
				// A key lookup missed: refused at once.
				return
			}
			require.NoError(t, err)
			_, verr := st.Verify(pub, nil)
			if name == "by_trace" && verr == nil {
				// What the attack buys: events that verify and that the
				// trace index no longer finds.
				for _, id := range craftedTraces {
					got, err := st.EventsByTrace(id)
					require.NoError(t, err)
					t.Logf("trace %s: %d of 3 events found", id, len(got))
				}
			}
			require.NoError(t, st.Close())
			require.ErrorIs(t, verr, store.ErrCorrupt, "Verify accepted %s stored out of order", name)
			st, err = store.Open(path, store.WithPublicKey(pub))
			if st != nil {
				require.NoError(t, st.Close())
			}
			require.ErrorIs(t, err, store.ErrCorrupt)
		})
	}
}

// craftedChildEnv names the file a crafted-file child process opens.
const craftedChildEnv = "OTELAUDIT_CRAFTED_CHILD"

// TestCraftedNestedBucket: a bucket nested in one of the store's, whose
// root page lies far past the file. bbolt's Tx.Check reads every nested
// bucket's pages on a goroutine of its own, where no fault is recoverable:
// Verify must refuse the bucket before Check reads it, and the process
// must live.
func TestCraftedNestedBucket(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	for _, tc := range []struct{ bucket, key string }{
		// Checked by name only: a nested bucket under a known name passed.
		{"otelaudit", "signed"},
		// sha256("") is the digest of the empty value a bucket reads as.
		{"sources", string(emptyDigest[:])},
	} {
		t.Run(tc.bucket, func(t *testing.T) {
			pub, priv, err := ed25519.GenerateKey(nil)
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "crafted.db")
			craftedStore(t, path, priv)
			require.NoError(t, os.WriteFile(path, nestBucketPastTheFile(t, path, tc.bucket, tc.key), 0o600))

			refusedInChild(t, path, pub)
		})
	}
}

// refusedInChild opens the crafted file at path in a child process (see
// TestCraftedFileChild), which must live, refuse it read-only (Open or
// Verify), with the key (Open, or, for damage before the signed head,
// which Open does not read, Verify) and WithFullVerify, and stay within
// childMemory; it returns the child's peak resident memory.
func refusedInChild(t *testing.T, path string, pub ed25519.PublicKey) int64 {
	t.Helper()
	cmd := childCommand("TestCraftedFileChild", craftedChildEnv+"="+path, "OTELAUDIT_CRAFTED_PUB="+hex.EncodeToString(pub))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the process died on the crafted file:\n%s", firstLines(string(out), 12))
	assert.Regexp(t, `crafted: read-only refused, keyed (refused|opened, Verify refused), full refused`, string(out))
	var peak int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		peak = ru.Maxrss << 10 // KiB on Linux
		assert.Less(t, peak, int64(childMemory), "the child's peak memory on a file of %d KiB", fileSize(t, path)>>10)
	}
	return peak
}

// childMemory bounds what a child may use to refuse a crafted file of a few
// hundred KiB: what the test binary needs, under -race, and some.
const childMemory = 400 << 20

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}

// metaFreelist returns the page size and the freelist page of the file's
// newer bbolt meta (see store/filecheck.go for the layout).
func metaFreelist(t *testing.T, file []byte) (pageSize int, freelist uint64) {
	t.Helper()
	ne := binary.NativeEndian
	ps := int(ne.Uint32(file[bpHeader+8:]))
	m0, m1 := file[bpHeader:], file[ps+bpHeader:]
	m := m0
	if ne.Uint64(m1[48:]) > ne.Uint64(m0[48:]) {
		m = m1
	}
	return ps, ne.Uint64(m[32:])
}

// TestCraftedPageHeaders: counts in page headers that nothing bounds
// against the file. bbolt copies the freelist with make([]pgid, count)
// at Open, and its Tx.Check marks every page a page's overflow count
// spans in a map: a freelist count of 2^40 asks for 8 TiB at once, which
// Go cannot recover from, and an overflow count of millions on one page
// costs a map entry per page counted. Both must be refused from the header
// alone, in bounded memory.
func TestCraftedPageHeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		// craft returns the crafted file, from the one at path, whose
		// contents are file.
		craft func(t *testing.T, path string, file []byte) []byte
	}{
		{"freelist count", func(t *testing.T, _ string, file []byte) []byte {
			ps, fl := metaFreelist(t, file)
			p := file[int(fl)*ps:]
			require.Equal(t, uint16(0x10), binary.NativeEndian.Uint16(p[8:]), "a freelist page")
			binary.NativeEndian.PutUint16(p[10:], 0xFFFF)
			binary.NativeEndian.PutUint64(p[bpHeader:], 1<<40)
			return file
		}},
		// Pages listed free that are not: Tx.Check does not look at meta
		// pages or past the high water mark, and the first commit that
		// allocated one would write over a meta page, or past the pages
		// the meta counts, leaving a file nothing opens.
		{"freelist lists a meta page", func(t *testing.T, _ string, file []byte) []byte {
			return addFree(t, file, 1)
		}},
		{"freelist lists a page past the high water mark", func(t *testing.T, _ string, file []byte) []byte {
			return addFree(t, file, 3000)
		}},
		{"freelist overflow", func(t *testing.T, _ string, file []byte) []byte {
			ps, fl := metaFreelist(t, file)
			binary.NativeEndian.PutUint32(file[int(fl)*ps+12:], 1<<23)
			return file
		}},
		{"leaf page overflow", func(t *testing.T, path string, _ []byte) []byte {
			// A bucket of less than a quarter page is inline in its
			// parent: enough events that the events bucket has pages of
			// its own at any page size.
			appendCrafted(t, path, priv, 200)
			file, err := os.ReadFile(path)
			require.NoError(t, err)
			ps, _ := metaFreelist(t, file)
			db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
			require.NoError(t, err)
			var root uint64
			require.NoError(t, db.View(func(tx *bolt.Tx) error { root = uint64(tx.Bucket([]byte("events")).Root()); return nil }))
			require.NoError(t, db.Close())
			require.NotZero(t, root, "the events bucket has pages of its own")
			p := file[int(root)*ps:]
			for binary.NativeEndian.Uint16(p[8:]) == 0x01 {
				// A branch page: down its first child.
				e := p[bpHeader:]
				p = file[int(binary.NativeEndian.Uint64(e[8:]))*ps:]
			}
			require.Equal(t, uint16(bpLeafFlag), binary.NativeEndian.Uint16(p[8:]))
			binary.NativeEndian.PutUint32(p[12:], 1<<23)
			return file
		}},
		{"no freelist, and a bucket past the file", func(t *testing.T, path string, _ []byte) []byte {
			// Without a freelist page bbolt rebuilds the freelist when it
			// opens the file, walking every bucket's pages as Tx.Check
			// does, on a goroutine of its own.
			file := nestBucketPastTheFile(t, path, "otelaudit", "signed")
			setMetaFreelist(file, ^uint64(0))
			return file
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "crafted.db")
			craftedStore(t, path, priv)
			moreCrafted(t, path, priv)
			file, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, tc.craft(t, path, file), 0o600))
			peak := refusedInChild(t, path, pub)
			t.Logf("refused, peak memory %d MiB", peak>>20)
		})
	}
}

// nestBucketPastTheFile replaces key in the bucket of that name with a
// nested bucket, through bbolt, and returns the file with the nested
// bucket's root page pointed far past its end.
func nestBucketPastTheFile(t *testing.T, path, bucket, key string) []byte {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if err := b.Delete([]byte(key)); err != nil {
			return err
		}
		nested, err := b.CreateBucket([]byte(key))
		if err != nil {
			return err
		}
		return nested.Put([]byte("k"), []byte("v"))
	}))
	require.NoError(t, db.Close())
	file, err := os.ReadFile(path)
	require.NoError(t, err)
	// The nested bucket makes its parent a page of its own.
	_, val, flags := leafEntry(t, file, bucketPage(t, path, file, bucket), key)
	require.Equal(t, uint32(bpBucketFlag), flags)
	binary.NativeEndian.PutUint64(file[val:], 1<<30)
	return file
}

// addFree adds page id to the IDs of the freelist page, which has room for
// one more.
func addFree(t *testing.T, file []byte, id uint64) []byte {
	t.Helper()
	ps, fl := metaFreelist(t, file)
	p := file[int(fl)*ps:]
	n := binary.NativeEndian.Uint16(p[10:])
	require.Less(t, bpHeader+8*(int(n)+1), ps)
	binary.NativeEndian.PutUint16(p[10:], n+1)
	binary.NativeEndian.PutUint64(p[bpHeader+8*int(n):], id)
	return file
}

// setMetaFreelist sets the freelist page of the newer bbolt meta, and its
// checksum (FNV-64a of the 56 bytes before it).
func setMetaFreelist(file []byte, freelist uint64) {
	ne := binary.NativeEndian
	ps := int(ne.Uint32(file[bpHeader+8:]))
	m := file[bpHeader : bpHeader+64]
	if m1 := file[ps+bpHeader : ps+bpHeader+64]; ne.Uint64(m1[48:]) > ne.Uint64(m[48:]) {
		m = m1
	}
	ne.PutUint64(m[32:], freelist)
	h := fnv.New64a()
	h.Write(m[:56])
	ne.PutUint64(m[56:], h.Sum64())
}

// emptyDigest is SHA-256 of nothing: the digest of the empty value that a
// bucket entry reads as.
var emptyDigest = sha256.Sum256(nil)

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// TestCraftedFileChild opens the crafted file read-only and verifies it,
// then opens it with the key; it does nothing unless started by a crafted
// file test.
func TestCraftedFileChild(t *testing.T) {
	path := childEnv(t, craftedChildEnv, "the crafted file tests")
	pub, err := hex.DecodeString(os.Getenv("OTELAUDIT_CRAFTED_PUB"))
	require.NoError(t, err)
	read := "accepted"
	if st, err := store.Open(path, store.WithReadOnly()); err != nil {
		read = "refused"
	} else {
		if _, err := st.Verify(pub, nil); err != nil {
			read = "refused"
		}
		// What the CLI's reading commands do with a store that did not
		// verify: they must not end the process either.
		_, _ = st.Stats()
		_, _ = st.Events(store.Query{})
		_, _ = st.Checkpoints()
		_, _ = st.EventsAfter(0, 0)
		_, _ = st.Cursor("collector")
		_ = st.Close()
	}
	keyed := "accepted"
	if st, err := store.Open(path, store.WithPublicKey(pub)); err != nil {
		keyed = "refused"
	} else {
		// Open reads the tail after the signed head, not every page:
		// damage before it may open, and Verify must still refuse it.
		if _, err := st.Verify(pub, nil); err != nil {
			keyed = "opened, Verify refused"
		}
		_ = st.Close()
	}
	full := "accepted"
	if st, err := store.Open(path, store.WithPublicKey(pub), store.WithFullVerify()); err != nil {
		full = "refused"
	} else {
		_ = st.Close()
	}
	fmt.Printf("crafted: read-only %s, keyed %s, full %s\n", read, keyed, full)
}
