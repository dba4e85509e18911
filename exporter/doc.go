// Package exporter replays audit events as OpenTelemetry spans, so that the
// audit trail shows up in the trace backend next to the traces it audits,
// or as OpenTelemetry log records, the path audit data takes to SIEMs and
// log stores (LogExporter, NewLogStream).
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
//   - Name: otelaudit.NamePrefix ("audit.") followed by the event type, as
//     in "audit.node_end".
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
// The keys are the otelaudit package's attribute.Key constants
// (otelaudit.KeyEventType, ...), for code that reads replayed spans back.
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
// # Log records
//
// A LogExporter wraps any sdklog.Exporter (stdoutlog, otlploggrpc,
// otlploghttp) and replays each event as one log record:
//
//   - Event name: "audit." followed by the event type, as the span name.
//   - Timestamp: the event's Time. Observed timestamp: when the record was
//     exported (one time per batch).
//   - Severity: INFO for the outcome success and for no outcome, WARN for
//     denied and failure, ERROR for error (see LogSeverity); the severity
//     text is the SDK's name of it ("INFO", "WARN", "ERROR").
//   - Body: a short line for people (see LogBody), such as
//     "trust_denied: execute_tool charge_card on payments://cards/alice (denied)".
//   - Trace context: the event's TraceID and SpanID, the span of the
//     action, with the sampled flag. An event outside any trace has none:
//     a log record needs no trace, and a derived one would name a trace
//     that does not exist.
//   - Attributes: those of the span format, in its order, then
//     otelaudit.KeyDuration (audit.duration_ns) when the event has a
//     duration (a span carries it as start and end), then the event's own
//     attributes; the exporter owns these keys, and an event attribute
//     that uses one, or is invalid, is left out. Duplicate keys among the
//     event's own attributes are reduced to the last, as the logs SDK
//     does for every record. No limit of the SDK applies: an audit record
//     is never cut.
//   - Resource and scope: the event's Source, else WithResource and
//     ScopeName, as for spans. An sdklog.Record takes its resource only
//     from a LoggerProvider, and the logs SDK merges the process's
//     OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME into every provider's
//     resource: attributes set there that the source's resource lacks are
//     added to the record's; the source's own always win.
//
// Log records have no ID, so a backend cannot de-duplicate a batch that was
// delivered twice by ID as it can spans: audit.event.seq, with the
// resource, names the event.
//
// # Streaming
//
// A Stream (NewStream for spans, NewLogStream for log records) follows a
// Trail, a store.Store or a Generator (FollowGenerator), and replays every
// new event as it arrives, in Seq order and in bounded batches, retrying
// failed exports with exponential backoff and jitter. Both kinds run the
// same engine; only the output differs. Following a store with
// WithCursor, the delivered Seq is kept in the store, so delivery resumes
// after a restart or an outage and nothing accepted is lost (at least
// once: the deterministic span IDs let a backend de-duplicate spans;
// audit.event.seq names a log record's event). Following a Generator,
// events evicted before the Stream reached them are counted in
// StreamStats.Dropped. Stats and the otelaudit.export.* metrics show the
// lag; their attribute otelaudit.export.signal says "traces" or "logs".
// ForceFlush returns once the events are exported and the exporter
// flushed: an sdklog.Exporter may buffer what it accepted.
//
// # Straight to OTLP
//
// NewOTLPStream runs the same engine with an output of its own: it copies
// the events' bytes as the Generator or the store holds them
// (Generator.AppendEncodedAfter, store.Store.AppendEncodedAfter) and
// writes each OTLP ExportTraceServiceRequest from them, with no Event,
// SDK span snapshot or OTLP struct per event, then hands the bytes to an
// OTLPClient: NewOTLPGRPCClient (OTLP/gRPC on a connection the caller
// dials) or NewOTLPHTTPClient (OTLP/HTTP, binary protobuf). The spans are
// those of the replayed span format, field for field what the SDK's OTLP
// span exporter sends for them, grouped by resource and scope the same
// way; the one difference is that strings which are not valid UTF-8
// (which protobuf cannot carry, and which the SDK's exporter refuses to
// send) go out with U+FFFD in place of each invalid sequence. A failed
// request is an error wrapping ErrExportFailed (and the gRPC status), and
// the Stream retries it as any other. NewStream remains the way to any
// other sdktrace.SpanExporter.
//
// NewOTLPLogStream does the same for log records: the LogExporter's record
// format, the resource merged with the environment's as the log SDK's
// LoggerProvider merges it, one observed timestamp per batch. An event
// whose attributes the log SDK would reduce (a key twice among its own
// attributes or in a map value) is built through sdklog.Record, so that
// the SDK's rules apply to it unchanged; the rest never meet the SDK.
package exporter
