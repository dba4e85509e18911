package tests

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// The crash test: a child process records events into a store and reports
// every Seq that ForceFlush returned for, and every event it saw handed out
// (durable or not); the parent SIGKILLs it at a random moment, reopens the
// store and checks that the chain and the signed head verify, every
// reported flushed Seq is there, every event seen is either stored as seen
// or among the Seqs the next run records as lost, and no event is partial.
// Then again, on the same file, so each run also checks that numbering and
// the chain continue across a kill, after a SeqGap record of exactly the
// Seqs the killed run had reserved.

const (
	crashChildEnv = "OTELAUDIT_CRASH_CHILD" // the store path, in the child
	crashKeyEnv   = "OTELAUDIT_CRASH_KEY"   // the signing key, hex
	crashRuns     = 24
	crashCapacity = 1024
)

// TestCrashChild is the child's body; it does nothing unless started by
// TestCrashRecovery.
func TestCrashChild(t *testing.T) {
	path := childEnv(t, crashChildEnv, "TestCrashRecovery")
	g := signedChildGenerator(path, childKey(crashKeyEnv), otelaudit.WithCapacity(crashCapacity),
		otelaudit.WithCheckpointInterval(500, 20*time.Millisecond), otelaudit.WithStoreWait(time.Minute))
	fmt.Printf("start %d\n", g.Anchor().Seq)
	ctx := context.Background()
	// Two writers record as fast as they can, events of varying size, until
	// the parent kills the process.
	for w := range 2 {
		go func() {
			for i := 0; ; i++ {
				e := otelaudit.Event{
					Type:       otelaudit.NodeEnd,
					TraceID:    trace.TraceID{byte(w + 1), byte(i)},
					SpanID:     trace.SpanID{byte(i + 1)},
					AgentID:    fmt.Sprintf("agent-%d", w),
					Resource:   strings.Repeat("r", i%300),
					Attributes: []attribute.KeyValue{attribute.Int("i", i)},
				}
				if _, err := g.Append(ctx, e); err != nil {
					childFail("append", err)
				}
			}
		}()
	}
	for {
		time.Sleep(time.Duration(rand.IntN(5)) * time.Millisecond)
		// The newest event handed out, durable or not: after the kill it
		// must be stored as it is now, or its Seq recorded as lost.
		if evs := g.Events(1); len(evs) == 1 {
			fmt.Printf("seen %d %s\n", evs[0].Seq, evs[0].Hash)
		}
		last := g.Stats().LastSeq
		if err := g.ForceFlush(ctx); err != nil {
			childFail("flush", err)
		}
		// Written straight to the pipe: once the parent reads it, it is the
		// child's claim, whatever happens next.
		fmt.Printf("flushed %d\n", last)
	}
}

// crashOutcome is what a run of the child reported and left behind.
type crashOutcome struct {
	start, flushed uint64
	flushes        int
	seen           map[uint64]otelaudit.Hash
	// head and reserved, read from the store after the kill.
	head, reserved uint64
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "audit.db")
	var runs []crashOutcome
	lost, seenTotal := 0, 0
	for run := range crashRuns {
		out := crashRun(t, path, priv, run)
		// Read-only: the next child opens it for writing, with the key,
		// which refuses a head the key did not sign.
		st, err := store.Open(path, store.WithReadOnly())
		require.NoError(t, err, "run %d: the store must reopen", run)
		require.NoError(t, st.VerifyError(), "run %d: the chain verifies", run)
		rep, err := st.Verify(pub, nil)
		require.NoError(t, err, "run %d", run)
		stats, err := st.Stats()
		require.NoError(t, err)
		out.head, out.reserved = stats.Head.Seq, stats.Reserved
		assert.GreaterOrEqual(t, out.head, out.flushed, "run %d: every flushed event survived the kill", run)
		assert.Equal(t, out.head, rep.SignedUpTo, "run %d: the head is signed, whenever the kill came", run)
		assert.Greater(t, out.reserved, out.head, "run %d: a killed run leaves Seqs reserved past its head", run)
		if run > 0 {
			// The run began with a record of exactly what the run before
			// had reserved and not stored, and numbered after it.
			prev := runs[run-1]
			require.NotEmpty(t, rep.Gaps, "run %d", run)
			g := rep.Gaps[len(rep.Gaps)-1]
			assert.Equal(t, prev.head+1, g.First, "run %d: the gap starts after the last stored event", run)
			assert.Equal(t, prev.reserved, g.Last, "run %d: the gap ends with the last Seq reserved", run)
			assert.Equal(t, g.Seq, out.start, "run %d: the run continued from its gap record", run)
		}
		require.Len(t, rep.Gaps, run, "run %d: one recorded gap per crash before it", run)
		var inGaps uint64
		for _, g := range rep.Gaps {
			inGaps += g.Last - g.First + 1
		}
		assert.Equal(t, out.head-rep.Anchor.Seq, rep.Events+inGaps, "run %d: every Seq is stored or recorded as lost", run)
		// Every event seen handed out is stored as it was seen, or its Seq
		// lies in the reserved range the next run records as lost: no Seq
		// names two events.
		for seq, h := range out.seen {
			seenTotal++
			if seq > out.head {
				lost++
				assert.LessOrEqual(t, seq, out.reserved, "run %d: seq %d was lost outside the reserved range", run, seq)
				continue
			}
			e, ok, err := st.Get(seq)
			require.NoError(t, err)
			require.True(t, ok, "run %d: seq %d", run, seq)
			assert.Equal(t, h, e.Hash, "run %d: seq %d is stored as it was handed out", run, seq)
		}
		// Every event of the run decodes in full, none is partial, and
		// they chain on from the run before.
		from := otelaudit.GenesisAnchor
		// A run killed before its first commit stored nothing: the next
		// one chains on from the genesis too.
		if run > 0 && runs[run-1].head > 0 {
			e, ok, err := st.Get(runs[run-1].head)
			require.NoError(t, err)
			require.True(t, ok)
			from = otelaudit.Anchor{Seq: e.Seq, Hash: e.Hash}
		}
		fresh, err := st.EventsAfter(from.Seq, 0)
		require.NoError(t, err, "run %d", run)
		require.NoError(t, otelaudit.VerifyChain(from, fresh, nil, nil), "run %d", run)
		cps, err := st.Checkpoints()
		require.NoError(t, err)
		for _, c := range cps {
			require.NoError(t, c.VerifySignature(pub))
		}
		t.Logf("run %2d: killed after %d flushes up to seq %d; %d stored (%d events new), reserved up to %d, %d checkpoints",
			run, out.flushes, out.flushed, out.head, int(out.head)-int(out.start), out.reserved, len(cps))
		runs = append(runs, out)
		require.NoError(t, st.Close())
	}
	// A last, clean run records the last kill's gap and releases its own
	// reservation: nothing reserved is left.
	st, err := store.Open(path, store.WithPublicKey(pub))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithCapacity(crashCapacity))
	require.NoError(t, err)
	_, err = g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd})
	require.NoError(t, err)
	require.NoError(t, g.Shutdown(context.Background()))
	st, err = store.Open(path, store.WithPublicKey(pub), store.WithReadOnly())
	require.NoError(t, err)
	defer st.Close()
	rep, err := st.Verify(pub, nil)
	require.NoError(t, err)
	assert.Len(t, rep.Gaps, crashRuns, "every kill's lost Seqs are on the record")
	stats, err := st.Stats()
	require.NoError(t, err)
	assert.Equal(t, stats.Head.Seq, stats.Reserved, "a clean shutdown reserves nothing past its head")
	total := 0
	for _, r := range runs {
		total += int(r.flushed - r.start)
	}
	assert.Greater(t, total, crashRuns, "the children flushed events before being killed")
	t.Logf("%d kills; %d events seen handed out, %d of them lost and recorded in gaps", crashRuns, seenTotal, lost)
}

// crashRun starts a child on path, lets it record and flush for a random
// while, SIGKILLs it, and returns what it reported: the newest Seq it
// reported flushed, the head it started from (after its own first
// records), and the events it saw handed out.
func crashRun(t *testing.T, path string, key ed25519.PrivateKey, run int) crashOutcome {
	t.Helper()
	cmd := childCommand("TestCrashChild", crashChildEnv+"="+path, crashKeyEnv+"="+hex.EncodeToString(key))
	out := startChild(t, cmd)

	var (
		mu      sync.Mutex
		res     = crashOutcome{seen: map[uint64]otelaudit.Hash{}}
		started = make(chan struct{})
		done    = make(chan struct{})
		other   []string
	)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		first := true
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			mu.Lock()
			switch {
			case len(f) == 2 && f[0] == "start":
				res.start, _ = strconv.ParseUint(f[1], 10, 64)
			case len(f) == 2 && f[0] == "flushed":
				n, _ := strconv.ParseUint(f[1], 10, 64)
				res.flushed = max(res.flushed, n)
				res.flushes++
			case len(f) == 3 && f[0] == "seen":
				n, _ := strconv.ParseUint(f[1], 10, 64)
				h, err := otelaudit.ParseHash(f[2])
				if err != nil {
					other = append(other, sc.Text())
				}
				res.seen[n] = h
			default:
				other = append(other, sc.Text())
			}
			mu.Unlock()
			if first {
				first = false
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("run %d: the child did not start", run)
	}
	// Kill at a random moment: early runs sometimes before the first
	// flush, most while writes and commits are in full flow.
	time.Sleep(time.Duration(rand.IntN(250)) * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	<-done
	_ = cmd.Wait()
	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, other, "run %d: the child reported a failure", run)
	res.flushed = max(res.flushed, res.start)
	return res
}
