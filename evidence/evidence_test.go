package evidence_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/evidence"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// bigEvents is the size of the signed store the bundle tests share.
const (
	bigEvents = 100_000
	bigTraces = 10_000 // ten events per trace, spread over the trail
)

// traceOf is the trace of the i-th event: the traces interleave, as the
// traces of concurrent workflows do, so that a trace's ten events lie
// about bigTraces leaves apart.
func traceOf(i int) trace.TraceID {
	n := (i*7919 + i/bigTraces) % bigTraces
	return trace.TraceID{0xee, byte(n >> 8), byte(n), 1}
}

type bigStore struct {
	path   string
	pub    ed25519.PublicKey
	st     *store.Store
	hashes []otelaudit.Hash // every event's, in order
	err    error
}

var (
	bigOnce sync.Once
	big     bigStore
)

// sharedStore builds, once for every test, a signed store of bigEvents
// events through a Generator, and opens it read-only.
func sharedStore(t *testing.T) *bigStore {
	t.Helper()
	bigOnce.Do(func() {
		dir, err := mkdirTemp()
		if err != nil {
			big.err = err
			return
		}
		pub, priv, _ := ed25519.GenerateKey(nil)
		big.path, big.pub = filepath.Join(dir, "big.db"), pub
		st, err := store.Open(big.path)
		if err != nil {
			big.err = err
			return
		}
		g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithOrigin("audit.example.com/evidence-test"))
		if err != nil {
			big.err = err
			return
		}
		start := time.Unix(1_800_000_000, 0)
		for i := range bigEvents {
			_, err := g.Append(context.Background(), otelaudit.Event{
				Type: otelaudit.ResourceAccess, Time: start.Add(time.Duration(i) * time.Millisecond),
				TraceID: traceOf(i), SpanID: trace.SpanID{1, byte(i >> 8), byte(i)},
				AgentID: "agent", Action: "GET", Resource: fmt.Sprintf("https://api.example.com/items/%d", i),
				Outcome: otelaudit.Success, Attributes: []attribute.KeyValue{attribute.Int64("big", 1<<60+int64(i))},
			})
			if err != nil {
				big.err = err
				return
			}
		}
		if big.err = g.Shutdown(context.Background()); big.err != nil {
			return
		}
		if big.st, big.err = store.Open(big.path, store.WithReadOnly()); big.err != nil {
			return
		}
		all, err := big.st.Events(store.Query{})
		if err != nil {
			big.err = err
			return
		}
		for _, e := range all {
			big.hashes = append(big.hashes, e.Hash)
		}
	})
	require.NoError(t, big.err)
	return &big
}

var tempDirs struct {
	sync.Mutex
	dir string
}

// mkdirTemp is one directory for the shared store, kept until the process
// ends (a test's TempDir goes with its test).
func mkdirTemp() (string, error) {
	tempDirs.Lock()
	defer tempDirs.Unlock()
	if tempDirs.dir == "" {
		d, err := osMkdirTemp()
		if err != nil {
			return "", err
		}
		tempDirs.dir = d
	}
	return tempDirs.dir, nil
}

// Bundles of traces at the start, the middle and the end of the trail
// verify with the key, prove every event of the trace, and their proofs
// pass the library's own verifier against a root the library computes
// itself from every event.
func TestBundlesVerify(t *testing.T) {
	b := sharedStore(t)
	// The root, computed by the library alone.
	rf := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	r := rf.NewEmptyRange(0)
	for _, h := range b.hashes {
		require.NoError(t, r.Append(rfc6962.DefaultHasher.HashLeaf(h[:]), nil))
	}
	root, err := r.GetRootHash(nil)
	require.NoError(t, err)
	require.Len(t, b.hashes, bigEvents)

	for _, at := range []int{0, bigEvents / 2, bigEvents - 1} {
		id := traceOf(at)
		t.Run(fmt.Sprintf("trace of event %d", at), func(t *testing.T) {
			bundle, err := b.st.Evidence(id)
			require.NoError(t, err)
			res, err := bundle.Verify(b.pub)
			require.NoError(t, err)
			stored, err := b.st.EventsByTrace(id)
			require.NoError(t, err)
			require.Len(t, res.Events, len(stored))
			require.Len(t, stored, bigEvents/bigTraces)
			for i := range stored {
				assert.Equal(t, stored[i].Seq, res.Events[i].Seq)
				assert.Equal(t, stored[i].Hash, res.Events[i].Hash)
				assert.Equal(t, stored[i].Attributes, res.Events[i].Attributes, "an int64 above 2^53 survives the decoded form")
			}
			assert.Equal(t, uint64(bigEvents), res.Checkpoint.Size)
			assert.Equal(t, root, res.Checkpoint.Root[:], "the signed root is the library's")
			assert.Equal(t, "audit.example.com/evidence-test", res.Checkpoint.Origin)
			for _, e := range bundle.Events {
				hs := make([][]byte, len(e.Proof))
				for k, j := range e.Proof {
					hs[k] = bundle.Hashes[j]
				}
				require.NoError(t, proof.VerifyInclusion(rfc6962.DefaultHasher, e.LeafIndex, uint64(bigEvents),
					rfc6962.DefaultHasher.HashLeaf(e.Hash[:]), hs, root), "leaf %d", e.LeafIndex)
			}
			// The JSON round trip, as otelaudit proof writes it and
			// verify-proof reads it.
			js, err := json.MarshalIndent(bundle, "", "  ")
			require.NoError(t, err)
			back, err := evidence.Read(bytes.NewReader(js))
			require.NoError(t, err)
			_, err = back.Verify(b.pub)
			require.NoError(t, err)
			t.Logf("%d events, %d distinct proof hashes, %d bytes of JSON (%d indented)", len(bundle.Events), len(bundle.Hashes), len(mustJSON(t, bundle)), len(js))
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// cloneBundle deep-copies a bundle through its JSON form.
func cloneBundle(t *testing.T, b *evidence.Bundle) *evidence.Bundle {
	out, err := evidence.Read(bytes.NewReader(mustJSON(t, b)))
	require.NoError(t, err)
	return out
}

// failsNaming asserts that b does not verify, with an *evidence.Error
// whose What starts with what.
func failsNaming(t *testing.T, b *evidence.Bundle, pub ed25519.PublicKey, what string, msg string) {
	t.Helper()
	_, err := b.Verify(pub)
	require.Error(t, err, msg)
	require.ErrorIs(t, err, evidence.ErrInvalid, msg)
	var ee *evidence.Error
	require.True(t, errors.As(err, &ee), msg)
	require.True(t, strings.HasPrefix(ee.What, what), "%s: names %q, want %q (%v)", msg, ee.What, what, err)
}

// Changing any byte of any event, of any proof hash or of the checkpoint
// fails verification, naming what was changed. Each byte is changed in
// place, checked, and changed back.
func TestBundleTamperEveryByte(t *testing.T) {
	b := sharedStore(t)
	bundle, err := b.st.Evidence(traceOf(bigEvents / 2))
	require.NoError(t, err)
	_, err = bundle.Verify(b.pub)
	require.NoError(t, err)

	cases := 0
	flip := func(p *byte, bit byte, check func()) {
		*p ^= bit
		check()
		*p ^= bit
		cases++
	}
	for i := range bundle.Events {
		e := &bundle.Events[i]
		seq := fmt.Sprintf("event seq %d", mustSeq(t, e.Canonical))
		for k := range e.Canonical {
			flip(&e.Canonical[k], 0x01, func() {
				// A changed byte may stop the bytes decoding at all (named
				// by place), or decode to another event (named by its Seq,
				// which the change may have touched too).
				_, err := bundle.Verify(b.pub)
				var ee *evidence.Error
				require.True(t, errors.As(err, &ee), "canonical byte %d of event %d: %v", k, i, err)
				require.True(t, strings.HasPrefix(ee.What, "event "), "canonical byte %d of event %d names %q", k, i, ee.What)
			})
		}
		for k := range hashLen {
			flip(&e.Hash[k], 0x80, func() { failsNaming(t, bundle, b.pub, seq, fmt.Sprintf("hash byte %d of event %d", k, i)) })
			flip(&e.PrevHash[k], 0x80, func() { failsNaming(t, bundle, b.pub, seq, fmt.Sprintf("prev hash byte %d of event %d", k, i)) })
		}
		e.LeafIndex++
		failsNaming(t, bundle, b.pub, seq, "leaf index")
		e.LeafIndex--
		decoded := e.Decoded
		e.Decoded = bytes.Replace(decoded, []byte(`"GET"`), []byte(`"DELETE"`), 1)
		failsNaming(t, bundle, b.pub, seq, "the decoded form")
		e.Decoded = decoded
		cases += 2
	}
	for j := range bundle.Hashes {
		for k := range bundle.Hashes[j] {
			flip(&bundle.Hashes[j][k], 0x01, func() {
				failsNaming(t, bundle, b.pub, "event seq ", fmt.Sprintf("byte %d of proof hash %d", k, j))
			})
		}
	}
	note := []byte(bundle.Checkpoint)
	for k := range note {
		note[k] ^= 0x01
		bundle.Checkpoint = string(note)
		failsNaming(t, bundle, b.pub, "checkpoint", fmt.Sprintf("byte %d of the checkpoint", k))
		note[k] ^= 0x01
		cases++
	}
	bundle.Checkpoint = string(note)
	_, err = bundle.Verify(b.pub)
	require.NoError(t, err, "every change undone")

	// Another key: the checkpoint is named, as not signed by it.
	other, _, _ := ed25519.GenerateKey(nil)
	failsNaming(t, bundle, other, "checkpoint", "another key")
	_, err = bundle.Verify(other)
	assert.ErrorIs(t, err, otelaudit.ErrBadSignature)
	// An event dropped from the bundle leaves a valid bundle of the rest:
	// completeness is not what a bundle proves (see the package doc).
	c := cloneBundle(t, bundle)
	c.Events = c.Events[1:]
	_, err = c.Verify(b.pub)
	assert.NoError(t, err)
	// Events of another trace, or repeated, are refused.
	c = cloneBundle(t, bundle)
	c.TraceID = traceOf(0).String()
	failsNaming(t, c, b.pub, "event seq ", "another trace")
	c = cloneBundle(t, bundle)
	c.Events = append(c.Events, c.Events[0])
	failsNaming(t, c, b.pub, "event seq ", "an event twice")
	t.Logf("%d changed bundles, every one refused", cases)
}

const hashLen = len(otelaudit.Hash{})

func mustSeq(t *testing.T, canonical []byte) uint64 {
	var e otelaudit.Event
	require.NoError(t, e.UnmarshalBinary(canonical))
	return e.Seq
}

// No event of a store, no signed checkpoint: clear errors, not empty
// bundles.
func TestEvidenceRefusals(t *testing.T) {
	b := sharedStore(t)
	_, err := b.st.Evidence(trace.TraceID{0x42})
	assert.ErrorIs(t, err, store.ErrNotFound)

	path := filepath.Join(t.TempDir(), "unsigned.db")
	st, err := store.Open(path)
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st))
	require.NoError(t, err)
	_, err = g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeStart, TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}})
	require.NoError(t, err)
	require.NoError(t, g.Shutdown(context.Background()))
	st, err = store.Open(path, store.WithReadOnly())
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Evidence(trace.TraceID{1})
	assert.ErrorIs(t, err, store.ErrNoCheckpoint)
}

// The verifying package links no database and no store: a verifier
// carries otelaudit's event types (and through them OTel's), the
// transparency-log libraries, and nothing of bbolt.
func TestImportRule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/otelaudit/otelaudit-go/evidence").CombinedOutput()
	require.NoError(t, err, string(out))
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/transparency-dev/merkle/proof")
	require.Contains(t, deps, "golang.org/x/mod/sumdb/note")
	for _, d := range deps {
		assert.NotContains(t, d, "bbolt", "evidence must not import bbolt")
		assert.NotEqual(t, "github.com/otelaudit/otelaudit-go/store", d)
	}
}
