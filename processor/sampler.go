package processor

import (
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Sampler returns a sampler for the TracerProvider that keeps base's
// decision for export and records every span the Processor would audit
// even when base drops it:
//
//	p := processor.New(audit)
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithSampler(p.Sampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1)))),
//		sdktrace.WithSpanProcessor(p),
//		sdktrace.WithBatcher(exporter),
//	)
//
// The SDK hands span processors only recording spans, so without it the
// trail has exactly the traces the sampler keeps, and a caller whose
// traceparent ends in -00 switches auditing off under ParentBased. With
// it, a span base drops becomes RecordOnly when the Processor would audit
// it; its trace flags stay unsampled and its tracestate is base's, so
// exporters (BatchSpanProcessor, SimpleSpanProcessor export only sampled
// spans) and downstream services see exactly what base decided. Spans
// base records or samples are left as base decided.
//
// A span base drops is recorded when:
//
//   - it is a client, producer or consumer span: the instrumentations of
//     HTTP, database, RPC and messaging calls set the attributes that make
//     a call audited only after the span started (otelhttp and otelsql
//     start with none), so the kind must decide;
//   - it is a server span, with WithServerSpans;
//   - it starts with an attribute that audits it: audit.event.type,
//     node.id, workflow.id, workflow.name, or an audited
//     gen_ai.operation.name (a workflow, a tool, a model call);
//   - its parent is an open span the Processor tracks (one with an
//     identity, audited, or itself below such a span): everything below an
//     audited workflow is recorded, so that audit.<type> span events and an
//     audit.event.type set after the start are in the trail wherever they
//     are in the workflow;
//   - always, with WithAllSpans or WithClassifier: a Classifier needs the
//     span, which a sampler does not have, so nothing can be left out (as
//     sdktrace.AlwaysRecord, but keeping base's tracestate).
//
// Everything else base drops stays dropped: spans outside any audited
// work, which is where its cost stays below sdktrace.AlwaysRecord's (see
// BENCHMARKS.md). Such a span that becomes audited only later (an
// audit.<type> span event, an audit.event.type set after the start) is not
// in the trail: start it with audit.event.type, or inside an audited span,
// or record with Generator.Record.
//
// A nil base is the SDK's default, ParentBased(AlwaysSample()). After
// Shutdown the Processor audits nothing and the Sampler decides as base.
func (p *Processor) Sampler(base sdktrace.Sampler) sdktrace.Sampler {
	if base == nil {
		base = sdktrace.ParentBased(sdktrace.AlwaysSample())
	}
	return &sampler{p: p, base: base}
}

type sampler struct {
	p    *Processor
	base sdktrace.Sampler
}

func (s *sampler) ShouldSample(params sdktrace.SamplingParameters) sdktrace.SamplingResult {
	r := s.base.ShouldSample(params)
	if r.Decision == sdktrace.Drop && s.p.wouldAudit(params) {
		// Only the decision changes: the tracestate and flags a Drop
		// propagates are the ones a RecordOnly propagates.
		r.Decision = sdktrace.RecordOnly
	}
	return r
}

func (s *sampler) Description() string {
	return "otelaudit.Sampler{" + s.base.Description() + "}"
}

// wouldAudit reports whether the Processor may audit a span with these
// sampling parameters (see Sampler).
func (p *Processor) wouldAudit(params sdktrace.SamplingParameters) bool {
	if p.off() {
		return false
	}
	if p.cfg.classifier != nil || p.cfg.allSpans {
		return true
	}
	switch params.Kind {
	case trace.SpanKindClient, trace.SpanKindProducer, trace.SpanKindConsumer:
		return true
	case trace.SpanKindServer:
		if p.cfg.serverSpans {
			return true
		}
	}
	if startsAudited(params) {
		return true
	}
	psc := trace.SpanContextFromContext(params.ParentContext)
	if !psc.IsValid() || psc.IsRemote() {
		return false
	}
	_, inTree := p.enclosing(params.ParentContext, psc)
	return inTree
}

// startsAudited reports whether the start attributes alone make a span
// audited by the default rules (calls are told by their kind, above).
func startsAudited(params sdktrace.SamplingParameters) bool {
	for i := range params.Attributes {
		kv := &params.Attributes[i]
		switch kv.Key {
		case otelaudit.KeyEventType, KeyNodeID, KeyWorkflowID, KeyWorkflowName:
			return true
		case KeyGenAIOperation:
			switch kv.Value.AsString() {
			case "invoke_workflow", "invoke_agent", "create_agent", "plan", "execute_tool",
				"chat", "generate_content", "text_completion", "embeddings":
				return true
			}
		}
	}
	return false
}
