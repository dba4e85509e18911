package tests

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// Require on a disk that fills up, for real, in a child process: the
// file size limit of the process (RLIMIT_FSIZE, as `ulimit -f` sets it),
// which needs no privilege, and, where the test may mount (root, or
// CAP_SYS_ADMIN), a small tmpfs in a mount namespace of the child's own.
// In each, Require must fail within its ctx with ErrStoreFailed as soon as
// a commit fails, refuse at once while the store fails, Record must keep
// its documented behaviour (events held, and made durable later), Ready
// must say the store fails; and once there is room again, everything
// recorded meanwhile is durable and Require gives receipts again.

const failChildEnv = "OTELAUDIT_FAIL_CHILD" // "fsize:DIR" or "tmpfs:DIR", in the child

// TestRequireFailChild is the child's body; it does nothing unless started
// by TestRequireOnAFullDisk.
func TestRequireFailChild(t *testing.T) {
	mode, dir, ok := strings.Cut(os.Getenv(failChildEnv), ":")
	if !ok {
		t.Skip("run by TestRequireOnAFullDisk in a child process")
	}
	var fill func(t *testing.T, path string)
	var room func(t *testing.T)
	switch mode {
	case "fsize":
		// Past the limit a write fails with EFBIG, and the kernel sends
		// SIGXFSZ, whose default action ends the process.
		signal.Ignore(syscall.SIGXFSZ)
		var old syscall.Rlimit
		require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old))
		fill = func(t *testing.T, path string) {
			fi, err := os.Stat(path)
			require.NoError(t, err)
			lim := old
			lim.Cur = uint64(fi.Size())
			require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim))
			fmt.Printf("limit: files of this process may not grow past %d bytes\n", fi.Size())
		}
		room = func(t *testing.T) { require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)) }
	case "tmpfs":
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
			fmt.Println("SKIP: cannot mount a tmpfs:", err)
			return
		}
		filler := filepath.Join(dir, "filler")
		fill = func(t *testing.T, _ string) {
			f, err := os.Create(filler)
			require.NoError(t, err)
			defer f.Close()
			chunk := make([]byte, 4096)
			n := 0
			for {
				if _, err := f.Write(chunk); err != nil {
					require.ErrorIs(t, err, syscall.ENOSPC)
					break
				}
				n += len(chunk)
			}
			fmt.Printf("limit: a 2 MiB tmpfs, filled up with %d bytes\n", n)
		}
		room = func(t *testing.T) { require.NoError(t, os.Remove(filler)) }
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	requireFailsAndRecovers(t, filepath.Join(dir, "audit.db"), fill, room)
	fmt.Println("DONE")
}

func requireFailsAndRecovers(t *testing.T, path string, fill func(*testing.T, string), room func(*testing.T)) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	st, err := store.Open(path, store.WithPublicKey(pub))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithStoreWait(50*time.Millisecond))
	require.NoError(t, err)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = g.Shutdown(ctx)
	}()
	// Events of 4 KiB: a few of them fill what the file has free.
	payload := strings.Repeat("x", 4096)
	event := func(i int) otelaudit.Event {
		return otelaudit.Event{Type: otelaudit.ResourceAccess, Action: fmt.Sprintf("charge %d", i),
			Attributes: []attribute.KeyValue{attribute.String("payload", payload)}}
	}
	bg := context.Background()
	for i := range 3 {
		_, err := g.Require(bg, event(i))
		require.NoError(t, err)
	}
	require.NoError(t, g.Ready(bg))

	fill(t, path)
	const deadline = 5 * time.Second
	var (
		failure *otelaudit.ReceiptError
		took    time.Duration
		ok      int
	)
	for i := 3; i < 5000 && failure == nil; i++ {
		ctx, cancel := context.WithTimeout(bg, deadline)
		start := time.Now()
		r, err := g.Require(ctx, event(i))
		took = time.Since(start)
		cancel()
		if err == nil {
			require.NoError(t, r.Verify(pub))
			ok++
			continue
		}
		require.ErrorAs(t, err, &failure)
		require.ErrorIs(t, err, otelaudit.ErrNoReceipt)
		require.ErrorIs(t, err, otelaudit.ErrStoreFailed, "the commit failed, and Require says so: %v", err)
		fmt.Printf("failed after %d more receipts, in %s: %v\n", ok, took.Round(time.Microsecond), err)
	}
	require.NotNil(t, failure, "the store never filled up")
	assert.Less(t, took, deadline, "failed with the commit, within its ctx")
	assert.True(t, failure.Recorded(), "in flight when the commit failed: kept, and counted")

	// While the store fails: Require refuses at once and records nothing;
	// Ready says why; Record goes on, holding what it records.
	start := time.Now()
	_, err = g.Require(bg, event(-1))
	var refused *otelaudit.ReceiptError
	require.ErrorAs(t, err, &refused)
	assert.False(t, refused.Recorded())
	assert.ErrorIs(t, err, otelaudit.ErrStoreFailed)
	assert.Less(t, time.Since(start), 100*time.Millisecond, "refused at once")
	assert.ErrorIs(t, g.Ready(bg), otelaudit.ErrStoreFailed)
	var held []uint64
	for i := range 20 {
		e, err := g.Record(bg, event(10_000+i))
		require.NoError(t, err, "Record holds events while the store fails")
		held = append(held, e.Seq)
	}
	stats := g.Stats()
	assert.Less(t, stats.Durable, held[0], "not durable while the store fails")
	assert.Positive(t, stats.StoreErrors)

	// Room again: the writer's retries get through, and everything kept
	// is durable.
	room(t)
	require.Eventually(t, func() bool { return g.Ready(bg) == nil }, 10*time.Second, 20*time.Millisecond)
	r, err := g.Require(bg, event(20_000))
	require.NoError(t, err)
	require.NoError(t, r.Verify(pub))
	require.NoError(t, g.ForceFlush(bg))
	stats = g.Stats()
	assert.Equal(t, stats.LastSeq, stats.Durable)
	for _, seq := range append(held, failure.Seq) {
		e, ok, err := st.Get(seq)
		require.NoError(t, err)
		require.True(t, ok, "seq %d, kept while the store failed, is durable now", seq)
		assert.True(t, strings.HasPrefix(e.Action, "charge "))
	}
	rep, err := st.Verify(pub, nil)
	require.NoError(t, err)
	assert.Equal(t, rep.Head.Seq, rep.SignedUpTo)
	fmt.Printf("recovered: %d events, head seq %d signed\n", rep.Events, rep.SignedUpTo)
}

func TestRequireOnAFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	t.Run("RLIMIT_FSIZE", func(t *testing.T) {
		out := runFailChild(t, "fsize", nil)
		assert.Contains(t, out, "file too large")
	})
	t.Run("tmpfs", func(t *testing.T) {
		// A mount namespace of the child's own: the tmpfs goes with it.
		out := runFailChild(t, "tmpfs", &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS})
		assert.Contains(t, out, "no space left on device")
	})
}

// runFailChild runs TestRequireFailChild in mode, in a child process, and
// returns its output; it skips when the child may not mount.
func runFailChild(t *testing.T, mode string, attr *syscall.SysProcAttr) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRequireFailChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), failChildEnv+"="+mode+":"+dir)
	cmd.SysProcAttr = attr
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if attr != nil && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL)) {
		t.Skipf("cannot start a child in a mount namespace of its own (%v): the RLIMIT_FSIZE case covers a full disk", err)
	}
	text := out.String()
	if i := strings.Index(text, "SKIP: "); i >= 0 {
		t.Skip(strings.SplitN(text[i:], "\n", 2)[0])
	}
	require.NoError(t, err, "child:\n%s", text)
	require.Contains(t, text, "DONE", "child:\n%s", text)
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "limit:") || strings.HasPrefix(line, "failed after") || strings.HasPrefix(line, "recovered:") {
			t.Log(line)
		}
	}
	return text
}
