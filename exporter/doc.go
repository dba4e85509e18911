// Package exporter replays audit events as OpenTelemetry spans, so that the
// audit trail shows up in the trace backend next to the traces it audits.
//
// An Exporter wraps any sdktrace.SpanExporter: stdouttrace to read the trail
// in a terminal, otlptracegrpc or otlptracehttp to send it to an
// OpenTelemetry Collector and from there to Jaeger, Tempo or any other
// backend. Replay is synchronous and exports in bounded batches; there is no
// queue to fill and nothing is dropped: every event given to Replay is either
// exported or reported in the returned error.
//
//	exp := exporter.New(spanExporter)
//	defer exp.Shutdown(ctx)
//	err := exp.Replay(ctx, generator.EventsByTrace(traceID))
//
// # Replayed span format
//
// Each event becomes one span:
//
//   - Name: "audit." followed by the event type, as in "audit.node_end".
//   - Trace ID: the event's TraceID, so the span lands in the trace of the
//     action it audits. An event without a trace ID gets one derived from
//     the event (see TraceID) and becomes a root span.
//   - Span ID: derived from the event (see SpanID). The same event always
//     gets the same ID, so replaying twice does not duplicate the trail in a
//     backend that de-duplicates by ID.
//   - Parent: the event's TraceID and SpanID, when both are valid, so the
//     audit span is a child of the action's span. The parent is marked
//     remote.
//   - Kind: internal. Start time: event Time minus Duration; end time: event
//     Time. End events carry the action's duration; start events have none.
//   - Status: Error with the outcome as description for the outcomes error,
//     failure and denied; Ok for success; Unset otherwise.
//   - Attributes, in this order: audit.event.type and audit.event.seq
//     always; audit.outcome, audit.agent.id, audit.human_origin.id,
//     audit.workflow.id, audit.node.id, audit.action and audit.resource when
//     non-empty; then the event's own attributes. An event attribute that is
//     invalid or uses one of the audit.* keys above is dropped and counted in
//     the span's dropped attribute count: the audit fields are
//     authoritative.
//   - Resource and instrumentation scope: those of the event's Source, so
//     OTLP groups the audit spans with the spans they came from. Where the
//     Source does not know them, the defaults: WithResource (default
//     resource.Default()) and the scope named ScopeName.
//
// The span keys are exported as attribute.Key constants (EventTypeKey, ...)
// for code that reads replayed spans back.
//
// # Ownership
//
// Replay never modifies the events it is given and never hands the
// SpanExporter memory the caller owns: every span gets freshly built
// attribute slices. This matters because some exporters rewrite the spans
// they receive (stdouttrace with WithoutTimestamps does).
//
// # Concurrency and shutdown
//
// An Exporter is safe for concurrent use. Calls into the SpanExporter are
// serialized, as the SpanExporter contract requires, and every wait for a
// turn honours the caller's context. Shutdown refuses further Replay calls
// with ErrShutdown, waits for the Replay in flight and shuts the SpanExporter
// down once.
//
// # Streaming
//
// A Stream (NewStream) follows a Source, a store.Store or a Generator
// (FollowGenerator), and replays every new event as it arrives, in Seq
// order and in bounded batches, retrying failed exports with exponential
// backoff and jitter. Following a store with WithCursor, the delivered Seq
// is kept in the store, so delivery resumes after a restart or an outage
// and nothing accepted is lost (at least once: the deterministic span IDs
// let a backend de-duplicate). Following a Generator, events evicted before
// the Stream reached them are counted in StreamStats.Dropped. Stats and the
// otelaudit.export.* metrics show the lag.
package exporter
