package tests

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// The receipt crash test: a child process Requires events from 64
// goroutines, with a signing key, beside a goroutine that Records as fast
// as it can (so that commits hold more than the Requires, and receipts
// prove their events in trees past them), and prints every receipt the
// moment it has it. It is SIGKILLed right after its last receipt, or at a
// random receipt. After each kill the parent reopens the store and checks
// that every receipted Seq holds the receipted event with the receipted
// Hash, that every receipt verifies with the public key, and that the
// receipts' checkpoints, and the store's, verify against the trail with
// it. Then again on the same file.

const (
	receiptChildEnv  = "OTELAUDIT_RECEIPT_CHILD" // the store path, in the child
	receiptKeyEnv    = "OTELAUDIT_RECEIPT_KEY"   // the signing key, hex
	receiptCallers   = 64
	receiptEach      = 12
	receiptCrashRuns = 4
)

// TestReceiptCrashChild is the child's body; it does nothing unless
// started by TestReceiptsSurviveKill.
func TestReceiptCrashChild(t *testing.T) {
	path := childEnv(t, receiptChildEnv, "TestReceiptsSurviveKill")
	g := signedChildGenerator(path, childKey(receiptKeyEnv))
	ctx := context.Background()
	go func() {
		for i := 0; ; i++ {
			if _, err := g.Append(ctx, otelaudit.Event{Type: otelaudit.NodeEnd, Action: "background", Attributes: []attribute.KeyValue{attribute.Int("i", i)}}); err != nil {
				childFail("append", err)
			}
			if i%64 == 0 {
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	var (
		out sync.Mutex
		wg  sync.WaitGroup
	)
	for c := range receiptCallers {
		wg.Go(func() {
			for i := range receiptEach {
				r, err := g.Require(ctx, receiptEvent(c, i))
				if err != nil {
					childFail("require", err)
				}
				b, _ := json.Marshal(r)
				// One write per line, whole, before the next receipt:
				// once the parent reads it, it is the child's claim.
				out.Lock()
				fmt.Printf("receipt %d %d %s\n", c, i, b)
				out.Unlock()
			}
		})
	}
	wg.Wait()
	out.Lock()
	fmt.Println("last")
	// Right after the last receipt: no Shutdown, no flush.
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// receiptEvent is the intent goroutine c requires for its i-th action.
func receiptEvent(c, i int) otelaudit.Event {
	return otelaudit.Event{
		Type:       otelaudit.ResourceAccess,
		AgentID:    fmt.Sprintf("caller-%02d", c),
		Action:     fmt.Sprintf("charge %d", i),
		Resource:   "payments://cards/alice",
		Attributes: []attribute.KeyValue{attribute.Int("caller", c), attribute.Int("i", i)},
	}
}

type receiptLine struct {
	caller, i int
	r         otelaudit.Receipt
}

func TestReceiptsSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "audit.db")
	total := 0
	for run := range receiptCrashRuns {
		// Even runs kill right after the last receipt (the child kills
		// itself); odd ones at a random receipt, while Requires are in
		// flight.
		killAt := 0
		if run%2 == 1 {
			killAt = 1 + rand.IntN(receiptCallers*receiptEach-1)
		}
		lines := receiptRun(t, path, priv, killAt)
		if killAt == 0 {
			require.Len(t, lines, receiptCallers*receiptEach, "run %d: every Require got its receipt", run)
		} else {
			require.GreaterOrEqual(t, len(lines), killAt, "run %d", run)
		}

		st, err := store.Open(path, store.WithReadOnly())
		require.NoError(t, err, "run %d: the store reopens", run)
		require.NoError(t, st.VerifyError(), "run %d", run)
		rep, err := st.Verify(pub, nil)
		require.NoError(t, err, "run %d: the chain and the signed head verify with the public key", run)
		cps := make([]otelaudit.Checkpoint, 0, len(lines))
		seen := map[uint64]bool{}
		paths := 0
		for _, l := range lines {
			r := l.r
			require.False(t, seen[r.Seq], "run %d: seq %d receipted twice", run, r.Seq)
			seen[r.Seq] = true
			require.NoError(t, r.Verify(pub), "run %d: the receipt of seq %d", run, r.Seq)
			e, ok, err := st.Get(r.Seq)
			require.NoError(t, err)
			require.True(t, ok, "run %d: receipted seq %d is in the store", run, r.Seq)
			require.Equal(t, r.Hash, e.Hash, "run %d: seq %d has the receipted Hash", run, r.Seq)
			want := receiptEvent(l.caller, l.i)
			require.Equal(t, want.AgentID, e.AgentID, "run %d: seq %d is the receipted event", run, r.Seq)
			require.Equal(t, want.Action, e.Action, "run %d: seq %d", run, r.Seq)
			cps = append(cps, r.Checkpoint)
			if r.Checkpoint.Seq > r.Seq {
				paths++
			}
		}
		// Every receipt's checkpoint is a checkpoint of the stored trail,
		// signed by the key: kept elsewhere, each would catch a trail cut
		// or rewritten before it.
		require.NoError(t, otelaudit.VerifyCheckpoints(cps, pub, rep.Anchor, rep.Head, func(seq uint64) (otelaudit.Hash, bool) {
			e, ok, err := st.Get(seq)
			return e.Hash, ok && err == nil
		}), "run %d", run)
		stored, err := st.Checkpoints()
		require.NoError(t, err)
		for _, c := range stored {
			require.NoError(t, c.VerifySignature(pub), "run %d", run)
		}
		assert.Equal(t, rep.Head.Seq, rep.SignedUpTo, "run %d: the head is signed", run)
		t.Logf("run %d: killed after %d receipts (%d of a checkpoint past their event), store head seq %d, %d events, %d gaps",
			run, len(lines), paths, rep.Head.Seq, rep.Events, len(rep.Gaps))
		total += len(lines)
		require.NoError(t, st.Close())
	}
	t.Logf("%d receipts over %d kills, every one in the store as receipted", total, receiptCrashRuns)
}

// receiptRun runs the child on path until it dies: by its own hand after
// its last receipt (killAt 0), or by the parent's once it has read killAt
// receipts. It returns the receipts read.
func receiptRun(t *testing.T, path string, key ed25519.PrivateKey, killAt int) []receiptLine {
	t.Helper()
	cmd := childCommand("TestReceiptCrashChild", receiptChildEnv+"="+path, receiptKeyEnv+"="+hex.EncodeToString(key))
	out := startChild(t, cmd)
	timer := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()

	var (
		lines []receiptLine
		other []string
		last  bool
	)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		text := sc.Text()
		f := strings.SplitN(text, " ", 4)
		switch {
		case len(f) == 4 && f[0] == "receipt":
			var l receiptLine
			l.caller, _ = strconv.Atoi(f[1])
			l.i, _ = strconv.Atoi(f[2])
			if err := json.Unmarshal([]byte(f[3]), &l.r); err != nil {
				other = append(other, text)
				continue
			}
			lines = append(lines, l)
			if len(lines) == killAt {
				require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			}
		case text == "last":
			last = true
		case strings.HasPrefix(text, "PASS"), strings.HasPrefix(text, "ok "):
		default:
			other = append(other, text)
		}
	}
	err := cmd.Wait()
	require.Empty(t, other, "the child reported a failure")
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	ws, _ := exit.Sys().(syscall.WaitStatus)
	require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "the child died by SIGKILL: %v", err)
	if killAt == 0 {
		require.True(t, last, "the child got every receipt before it was killed")
	}
	return lines
}
