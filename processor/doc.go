// Package processor turns the spans of an agent or workflow runtime into
// audit events.
//
// Register one Processor in the runtime's sdktrace.TracerProvider, beside
// whatever exports its traces:
//
//	g := otelaudit.NewGenerator()
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithSpanProcessor(processor.New(g)),
//		sdktrace.WithBatcher(traceExporter),
//	)
//
// Classification by default:
//
//   - a span with node.id, or gen_ai.operation.name "execute_tool", is a node:
//     node_start when it starts, node_end or (status Error) node_error when
//     it ends;
//   - otherwise a span with workflow.id or workflow.name, or
//     gen_ai.operation.name "invoke_workflow", "invoke_agent", "create_agent"
//     or "plan", is a workflow: workflow_start, workflow_end, workflow_error;
//   - a span with an audit.event.type attribute produces one event of that
//     type when it ends, whatever else it carries;
//   - on any span, a span event named audit.<type> (audit.trust_denied,
//     audit.resource_access, ...) becomes an event of that type at the span
//     event's own time, recorded when the span ends;
//   - every other span is ignored, unless WithAllSpans audits it as a node.
//
// WithClassifier replaces the rules for the span itself (the first three,
// and the last) by a function of the user's; span events named audit.<type>
// are recorded either way.
//
// Fields come from attributes: AgentID from gen_ai.agent.id, then
// gen_ai.agent.name, then agent.id; HumanOriginID from audit.human_origin.id,
// then enduser.id; WorkflowID from workflow.id, then workflow.name; NodeID
// from node.id; Action from audit.action, else the span name; Resource from
// audit.resource.
//
// Outcome: a start event has none, unless its type implies one (trust_denied
// is denied, *_error is error). An end event takes audit.outcome, else what
// its type implies, else the span status (Error is error, anything else
// success). A span event's event takes its own audit.outcome, else what its
// type implies, else success: the span's outcome and status speak of the
// span, not of what happened during it.
//
// Events keep the span's attributes except the GenAI content attributes
// (prompts, completions, tool arguments and results), which are dropped
// unless WithKeepContent is given, and the audit.* attributes that became
// fields (the exporter writes them back). WithDropAttributes drops more
// keys: a dropped key still classifies the span but reaches neither a field
// nor the attributes.
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
