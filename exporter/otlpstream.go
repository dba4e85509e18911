package exporter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/otelaudit/otelaudit-go/exporter/internal/otlpenc"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// NewOTLPStream starts a Stream that sends trail's events as spans straight
// to an OTLP receiver through client (NewOTLPGRPCClient,
// NewOTLPHTTPClient): it reads the events' bytes as the Generator or the
// store holds them and writes the OTLP protobuf request itself, without
// decoding an Event, building an SDK span snapshot or an OTLP struct per
// event. What arrives is what NewStream with the SDK's OTLP span exporter
// sends: the replayed span format, the same IDs, resource, scope and
// checkpoints. Everything else is as NewStream: the options (the replay
// options WithResource and WithBatchSize among them), cursor, retries,
// stats and metrics. A trail that is neither a Generator
// (FollowGenerator) nor a store is read as Events and encoded.
//
// Use NewStream to send to any other sdktrace.SpanExporter.
func NewOTLPStream(trail Trail, client OTLPClient, opts ...StreamOption) (*Stream, error) {
	if trail == nil {
		return nil, fmt.Errorf("%w given to NewOTLPStream", ErrNilTrail)
	}
	if client == nil {
		return nil, fmt.Errorf("%w: nil client given to NewOTLPStream", ErrNilExporter)
	}
	cfg := newStreamConfig(opts)
	return startStream(trail, newOTLPOutput(client, cfg.exporter), signalTraces, cfg)
}

// NewOTLPLogStream starts a Stream that sends trail's events as log records
// straight to an OTLP receiver through client, as NewOTLPStream sends
// spans: the requests are written from the held or stored bytes, and what
// arrives is what NewLogStream with the SDK's OTLP log exporter sends (the
// log record format of LogExporter; the observed timestamp is the time of
// the batch). An event whose attributes the log SDK would reduce
// (duplicate keys among its own attributes, or in a map value) is built
// through the SDK's own sdklog.Record, so that the SDK's rules apply to it
// unchanged. Everything else is as NewLogStream.
func NewOTLPLogStream(trail Trail, client OTLPClient, opts ...StreamOption) (*Stream, error) {
	if trail == nil {
		return nil, fmt.Errorf("%w given to NewOTLPLogStream", ErrNilTrail)
	}
	if client == nil {
		return nil, fmt.Errorf("%w: nil client given to NewOTLPLogStream", ErrNilExporter)
	}
	cfg := newStreamConfig(opts)
	return startStream(trail, newOTLPLogOutput(client, cfg.exporter), signalLogs, cfg)
}

// encodedTrail is a Trail that hands out its events' encodings: a
// Generator through FollowGenerator, and a *store.Store.
type encodedTrail interface {
	AppendEncodedAfter(dst *otelaudit.EncodedEvents, after uint64, limit int) (int, error)
}

// encodedOutput is an output that takes events in their encoding.
type encodedOutput interface {
	ReplayEncoded(ctx context.Context, enc *otelaudit.EncodedEvents) error
}

// otlpOutput encodes events as OTLP spans or log records and sends them
// with an OTLPClient. Its lock serializes the client's calls and guards
// the buffers.
type otlpOutput struct {
	r      replayer
	client OTLPClient
	spans  *otlpenc.Traces // for spans; nil for log records
	logs   *otlpenc.Logs   // for log records; nil for spans
	// records builds, through the log SDK, the record of an event the SDK
	// would rewrite (see NewOTLPLogStream). Its exporter is never called.
	records *LogExporter
	reqs    [][]byte // one request per batch of a replay, reused
}

func newOTLPOutput(client OTLPClient, opts []Option) *otlpOutput {
	o := &otlpOutput{r: newReplayer("otlp exporter", opts), client: client}
	o.spans = otlpenc.NewTraces(o.r.cfg.resource, o.r.cfg.scope)
	return o
}

func newOTLPLogOutput(client OTLPClient, opts []Option) *otlpOutput {
	o := &otlpOutput{r: newReplayer("otlp log exporter", opts), client: client}
	o.logs = otlpenc.NewLogs(o.r.cfg.resource, o.r.cfg.scope)
	o.records = &LogExporter{r: newReplayer("log exporter", opts)}
	return o
}

// encode appends to req the request of the events of enc from start to
// end.
func (o *otlpOutput) encode(req []byte, enc *otelaudit.EncodedEvents, start, end int) ([]byte, error) {
	if o.spans != nil {
		o.spans.Reset()
		for i := start; i < end; i++ {
			data, src := enc.At(i)
			if err := o.spans.Add(data, src); err != nil {
				return req, err
			}
		}
		return o.spans.AppendRequest(req), nil
	}
	o.logs.Reset()
	observed := time.Now() // one time per batch, as LogExporter
	for i := start; i < end; i++ {
		data, src := enc.At(i)
		err := o.logs.Add(data, src, observed)
		if errors.Is(err, otlpenc.ErrNeedsRecord) {
			var e otelaudit.Event
			if err := e.UnmarshalBinary(data); err != nil {
				return req, err
			}
			e.Source = src
			rec := o.records.record(&e, observed)
			o.logs.AddRecord(&rec)
			continue
		}
		if err != nil {
			return req, err
		}
	}
	return o.logs.AppendRequest(req), nil
}

func (o *otlpOutput) upload(ctx context.Context, req []byte) error {
	if o.spans != nil {
		return o.client.UploadTraces(ctx, req)
	}
	return o.client.UploadLogs(ctx, req)
}

// Replay encodes events, checkpoints or those of a Trail that keeps no
// encodings, and sends them.
func (o *otlpOutput) Replay(ctx context.Context, events []otelaudit.Event) error {
	if len(events) == 0 {
		return nil
	}
	var enc otelaudit.EncodedEvents
	for i := range events {
		if events[i].Type == "" {
			return fmt.Errorf("%s: replay: nothing exported: event %d (seq %d) has an empty type: %w",
				o.r.what, i, events[i].Seq, ErrInvalidEvent)
		}
		b, err := events[i].MarshalBinary()
		if err != nil {
			return fmt.Errorf("%s: replay: nothing exported: event %d (seq %d): %w", o.r.what, i, events[i].Seq, err)
		}
		enc.Append(b, events[i].Source)
	}
	return o.ReplayEncoded(ctx, &enc)
}

// ReplayEncoded sends the events of enc as spans or log records, in requests of at most
// the batch size. Every request is built before the first is sent: an
// event that does not encode fails the whole call with ErrInvalidEvent
// and nothing is sent.
func (o *otlpOutput) ReplayEncoded(ctx context.Context, enc *otelaudit.EncodedEvents) error {
	if o.r.closed.Load() {
		return fmt.Errorf("%s: replay: %w", o.r.what, ErrShutdown)
	}
	n := enc.Len()
	if n == 0 {
		return nil
	}
	if err := o.r.acquire(ctx); err != nil {
		return fmt.Errorf("%s: replay: nothing exported: waiting for another replay: %w", o.r.what, err)
	}
	defer o.r.release()
	if o.r.closed.Load() {
		return fmt.Errorf("%s: replay: %w", o.r.what, ErrShutdown)
	}
	o.reqs = o.reqs[:0]
	for start := 0; start < n; start += o.r.cfg.batchSize {
		k := len(o.reqs)
		if k < cap(o.reqs) {
			o.reqs = o.reqs[:k+1]
		} else {
			o.reqs = append(o.reqs, nil)
		}
		req, err := o.encode(o.reqs[k][:0], enc, start, min(start+o.r.cfg.batchSize, n))
		o.reqs[k] = req
		if err != nil {
			return fmt.Errorf("%s: replay: nothing exported: %w: %w", o.r.what, ErrInvalidEvent, err)
		}
	}
	exported := 0
	for k, req := range o.reqs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: replay stopped after %d of %d events: %w", o.r.what, exported, n, err)
		}
		if err := o.upload(ctx, req); err != nil {
			// A transport that gave up may still hold the bytes: they
			// are not reused.
			o.reqs[k] = nil
			return fmt.Errorf("%s: replay stopped after %d of %d events: export: %w", o.r.what, exported, n, err)
		}
		exported = min(exported+o.r.cfg.batchSize, n)
	}
	return nil
}

// ForceFlush waits for the replay in flight: the output holds nothing
// between replays.
func (o *otlpOutput) ForceFlush(ctx context.Context) error {
	return o.r.forceFlush(ctx, nil)
}

// Shutdown refuses further replays, waits within ctx for the one in flight
// and shuts the client down once.
func (o *otlpOutput) Shutdown(ctx context.Context) error {
	return o.r.shutdown(ctx, o.client.Shutdown)
}
