package tests

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"crypto/ed25519"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// The crash test: a child process records events into a store and reports
// every Seq that ForceFlush returned for; the parent SIGKILLs it at a
// random moment, reopens the store, and checks that the chain verifies,
// every reported Seq is there, and no event is partial. Then again, on the
// same file, so each run also checks that numbering and the chain continue
// across a kill.

const (
	crashChildEnv = "OTELAUDIT_CRASH_CHILD" // the store path, in the child
	crashKeyEnv   = "OTELAUDIT_CRASH_KEY"   // the signing key, hex
	crashRuns     = 24
)

// TestCrashChild is the child's body; it does nothing unless started by
// TestCrashRecovery.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("run by TestCrashRecovery in a child process")
	}
	key, err := hex.DecodeString(os.Getenv(crashKeyEnv))
	if err != nil || len(key) != ed25519.PrivateKeySize {
		fmt.Println("bad key")
		os.Exit(3)
	}
	st, err := store.Open(path)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	g := otelaudit.NewGenerator(otelaudit.WithStore(st), otelaudit.WithCapacity(1024),
		otelaudit.WithSigningKey(key), otelaudit.WithCheckpointInterval(500, 20*time.Millisecond),
		otelaudit.WithStoreWait(time.Minute))
	fmt.Printf("start %d\n", st.Head().Seq)
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
					fmt.Println("append:", err)
					os.Exit(3)
				}
			}
		}()
	}
	for {
		time.Sleep(time.Duration(rand.IntN(5)) * time.Millisecond)
		last := g.Stats().LastSeq
		if err := g.ForceFlush(ctx); err != nil {
			fmt.Println("flush:", err)
			os.Exit(3)
		}
		// Written straight to the pipe: once the parent reads it, it is the
		// child's claim, whatever happens next.
		fmt.Printf("flushed %d\n", last)
	}
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "audit.db")
	var lastHead uint64
	total := 0
	for run := range crashRuns {
		flushed, start, flushes := crashRun(t, path, priv, run)
		st, err := store.Open(path)
		require.NoError(t, err, "run %d: the store must reopen, chain verified", run)
		rep, err := st.Verify(pub, nil)
		require.NoError(t, err, "run %d", run)
		head := st.Head()
		assert.Equal(t, lastHead, start, "run %d: the child continued from the last head", run)
		assert.GreaterOrEqual(t, head.Seq, flushed, "run %d: every flushed event survived the kill", run)
		assert.Equal(t, head.Seq, rep.Head.Seq)
		assert.Equal(t, head.Seq-rep.Anchor.Seq, rep.Events, "run %d: no gap", run)
		// Every event decodes in full: none is partial.
		all, err := st.Events(store.Query{Since: time.Time{}, Limit: 0})
		require.NoError(t, err, "run %d", run)
		require.Len(t, all, int(rep.Events))
		require.NoError(t, otelaudit.VerifyChain(rep.Anchor, all, nil, nil))
		cps, err := st.Checkpoints()
		require.NoError(t, err)
		for _, c := range cps {
			require.NoError(t, c.VerifySignature(pub))
		}
		t.Logf("run %2d: killed after %d flushes up to seq %d; %d stored (%d new), %d checkpoints", run, flushes, flushed, head.Seq, head.Seq-lastHead, len(cps))
		total += int(flushed - start)
		lastHead = head.Seq
		require.NoError(t, st.Close())
	}
	assert.Greater(t, total, crashRuns, "the children flushed events before being killed")
}

// crashRun starts a child on path, lets it record and flush for a random
// while, SIGKILLs it, and returns the newest Seq it reported flushed and
// the head it started from.
func crashRun(t *testing.T, path string, key ed25519.PrivateKey, run int) (flushed, start uint64, flushes int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path, crashKeyEnv+"="+hex.EncodeToString(key))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())

	var (
		mu      sync.Mutex
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
				start, _ = strconv.ParseUint(f[1], 10, 64)
			case len(f) == 2 && f[0] == "flushed":
				n, _ := strconv.ParseUint(f[1], 10, 64)
				flushed = max(flushed, n)
				flushes++
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
	time.Sleep(time.Duration(rand.IntN(400)) * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	<-done
	_ = cmd.Wait()
	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, other, "run %d: the child reported a failure", run)
	return max(flushed, start), start, flushes
}
