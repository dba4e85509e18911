// Package processor turns the spans of an agent or workflow runtime into
// audit events.
//
// Register one Processor in the runtime's sdktrace.TracerProvider, and wrap
// the provider's sampler in the Processor's Sampler, beside whatever exports
// its traces:
//
//	g := otelaudit.NewGenerator()
//	p := processor.New(g)
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithSampler(p.Sampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1)))),
//		sdktrace.WithSpanProcessor(p),
//		sdktrace.WithBatcher(traceExporter),
//	)
//
// # Sampling
//
// The SDK hands span processors only the spans its sampler records. An
// audit trail must not be sampled: the Sampler keeps the base sampler's
// decision for export and turns its Drop into RecordOnly for every span the
// Processor would audit, so the trail is complete whatever the base sampler
// and whatever an incoming traceparent says, and exporters still get only
// what the base sampler samples. See Processor.Sampler for what it records.
//
// # Classification
//
// By default:
//
//   - a span with node.id, or gen_ai.operation.name "execute_tool", is a node:
//     node_start when it starts, node_end or (status Error) node_error when
//     it ends;
//   - otherwise a span with workflow.id or workflow.name, or
//     gen_ai.operation.name "invoke_workflow", "invoke_agent", "create_agent"
//     or "plan", is a workflow: workflow_start, workflow_end, workflow_error;
//   - otherwise a call, as the ecosystem's instrumentations trace them
//     (otelhttp, otelgrpc, otelsql, messaging and GenAI instrumentations),
//     is one resource_access when it ends: an HTTP, RPC or database client
//     span, a messaging producer or consumer span, a GenAI model call
//     (gen_ai.operation.name "chat", "generate_content", "text_completion",
//     "embeddings"). Action, Resource and Outcome come from the semantic
//     conventions: the HTTP method and the URL without query, fragment or
//     user info, 401/403 denied; the database operation and system,
//     server, namespace and table, never the query text; the RPC method
//     and service/method, PERMISSION_DENIED/UNAUTHENTICATED denied; the
//     messaging operation and destination; the GenAI operation and
//     provider/model. A database driver's bookkeeping (otelsql's sql.rows,
//     sql.conn.reset_session, pings, prepares, transactions) is not an
//     access. Server spans are not audited unless WithServerSpans;
//   - a span with an audit.event.type attribute produces one event of that
//     type when it ends, whatever else it carries;
//   - on any span, a span event named audit.<type> (audit.trust_denied,
//     audit.resource_access, ...) becomes an event of that type at the span
//     event's own time, recorded when the span ends;
//   - every other span is ignored, unless WithAllSpans audits it as a node
//     (or, for a client, producer or consumer span, as one resource_access
//     when it ends).
//
// WithClassifier replaces the rules for the span itself by a function of
// the user's; span events named audit.<type> are recorded either way.
//
// # Fields and identity
//
// Fields come from attributes: AgentID from gen_ai.agent.id, then
// gen_ai.agent.name, then agent.id; HumanOriginID from audit.human_origin.id,
// then enduser.id; WorkflowID from workflow.id, then workflow.name; NodeID
// from node.id; Action from audit.action, else what the call did, else the
// span name; Resource from audit.resource, else what the call touched.
//
// A span that lacks AgentID, HumanOriginID, WorkflowID or NodeID inherits
// each from the nearest enclosing span that has it (the GenAI conventions
// put the agent and the user on the invoke_agent span only), as it stood
// when the span started; a span with no such enclosing span in this
// process takes them from the W3C Baggage members gen_ai.agent.id,
// enduser.id and workflow.id of its context, as the calling runtime
// propagated them (WithoutBaggage ignores Baggage). The Processor remembers
// this for each open span it tracks, up to WithMaxOpenSpans
// (DefaultMaxOpenSpans), releasing it when the span ends; past the bound
// the Generator's Stats.Untracked counts the spans it could not remember.
//
// Outcome: a start event has none, unless its type implies one (trust_denied
// is denied, *_error is error). An end event takes audit.outcome, else what
// its type implies, else what the call's status says (HTTP status code,
// RPC status code), else the span status (Error is error, anything else
// success). A span event's event takes its own audit.outcome, else what its
// type implies, else success: the span's outcome and status speak of the
// span, not of what happened during it.
//
// Events keep the span's attributes but the audit.* attributes that became
// fields (the exporter writes them back), as the Generator's Policy keeps
// them (otelaudit.WithPolicy): by default the attributes known to be safe,
// and at no level a known secret (credentials in captured headers, URL
// query strings and user info, query text, GenAI content). A key the
// Policy's Drop names still classifies the span but reaches neither a
// field nor the attributes, nor is it taken from Baggage.
//
// # Span limits
//
// The SDK's span limits (128 attributes, 128 span events by default) drop
// data before any processor sees it. Every event of a span that lost some
// carries the counts (KeySpanDroppedAttributes, KeySpanDroppedEvents,
// KeySpanDroppedLinks; KeyEventDroppedAttributes for a span event's own),
// and the Generator's Stats.Truncated counts every such span, and every
// unaudited span that lost attributes or span events (what was lost may be
// what would have audited it).
// An audit deployment raises the limits with sdktrace.WithRawSpanLimits:
// see the README.
//
// OnStart and OnEnd run on the goroutine that starts or ends the span, never
// block on I/O and keep no reference to the span.
//
// A processor cannot hold up a span, so a tool that must not act unless the
// trail durably holds what it is about to do asks for it from inside its
// span: Processor.Require records an intent with the span's identity and
// returns once it is durable (see otelaudit.Generator.Require); the outcome
// can then be a span event like any other.
package processor
