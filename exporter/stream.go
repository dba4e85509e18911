package exporter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelaudit/otelaudit-go/internal/retry"
	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// StreamStats counts what a Stream has done.
type StreamStats struct {
	// Exported is how many events were exported (each once per successful
	// attempt: a retried batch that had partly arrived counts again).
	Exported uint64
	// Failures is how many export attempts failed; each was retried.
	Failures uint64
	// Dropped is how many events were gone from the trail before the
	// Stream got to them (evicted from a Generator, or removed by a
	// store's retention).
	Dropped uint64
	// Delivered is the Seq of the newest event exported; Head the newest
	// the trail had at the last look; Pending = Head - Delivered, the lag.
	Delivered, Head, Pending uint64
	// LastError is the last export failure, nil after a success.
	LastError error
}

// output is where a Stream sends its batches: an Exporter (spans) or a
// LogExporter (log records). The Stream's engine (cursor, retry, resume,
// stats, metrics) is the same for both.
type output interface {
	Replay(ctx context.Context, events []otelaudit.Event) error
	// ForceFlush pushes out what the SDK exporter may still hold: an
	// sdklog.Exporter may buffer what Export accepted.
	ForceFlush(ctx context.Context) error
	Shutdown(ctx context.Context) error
}

// The values of the signal attribute of a Stream's metrics.
const (
	signalTraces = "traces"
	signalLogs   = "logs"
)

// Stream continuously exports a Trail's new events, in Seq order, in
// batches, retrying failures with exponential backoff and jitter: as spans
// in the replay format (NewStream, or NewOTLPStream straight to OTLP) or
// as log records (NewLogStream, NewOTLPLogStream).
// Delivery is at least once: a batch whose export fails is sent again
// whole; the deterministic span IDs of the replay format let a backend
// de-duplicate spans, and audit.event.seq names the event of a log record.
// Create one with one of those constructors; stop it with Shutdown.
//
// A Stream no constructor made (a nil *Stream or the zero Stream) does
// nothing: Stats returns the zero StreamStats, ForceFlush and Shutdown
// return ErrNilExporter.
type Stream struct {
	trail  Trail
	out    output
	signal string // "traces" or "logs", an attribute of the metrics
	cfg    streamConfig
	cursor CursorStore

	kick chan struct{}
	quit chan struct{}
	done chan struct{}

	shutdown sync.Once

	mu       sync.Mutex
	stats    StreamStats
	progress chan struct{} // closed and replaced when Delivered moves, a step ends, or the loop ends
	stopped  bool
	reg      metric.Registration
	// Steps begun, and the number of the newest that ended having
	// shipped everything it found: a flush waits for a step begun after
	// it, which sees every checkpoint kept before it (see deliver).
	stepsBegun, stepDone uint64

	// cpAfter is the Seq of the newest checkpoint shipped, or where the
	// Stream started: a milestone kept after its events were shipped
	// (Generator.Checkpoint asks for one) has a Seq past it. The loop's
	// own.
	cpAfter uint64
	// enc holds the batch in flight of an output that takes encodings
	// (NewOTLPStream), reused from batch to batch. The loop's own.
	enc otelaudit.EncodedEvents
}

// NewStream starts a Stream that exports trail's events to exp as spans. It
// starts after the cursor saved by WithCursor, else after WithStartAfter's
// Seq, else at the trail's first event.
func NewStream(trail Trail, exp sdktrace.SpanExporter, opts ...StreamOption) (*Stream, error) {
	if trail == nil {
		return nil, fmt.Errorf("%w given to NewStream", ErrNilTrail)
	}
	if exp == nil {
		return nil, fmt.Errorf("%w given to NewStream", ErrNilExporter)
	}
	cfg := newStreamConfig(opts)
	return startStream(trail, New(exp, cfg.exporter...), signalTraces, cfg)
}

// NewLogStream starts a Stream that exports trail's events to exp as log
// records (see LogExporter). Everything else is as NewStream: the same
// options, cursor, retries, stats and metrics.
func NewLogStream(trail Trail, exp sdklog.Exporter, opts ...StreamOption) (*Stream, error) {
	if trail == nil {
		return nil, fmt.Errorf("%w given to NewLogStream", ErrNilTrail)
	}
	if exp == nil {
		return nil, fmt.Errorf("%w given to NewLogStream", ErrNilExporter)
	}
	cfg := newStreamConfig(opts)
	return startStream(trail, NewLogExporter(exp, cfg.exporter...), signalLogs, cfg)
}

func startStream(trail Trail, out output, signal string, cfg streamConfig) (*Stream, error) {
	s := &Stream{
		trail:    trail,
		out:      out,
		signal:   signal,
		cfg:      cfg,
		cursor:   cfg.cursor,
		kick:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		progress: make(chan struct{}),
	}
	s.stats.Delivered = cfg.startAfter
	if s.cursor != nil {
		seq, err := s.cursor.Cursor(cfg.cursorName)
		if err != nil {
			return nil, fmt.Errorf("exporter: stream: read cursor %q: %w", cfg.cursorName, err)
		}
		s.stats.Delivered = max(s.stats.Delivered, seq)
	}
	s.cpAfter = s.stats.Delivered
	if err := s.registerMetrics(cfg.meterProvider); err != nil {
		otel.Handle(err)
	}
	go s.run()
	return s, nil
}

// usable reports ErrNilExporter for a Stream no constructor made.
func (s *Stream) usable() error {
	if s == nil || s.trail == nil || s.out == nil {
		return fmt.Errorf("%w: stream: not made by NewStream, NewLogStream, NewOTLPStream or NewOTLPLogStream", ErrNilExporter)
	}
	return nil
}

// Stats returns the Stream's counters. Head and Pending are read from the
// source now, so the lag shows even while the Stream waits out a backoff.
func (s *Stream) Stats() StreamStats {
	if s.usable() != nil {
		return StreamStats{}
	}
	head, err := s.trail.LastSeq()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && head > s.stats.Head {
		s.stats.Head = head
	}
	s.stats.Pending = s.stats.Head - min(s.stats.Head, s.stats.Delivered)
	return s.stats
}

func (s *Stream) run() {
	defer close(s.done)
	defer func() {
		s.mu.Lock()
		s.stopped = true
		close(s.progress)
		s.mu.Unlock()
	}()
	tick := time.NewTicker(s.cfg.pollInterval)
	defer tick.Stop()
	policy := retry.Backoff{Min: s.cfg.minBackoff, Max: s.cfg.maxBackoff, Jitter: true}
	backoff := time.Duration(0)
	for {
		n, err := s.step()
		switch {
		case err != nil:
			backoff = policy.Next(backoff)
			select {
			case <-time.After(backoff):
			case <-s.quit:
				return
			}
			continue
		case n > 0:
			backoff = 0
			// More may be waiting: go again at once, unless stopping.
			select {
			case <-s.quit:
				return
			default:
			}
			continue
		}
		select {
		case <-tick.C:
		case <-s.kick:
		case <-s.quit:
			return
		}
	}
}

// step exports the next batch, if any, and returns how many events it
// exported. With no new events, it ships the checkpoints kept since of
// events already shipped.
func (s *Stream) step() (int, error) {
	s.mu.Lock()
	after := s.stats.Delivered
	s.stepsBegun++
	step := s.stepsBegun
	s.mu.Unlock()
	head, err := s.trail.LastSeq()
	if err != nil {
		return 0, s.failed(fmt.Errorf("trail: %w", err))
	}
	s.mu.Lock()
	s.stats.Head = max(head, s.stats.Delivered, s.stats.Head)
	s.stats.Pending = s.stats.Head - s.stats.Delivered
	s.mu.Unlock()
	if head <= after {
		if cps, err := s.checkpoints(after); err != nil {
			return 0, s.failed(err)
		} else if len(cps) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.exportTimeout)
			err = s.out.Replay(ctx, cps)
			cancel()
			if err != nil {
				return 0, s.failed(err)
			}
			s.cpAfter = cps[len(cps)-1].Seq
		}
		s.stepped(step)
		return 0, nil
	}
	b, err := s.read(after)
	if err != nil {
		return 0, s.failed(fmt.Errorf("trail: %w", err))
	}
	if b.n == 0 {
		// Everything up to the head is gone: dropped before it was read.
		s.mu.Lock()
		s.stats.Dropped += head - after
		s.advance(head)
		s.mu.Unlock()
		return 0, nil
	}
	last := b.last
	cps, err := s.checkpoints(last)
	if err != nil {
		return 0, s.failed(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.exportTimeout)
	err = s.export(ctx, b, cps)
	cancel()
	if err != nil {
		return 0, s.failed(err)
	}
	if len(cps) > 0 {
		s.cpAfter = cps[len(cps)-1].Seq
	}
	if s.cursor != nil {
		if err := s.cursor.SetCursor(s.cfg.cursorName, last); err != nil {
			// Exported but not recorded as such: sent again after a
			// restart, which at-least-once allows.
			otel.Handle(fmt.Errorf("exporter: stream: save cursor: %w", err))
		}
	}
	s.mu.Lock()
	s.stats.Exported += uint64(b.n)
	s.stats.Dropped += b.first - after - 1
	s.stats.LastError = nil
	s.advance(last)
	s.mu.Unlock()
	s.stepped(step)
	return b.n, nil
}

// batch is what one step reads from the trail: decoded events for an
// output that takes them (NewStream, NewLogStream), or their encodings in
// the Stream's buffer for one that takes those (NewOTLPStream).
type batch struct {
	events      []otelaudit.Event
	enc         *otelaudit.EncodedEvents
	n           int
	first, last uint64 // Seqs of the first and last event, when n > 0
}

// read reads the next batch of events after after.
func (s *Stream) read(after uint64) (batch, error) {
	if _, ok := s.out.(encodedOutput); !ok {
		events, err := s.trail.EventsAfter(after, s.cfg.batchSize)
		if err != nil || len(events) == 0 {
			return batch{}, err
		}
		return batch{events: events, n: len(events), first: events[0].Seq, last: events[len(events)-1].Seq}, nil
	}
	enc := &s.enc
	enc.Reset()
	if es, ok := s.trail.(encodedTrail); ok {
		if _, err := es.AppendEncodedAfter(enc, after, s.cfg.batchSize); err != nil {
			return batch{}, err
		}
	} else {
		events, err := s.trail.EventsAfter(after, s.cfg.batchSize)
		if err != nil {
			return batch{}, err
		}
		for i := range events {
			data, err := events[i].MarshalBinary()
			if err != nil {
				return batch{}, fmt.Errorf("event %d: %w", events[i].Seq, err)
			}
			enc.Append(data, events[i].Source)
		}
	}
	b := batch{enc: enc, n: enc.Len()}
	if b.n == 0 {
		return b, nil
	}
	var ok1, ok2 bool
	first, _ := enc.At(0)
	last, _ := enc.At(b.n - 1)
	b.first, ok1 = wire.Seq(first)
	b.last, ok2 = wire.Seq(last)
	if !ok1 || !ok2 || b.first <= after || b.last < b.first {
		return batch{}, fmt.Errorf("events after %d: %w", after, otelaudit.ErrMalformed)
	}
	return b, nil
}

// export hands b and the checkpoints cps, after it, to the output.
func (s *Stream) export(ctx context.Context, b batch, cps []otelaudit.Event) error {
	if b.enc == nil {
		events := b.events
		if len(cps) > 0 {
			events = append(events[:len(events):len(events)], cps...)
		}
		return s.out.Replay(ctx, events)
	}
	for i := range cps {
		data, err := cps[i].MarshalBinary()
		if err != nil {
			return fmt.Errorf("checkpoint %d: %w", cps[i].Seq, err)
		}
		b.enc.Append(data, nil)
	}
	return s.out.(encodedOutput).ReplayEncoded(ctx, b.enc)
}

// checkpoints returns, as the items a Stream ships (see CheckpointEvent),
// the signed checkpoints its trail kept of events up to upTo and not
// shipped yet; none for a trail that keeps none or WithoutCheckpoints.
func (s *Stream) checkpoints(upTo uint64) ([]otelaudit.Event, error) {
	cs, ok := s.trail.(checkpointTrail)
	if !ok || s.cfg.noCheckpoints || upTo <= s.cpAfter {
		return nil, nil
	}
	cps, err := cs.CheckpointsAfter(s.cpAfter, upTo)
	if err != nil {
		return nil, fmt.Errorf("trail: %w", err)
	}
	var out []otelaudit.Event
	for _, c := range cps {
		if len(c.Signature) > 0 {
			out = append(out, CheckpointEvent(c))
		}
	}
	return out, nil
}

// stepped records that step ended with everything it found shipped, and
// wakes flushes.
func (s *Stream) stepped(step uint64) {
	s.mu.Lock()
	s.stepDone = max(s.stepDone, step)
	close(s.progress)
	s.progress = make(chan struct{})
	s.mu.Unlock()
}

// advance moves Delivered to seq and wakes flushes. Under s.mu.
func (s *Stream) advance(seq uint64) {
	s.stats.Delivered = seq
	s.stats.Head = max(s.stats.Head, seq)
	s.stats.Pending = s.stats.Head - seq
	close(s.progress)
	s.progress = make(chan struct{})
}

func (s *Stream) failed(err error) error {
	s.mu.Lock()
	s.stats.Failures++
	s.stats.LastError = err
	s.mu.Unlock()
	return err
}

// ForceFlush returns once every event the trail had when it was called
// has been exported and the exporter flushed (an sdklog.Exporter may
// buffer what it accepted), or with an error wrapping ctx's saying how
// many are still pending (and the last export error) when ctx ends first,
// or with the exporter's flush error. A store has only the events made
// durable: to export everything recorded, call the Generator's ForceFlush
// first.
func (s *Stream) ForceFlush(ctx context.Context) error {
	if err := s.usable(); err != nil {
		return err
	}
	if err := s.deliver(ctx); err != nil {
		return err
	}
	if err := s.out.ForceFlush(ctx); err != nil {
		return fmt.Errorf("exporter: stream: %w", err)
	}
	return nil
}

// deliver returns once every event the trail has now has been handed to
// the exporter, or when ctx ends first; see ForceFlush.
func (s *Stream) deliver(ctx context.Context) error {
	target, err := s.trail.LastSeq()
	if err != nil {
		return fmt.Errorf("exporter: stream: trail: %w", err)
	}
	// A source that keeps checkpoints may have kept one of events already
	// shipped: a step begun now ships it.
	_, cps := s.trail.(checkpointTrail)
	cps = cps && !s.cfg.noCheckpoints
	s.mu.Lock()
	from := s.stepsBegun
	s.mu.Unlock()
	for {
		s.mu.Lock()
		delivered, ch, stopped, last, done := s.stats.Delivered, s.progress, s.stopped, s.stats.LastError, s.stepDone
		s.mu.Unlock()
		if delivered >= target && (!cps || done > from || stopped) {
			return nil
		}
		if stopped {
			return fmt.Errorf("%w: stream: %d events not exported", ErrShutdown, target-delivered)
		}
		select {
		case s.kick <- struct{}{}:
		default:
		}
		select {
		case <-ch:
		case <-ctx.Done():
			what := fmt.Sprintf("%d events", target-min(target, delivered))
			if delivered >= target {
				what = "checkpoints"
			}
			if last != nil {
				return fmt.Errorf("exporter: stream: %s not exported yet (last error: %v): %w", what, last, ctx.Err())
			}
			return fmt.Errorf("exporter: stream: %s not exported yet: %w", what, ctx.Err())
		}
	}
}

// Shutdown exports what it can within ctx (see ForceFlush), stops the
// Stream and shuts its exporter (span or log) down, which flushes what an
// sdklog.Exporter holds. The error says what was left. Calls after the
// first return nil.
func (s *Stream) Shutdown(ctx context.Context) error {
	if err := s.usable(); err != nil {
		return err
	}
	var err error // stays nil for every call but the first
	s.shutdown.Do(func() {
		// The exporter's own Shutdown flushes it, given time of its own
		// below even when ctx has run out: no separate flush here.
		flushErr := s.deliver(ctx)
		close(s.quit)
		errs := []error{flushErr}
		select {
		case <-s.done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("exporter: stream: export still running: %w", ctx.Err()))
		}
		s.mu.Lock()
		reg := s.reg
		s.reg = nil
		s.mu.Unlock()
		if reg != nil {
			errs = append(errs, reg.Unregister())
		}
		xctx := ctx
		select {
		case <-s.done:
			// Nothing exports any more: shut the exporter down even if
			// ctx ran out, within a short bound of its own, so that its
			// connection is not left open.
			var cancel context.CancelFunc
			xctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			defer cancel()
		default:
		}
		errs = append(errs, s.out.Shutdown(xctx))
		err = errors.Join(errs...)
	})
	return err
}
