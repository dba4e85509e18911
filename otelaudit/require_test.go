package otelaudit_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// gatedStore is a real store whose commits can be held at the door, so
// that a test decides when the writer's next commit happens, and what
// piles up meanwhile. It counts the commits that carried records.
type gatedStore struct {
	*store.Store
	mu      sync.Mutex
	gate    chan struct{} // nil: commits go through
	held    chan struct{} // receives when a commit waits at the gate
	commits atomic.Int64
}

func (s *gatedStore) Write(b otelaudit.Batch) error {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case s.held <- struct{}{}:
		default:
		}
		<-gate
	}
	err := s.Store.Write(b)
	if err == nil && len(b.Events) > 0 {
		s.commits.Add(1)
	}
	return err
}

// close shuts the gate: the next commit waits until open.
func (s *gatedStore) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = make(chan struct{})
	s.held = make(chan struct{}, 1)
}

func (s *gatedStore) open() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.gate)
	s.gate = nil
}

// requireGenerator returns a Generator on a new store file (signing with
// key when it is not nil), the store behind a gate, and the file's path.
func requireGenerator(t *testing.T, key ed25519.PrivateKey, opts ...otelaudit.Option) (*otelaudit.Generator, *gatedStore, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.db")
	st, err := store.Open(path)
	require.NoError(t, err)
	gs := &gatedStore{Store: st}
	opts = append([]otelaudit.Option{otelaudit.WithStore(gs)}, opts...)
	if key != nil {
		opts = append(opts, otelaudit.WithSigningKey(key))
	}
	g, err := otelaudit.New(opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		// Some tests leave a store that fails: Shutdown gives up on it.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = g.Shutdown(ctx)
	})
	return g, gs, path
}

func intent(i int) otelaudit.Event {
	return otelaudit.Event{
		Type:       otelaudit.ResourceAccess,
		AgentID:    "billing-agent",
		Action:     fmt.Sprintf("charge %d.00 EUR", i),
		Resource:   "payments://cards/alice",
		Attributes: []attribute.KeyValue{attribute.Int("i", i)},
	}
}

func TestRequireWithoutStoreRecordsNothing(t *testing.T) {
	g := otelaudit.NewGenerator()
	r, err := g.Require(context.Background(), intent(1))
	require.Error(t, err)
	assert.ErrorIs(t, err, otelaudit.ErrNoReceipt)
	assert.ErrorIs(t, err, otelaudit.ErrNoStore)
	var re *otelaudit.ReceiptError
	require.ErrorAs(t, err, &re)
	assert.False(t, re.Recorded())
	assert.Zero(t, r.Seq)
	st := g.Stats()
	assert.Zero(t, st.Recorded, "not recorded at all")
	assert.Equal(t, uint64(1), st.Rejected, "and counted")
	assert.Empty(t, g.Events(0))
	assert.ErrorIs(t, g.Ready(context.Background()), otelaudit.ErrNoStore)

	var nilG *otelaudit.Generator
	_, err = nilG.Require(context.Background(), intent(1))
	assert.ErrorIs(t, err, otelaudit.ErrNilGenerator)
	assert.ErrorIs(t, err, otelaudit.ErrNoReceipt)
	assert.ErrorIs(t, nilG.Ready(context.Background()), otelaudit.ErrNilGenerator)
}

func TestRequireReturnsOnceDurable(t *testing.T) {
	g, gs, _ := requireGenerator(t, nil)
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("tool").Start(context.Background(), "charge")
	defer span.End()

	r, err := g.Require(ctx, intent(7))
	require.NoError(t, err)
	assert.Equal(t, r.Seq, r.Event.Seq)
	assert.Equal(t, r.Hash, r.Event.Hash)
	assert.Equal(t, span.SpanContext().TraceID(), r.Event.TraceID, "trace context from ctx")
	assert.Equal(t, span.SpanContext().SpanID(), r.Event.SpanID)
	assert.False(t, r.Event.Time.IsZero())
	assert.GreaterOrEqual(t, g.Stats().Durable, r.Seq, "durable when Require returns")

	// The store has it, as the receipt says, before any flush.
	stored, ok, err := gs.Get(r.Seq)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, r.Hash, stored.Hash)
	held, err := g.Record(context.Background(), intent(8))
	require.NoError(t, err)
	assert.Equal(t, r.Seq+1, held.Seq)
	assert.Equal(t, r.Hash, held.PrevHash, "the receipt's Hash is the chain's")

	// Without a key there is no signed checkpoint: the receipt says it is
	// durable, and does not claim a signature.
	assert.Zero(t, r.Checkpoint)
	assert.Empty(t, r.Proof)
	pub, _, _ := ed25519.GenerateKey(nil)
	assert.ErrorIs(t, r.Verify(pub), otelaudit.ErrBadReceipt)
}

func TestRequireSignedReceiptVerifies(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	g, gs, _ := requireGenerator(t, priv)
	r, err := g.Require(context.Background(), intent(1))
	require.NoError(t, err)
	require.NoError(t, r.Verify(pub))
	assert.Equal(t, r.Seq, r.Checkpoint.Seq, "a lone Require: the commit's checkpoint is of its event")
	assert.Equal(t, r.Checkpoint.Size-1, r.Index, "the tree's last leaf")
	// The commit's signed head is the receipt's checkpoint.
	st, err := gs.Stats()
	require.NoError(t, err)
	assert.Equal(t, r.Checkpoint.Seq, st.Head.Seq)
	assert.Equal(t, g.Checkpoints()[len(g.Checkpoints())-1], r.Checkpoint)

	// The JSON form carries the proof, not the event.
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var back otelaudit.Receipt
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Empty(t, back.Event.Type)
	require.NoError(t, back.Verify(pub))

	other, _, _ := ed25519.GenerateKey(nil)
	err = r.Verify(other)
	assert.ErrorIs(t, err, otelaudit.ErrBadReceipt)
	assert.ErrorIs(t, err, otelaudit.ErrBadSignature)

	forged := r
	forged.Hash[0] ^= 1
	forged.Event = otelaudit.Event{}
	assert.ErrorIs(t, forged.Verify(pub), otelaudit.ErrBadReceipt, "another Hash at that Seq")
	forged = r
	forged.Event.Action = "charge 1000.00 EUR"
	assert.ErrorIs(t, forged.Verify(pub), otelaudit.ErrBadReceipt, "the event changed")
	forged = r
	forged.Seq++
	assert.ErrorIs(t, forged.Verify(pub), otelaudit.ErrBadReceipt, "another Seq")
	forged = r
	forged.Index++
	assert.ErrorIs(t, forged.Verify(pub), otelaudit.ErrBadProof, "another leaf")
	forged = r
	forged.Checkpoint.Size++
	assert.ErrorIs(t, forged.Verify(pub), otelaudit.ErrBadSignature, "another tree")
	assert.ErrorIs(t, otelaudit.Receipt{}.Verify(pub), otelaudit.ErrBadReceipt)
}

// Concurrent Requires ride one commit and one signature; every receipt
// proves its event in the commit's tree with an inclusion proof, checked
// with the public key, and by the library's own verifier.
func TestRequiresShareCommitsAndSignatures(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	g, gs, _ := requireGenerator(t, priv)
	ctx := context.Background()
	_, err := g.Record(ctx, intent(0))
	require.NoError(t, err)
	require.NoError(t, g.ForceFlush(ctx))
	before := gs.commits.Load()

	// Hold the writer's next commit at the door, with one event in it...
	gs.close()
	_, err = g.Record(ctx, intent(0))
	require.NoError(t, err)
	<-gs.held
	// ...while 64 Requires arrive, then 100 Records after them.
	const callers = 64
	receipts := make([]otelaudit.Receipt, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { receipts[i], errs[i] = g.Require(ctx, intent(i)) })
	}
	require.Eventually(t, func() bool { return g.Stats().LastSeq == 2+callers }, 10*time.Second, time.Millisecond)
	for i := range 100 {
		_, err := g.Record(ctx, intent(1000+i))
		require.NoError(t, err)
	}
	gs.open()
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i], "caller %d", i)
		require.NoError(t, receipts[i].Verify(pub), "caller %d", i)
	}
	assert.Equal(t, int64(2), gs.commits.Load()-before, "the held commit, then one for every Require and Record after it")

	// One checkpoint, the commit's head (of the last Record), serves the
	// 64: each receipt proves its leaf in that tree.
	sigs := map[string]bool{}
	for _, r := range receipts {
		sigs[string(r.Checkpoint.Signature)] = true
		assert.Equal(t, uint64(2+callers+100), r.Checkpoint.Seq, "the commit's last event")
		assert.Equal(t, r.Seq-1, r.Index, "no gap: leaf index is Seq-1")
		assert.LessOrEqual(t, len(r.Proof), 8, "log2 of 166 leaves, rounded up")
		// The library's verifier agrees.
		leaf := otelaudit.LeafHash(r.Hash)
		hs := make([][]byte, len(r.Proof))
		for k := range r.Proof {
			hs[k] = r.Proof[k][:]
		}
		require.NoError(t, proof.VerifyInclusion(rfc6962.DefaultHasher, r.Index, r.Checkpoint.Size, leaf[:], hs, r.Checkpoint.Root[:]))
	}
	assert.Len(t, sigs, 1, "one signature for all 64")

	// A receipt's checkpoint is a checkpoint of the stored trail.
	all, err := gs.Events(store.Query{})
	require.NoError(t, err)
	require.NoError(t, otelaudit.VerifyChain(otelaudit.GenesisAnchor, all, []otelaudit.Checkpoint{receipts[0].Checkpoint}, pub))
	_, err = gs.Verify(pub, []otelaudit.Checkpoint{receipts[0].Checkpoint})
	require.NoError(t, err)
}

// A ctx that ends first: the event was recorded and is kept, and becomes
// durable once the store takes it; the error says so.
func TestRequireDeadlineKeepsTheEvent(t *testing.T) {
	g, gs, _ := requireGenerator(t, nil)
	gs.close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := g.Require(ctx, intent(1))
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.ErrorIs(t, err, otelaudit.ErrNoReceipt)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var re *otelaudit.ReceiptError
	require.ErrorAs(t, err, &re)
	require.True(t, re.Recorded())
	assert.Contains(t, err.Error(), fmt.Sprintf("seq %d, recorded but not known to be durable", re.Seq))
	assert.Equal(t, uint64(1), g.Stats().Recorded)
	assert.Zero(t, g.Stats().Rejected)

	gs.open()
	require.NoError(t, g.ForceFlush(context.Background()))
	e, ok, err := gs.Get(re.Seq)
	require.NoError(t, err)
	require.True(t, ok, "kept, and durable once the store took it")
	assert.Equal(t, "charge 1.00 EUR", e.Action)

	// A ctx already done records nothing.
	_, err = g.Require(ctx, intent(2))
	require.ErrorAs(t, err, &re)
	assert.False(t, re.Recorded())
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, uint64(1), g.Stats().Rejected)
}

// A store closed under the Generator: Require fails at its first commit,
// and refuses at once after that, within its ctx, while Record goes on as
// documented: held until the ring is full of events waiting for the store,
// then ErrStoreBehind after the store wait.
func TestRequireOnAClosedStore(t *testing.T) {
	g, gs, _ := requireGenerator(t, nil, otelaudit.WithCapacity(64), otelaudit.WithStoreWait(20*time.Millisecond))
	ctx := context.Background()
	_, err := g.Require(ctx, intent(0))
	require.NoError(t, err)
	require.NoError(t, g.Ready(ctx))
	require.NoError(t, gs.Store.Close())

	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = g.Require(tctx, intent(1))
	require.Error(t, err)
	assert.ErrorIs(t, err, otelaudit.ErrNoReceipt)
	assert.ErrorIs(t, err, otelaudit.ErrStoreFailed)
	assert.ErrorIs(t, err, store.ErrClosed)
	assert.NoError(t, tctx.Err(), "it failed with the commit, not at the deadline")
	var re *otelaudit.ReceiptError
	require.ErrorAs(t, err, &re)
	assert.True(t, re.Recorded(), "taken before the first failure: kept and counted")

	start := time.Now()
	_, err = g.Require(tctx, intent(2))
	assert.ErrorIs(t, err, otelaudit.ErrStoreFailed)
	require.ErrorAs(t, err, &re)
	assert.False(t, re.Recorded(), "while the store fails, refused at once")
	assert.Less(t, time.Since(start), time.Second)
	assert.ErrorIs(t, g.Ready(tctx), otelaudit.ErrStoreFailed)

	// Record keeps its documented behaviour.
	recorded := 0
	for {
		_, err := g.Record(ctx, intent(3))
		if err != nil {
			assert.ErrorIs(t, err, otelaudit.ErrStoreBehind)
			break
		}
		recorded++
	}
	// 64 held: the durable seq 1 made room once, then only events waiting
	// for the store were left.
	assert.Equal(t, 64-2+1, recorded, "held until the ring is full of events waiting for the store")
	st := g.Stats()
	assert.Equal(t, uint64(2), st.Rejected, "the refused Require and the refused Record")
	assert.Positive(t, st.StoreErrors)
}

// A store opened read-only: the Generator cannot continue it, and Require
// refuses, recording nothing, as Record does.
func TestRequireOnAReadOnlyStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	st, err := store.Open(path)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	ro, err := store.Open(path, store.WithReadOnly())
	require.NoError(t, err)
	defer ro.Close()
	g := otelaudit.NewGenerator(otelaudit.WithStore(ro))
	_, err = g.Require(context.Background(), intent(1))
	assert.ErrorIs(t, err, otelaudit.ErrNoReceipt)
	assert.ErrorIs(t, err, otelaudit.ErrStoreRefused)
	assert.ErrorIs(t, err, store.ErrReadOnly)
	_, err = g.Record(context.Background(), intent(1))
	assert.ErrorIs(t, err, otelaudit.ErrStoreRefused)
	assert.Equal(t, uint64(2), g.Stats().Rejected)
	assert.ErrorIs(t, g.Ready(context.Background()), otelaudit.ErrStoreRefused)
}

func TestRequireAndShutdown(t *testing.T) {
	t.Run("after", func(t *testing.T) {
		g, _, _ := requireGenerator(t, nil)
		require.NoError(t, g.Shutdown(context.Background()))
		_, err := g.Require(context.Background(), intent(1))
		assert.ErrorIs(t, err, otelaudit.ErrNoReceipt)
		assert.ErrorIs(t, err, otelaudit.ErrShutdown)
		var re *otelaudit.ReceiptError
		require.ErrorAs(t, err, &re)
		assert.False(t, re.Recorded())
		assert.ErrorIs(t, g.Ready(context.Background()), otelaudit.ErrShutdown)
	})
	t.Run("flushed by it", func(t *testing.T) {
		pub, priv, _ := ed25519.GenerateKey(nil)
		g, gs, _ := requireGenerator(t, priv)
		gs.close()
		done := make(chan error, 1)
		var r otelaudit.Receipt
		go func() {
			var err error
			r, err = g.Require(context.Background(), intent(1))
			done <- err
		}()
		<-gs.held
		go func() { time.Sleep(20 * time.Millisecond); gs.open() }()
		require.NoError(t, g.Shutdown(context.Background()))
		require.NoError(t, <-done, "Shutdown flushes what was accepted: a receipt")
		require.NoError(t, r.Verify(pub))
	})
	t.Run("cut short", func(t *testing.T) {
		g, gs, _ := requireGenerator(t, nil)
		gs.close()
		done := make(chan error, 1)
		go func() {
			_, err := g.Require(context.Background(), intent(1))
			done <- err
		}()
		<-gs.held
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		go func() { time.Sleep(100 * time.Millisecond); gs.open() }()
		assert.Error(t, g.Shutdown(ctx))
		err := <-done
		// The held commit went through after Shutdown gave up waiting, or
		// the writer stopped first: either a receipt, or ErrShutdown with
		// the event recorded.
		if err != nil {
			assert.ErrorIs(t, err, otelaudit.ErrShutdown)
			var re *otelaudit.ReceiptError
			require.ErrorAs(t, err, &re)
			assert.True(t, re.Recorded())
		}
	})
}

func TestRequireRefusesBadInput(t *testing.T) {
	g, _, _ := requireGenerator(t, nil)
	_, err := g.Require(context.Background(), otelaudit.Event{})
	assert.ErrorIs(t, err, otelaudit.ErrNoReceipt)
	assert.ErrorIs(t, err, otelaudit.ErrEmptyType)
	_, err = g.Require(context.Background(), otelaudit.Event{Type: "x", Outcome: "maybe"})
	assert.ErrorIs(t, err, otelaudit.ErrInvalidEvent)
	assert.Equal(t, uint64(2), g.Stats().Rejected)
	assert.Zero(t, g.Stats().Recorded)
}

// Ready makes a commit when there is nothing to write, so that it finds a
// store that can no longer take one.
func TestReadyProbesTheStore(t *testing.T) {
	g, gs, _ := requireGenerator(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, g.Ready(ctx))
	gs.close()
	short, cancelShort := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancelShort()
	err := g.Ready(short)
	assert.ErrorIs(t, err, otelaudit.ErrNoReceipt)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "no commit ended within the context")
	gs.open()
	require.NoError(t, g.Ready(ctx))

	require.NoError(t, gs.Store.Close())
	err = g.Ready(ctx)
	assert.ErrorIs(t, err, otelaudit.ErrStoreFailed, "nothing to write, and still found out")
	assert.ErrorIs(t, err, store.ErrClosed)
}

func TestRequireMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	g, _, _ := requireGenerator(t, nil, otelaudit.WithMeterProvider(mp))
	ctx := context.Background()
	for i := range 3 {
		_, err := g.Require(ctx, intent(i))
		require.NoError(t, err)
	}
	_, err := g.Require(ctx, otelaudit.Event{})
	require.Error(t, err)
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err = g.Require(done, intent(9))
	require.Error(t, err)

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	var hist metricdata.Histogram[float64]
	var fails metricdata.Sum[int64]
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch m.Name {
			case "otelaudit.require.duration":
				hist = m.Data.(metricdata.Histogram[float64])
				assert.Equal(t, "s", m.Unit)
			case "otelaudit.require.failures":
				fails = m.Data.(metricdata.Sum[int64])
			}
		}
	}
	byType := map[string]uint64{}
	for _, dp := range hist.DataPoints {
		v, _ := dp.Attributes.Value("error.type")
		byType[v.AsString()] += dp.Count
		if v.AsString() == "" {
			assert.Positive(t, dp.Sum, "durations recorded")
			top, ok := dp.Max.Value()
			assert.True(t, ok)
			assert.Less(t, top, 5.0)
		}
	}
	assert.Equal(t, map[string]uint64{"": 3, "invalid_event": 1, "canceled": 1}, byType)
	failures := map[string]int64{}
	for _, dp := range fails.DataPoints {
		v, _ := dp.Attributes.Value("error.type")
		failures[v.AsString()] += dp.Value
	}
	assert.Equal(t, map[string]int64{"invalid_event": 1, "canceled": 1}, failures)
}

// Requires and Records from many goroutines, with a signing key: every
// receipt verifies, every receipted event is stored with its Hash, and
// the trail verifies.
func TestRequireUnderConcurrency(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	g, gs, path := requireGenerator(t, priv)
	ctx := context.Background()
	const goroutines, each = 16, 40
	var (
		mu       sync.Mutex
		receipts []otelaudit.Receipt
		wg       sync.WaitGroup
	)
	for w := range goroutines {
		wg.Go(func() {
			for i := range each {
				if w%4 == 0 {
					_, err := g.Record(ctx, intent(i))
					assert.NoError(t, err)
					continue
				}
				r, err := g.Require(ctx, intent(w*1000+i))
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				receipts = append(receipts, r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, receipts, goroutines*3/4*each)
	seen := map[uint64]bool{}
	for _, r := range receipts {
		require.NoError(t, r.Verify(pub))
		require.False(t, seen[r.Seq], "seq %d receipted twice", r.Seq)
		seen[r.Seq] = true
		e, ok, err := gs.Get(r.Seq)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, r.Hash, e.Hash)
	}
	require.NoError(t, g.Shutdown(ctx))
	st, err := store.Open(path, store.WithReadOnly())
	require.NoError(t, err)
	defer st.Close()
	rep, err := st.Verify(pub, nil)
	require.NoError(t, err)
	assert.Equal(t, uint64(goroutines*each), rep.Events)
}
