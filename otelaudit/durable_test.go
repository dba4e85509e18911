package otelaudit_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// flakyStore is a real store that refuses its next fail commits, as a full
// disk would, and notes the Seqs of every batch it was handed.
type flakyStore struct {
	*store.Store
	mu      sync.Mutex
	fail    int
	refused int
	batches [][2]uint64 // first and last Seq of each committed batch
}

var errDiskFull = errors.New("disk full")

func (s *flakyStore) Write(b otelaudit.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		s.refused++
		return errDiskFull
	}
	if err := s.Store.Write(b); err != nil {
		return err
	}
	if n := len(b.Events); n > 0 {
		s.batches = append(s.batches, [2]uint64{b.Events[0].Seq, b.Events[n-1].Seq})
	}
	return nil
}

func flakyGenerator(t *testing.T, fail int) (*otelaudit.Generator, *flakyStore) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "audit.db"))
	require.NoError(t, err)
	fs := &flakyStore{Store: st}
	g, err := otelaudit.New(otelaudit.WithStore(fs))
	require.NoError(t, err)
	// New's own first commit (the Seqs it reserves) goes through; the
	// writer's next fail commits do not.
	fs.mu.Lock()
	fs.fail = fail
	fs.mu.Unlock()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.Shutdown(ctx)
	})
	return g, fs
}

// The writer hands its store every event once, in Seq order, in batches
// that follow on from each other, whatever the writers' interleaving.
func TestWriterBatchesInOrder(t *testing.T) {
	g, fs := flakyGenerator(t, 0)
	const writers, each = 4, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				_, err := g.Append(context.Background(), intent(w*each+i))
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	require.NoError(t, g.ForceFlush(context.Background()))

	fs.mu.Lock()
	defer fs.mu.Unlock()
	require.NotEmpty(t, fs.batches)
	next := uint64(1)
	for _, b := range fs.batches {
		require.Equal(t, next, b[0], "a batch starts where the one before ended")
		require.LessOrEqual(t, b[0], b[1])
		next = b[1] + 1
	}
	assert.Equal(t, uint64(writers*each+1), next)
	assert.Equal(t, uint64(writers*each), g.Stats().Durable)
	assert.Equal(t, otelaudit.Anchor{Seq: writers * each, Hash: g.Head().Hash}, fs.Head())
}

// A store that fails is retried, with backoff, until it takes the batch:
// nothing is skipped, and every failure is counted.
func TestWriterRecoversAfterFailures(t *testing.T) {
	g, fs := flakyGenerator(t, 3)
	for i := range 10 {
		_, err := g.Append(context.Background(), intent(i))
		require.NoError(t, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, g.ForceFlush(ctx))
	st := g.Stats()
	assert.Equal(t, uint64(3), st.StoreErrors)
	assert.Equal(t, uint64(10), st.Durable)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	assert.Equal(t, 3, fs.refused)
	require.NotEmpty(t, fs.batches)
	assert.Equal(t, uint64(1), fs.batches[0][0], "the refused batch is retried from its first event")
	assert.Equal(t, uint64(10), fs.batches[len(fs.batches)-1][1])
	assert.Equal(t, uint64(10), fs.Head().Seq)
}

// ForceFlush gives up when its ctx ends, saying what is not flushed, and a
// later ForceFlush finishes the job.
func TestForceFlushHonoursContext(t *testing.T) {
	g, gs, _ := requireGenerator(t, nil)
	gs.close()
	_, err := g.Append(context.Background(), intent(1))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = g.ForceFlush(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, otelaudit.ErrNotFlushed)
	assert.Contains(t, err.Error(), "1 events not durable yet")
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Zero(t, g.Stats().Durable)

	gs.open()
	require.NoError(t, g.ForceFlush(context.Background()))
	assert.Equal(t, uint64(1), g.Stats().Durable)
}

// Shutdown returns within its ctx when the store hangs, saying so; events
// are refused from then on.
func TestShutdownWithinContext(t *testing.T) {
	g, gs, _ := requireGenerator(t, nil)
	gs.close()
	_, err := g.Append(context.Background(), intent(1))
	require.NoError(t, err)
	// The writer is in Write, held at the gate.
	select {
	case <-gs.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the writer never reached the store")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = g.Shutdown(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, otelaudit.ErrNotFlushed)
	assert.Less(t, time.Since(start), 5*time.Second)
	_, err = g.Append(context.Background(), intent(2))
	require.ErrorIs(t, err, otelaudit.ErrShutdown)

	// Let the writer go: it commits, stops and closes the store.
	gs.open()
	require.Eventually(t, func() bool { return g.Stats().Durable == 1 }, 10*time.Second, time.Millisecond)
}
