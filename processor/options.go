package processor

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

type config struct {
	classifier   Classifier
	allSpans     bool
	serverSpans  bool
	noBaggage    bool
	maxOpenSpans int
	// drop holds the keys the processor reads that the Generator's Policy
	// drops (see Policy.Drop): not read into a field, nor from Baggage.
	// The Generator itself leaves them out of the attributes.
	drop map[attribute.Key]struct{}
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	return c
}

// Option configures a Processor.
type Option interface {
	apply(config) config
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

// WithAllSpans audits every span, not only the ones the classifier
// recognises: a span that is neither a workflow nor a node nor explicitly
// typed nor a call is recorded as a node (node_start, node_end or
// node_error), a client, producer or consumer span as one resource_access
// when it ends. It has no effect together with WithClassifier, which then
// decides alone. With it, the Processor's Sampler records every span.
func WithAllSpans() Option {
	return optionFunc(func(c config) config {
		c.allSpans = true
		return c
	})
}

// WithClassifier replaces the default classification of spans by f. Field
// mapping and span events named audit.<type> work as without it. A nil f keeps the default. A Classifier needs the span, which
// a sampler never has: with one, the Processor's Sampler records every span
// its base sampler drops (as sdktrace.AlwaysRecord does).
func WithClassifier(f Classifier) Option {
	return optionFunc(func(c config) config {
		c.classifier = f
		return c
	})
}

// WithServerSpans audits the server spans of HTTP and RPC instrumentations
// (otelhttp's handler, otelgrpc's server handler) as resource_access, as
// client spans are: the inbound request, its method and route, and its
// outcome by status code (401 and 403 denied). Use it where the service
// itself is the resource agents reach (a tool server, an API): then
// refusals at its edge are in the trail. Without it server spans are not
// audited: they are the entry of the work a runtime then does, which the
// trail records as workflows, nodes and calls, and auditing them would put
// every health check and metrics scrape in the trail.
func WithServerSpans() Option {
	return optionFunc(func(c config) config {
		c.serverSpans = true
		return c
	})
}

// WithMaxOpenSpans bounds how many open spans the Processor remembers for
// identity inheritance and for its Sampler (DefaultMaxOpenSpans when n <=
// 0). Past the bound a span is not remembered, and the Generator's
// Stats.Untracked counts it: its own events still carry the identity of a
// remembered parent, but its children inherit nothing from it, and the
// Sampler records them only if they are audited themselves.
func WithMaxOpenSpans(n int) Option {
	return optionFunc(func(c config) config {
		c.maxOpenSpans = n
		return c
	})
}

// WithoutBaggage ignores W3C Baggage: without it, a span with no enclosing
// span that has an identity takes AgentID, HumanOriginID and WorkflowID
// from the Baggage members gen_ai.agent.id, enduser.id and workflow.id of
// its context, as the runtime that called this one propagated them.
// Baggage is whatever the caller sent: a service that takes calls from
// callers it does not trust should not propagate Baggage from them at all
// (the global propagator), or give this option.
func WithoutBaggage() Option {
	return optionFunc(func(c config) config {
		c.noBaggage = true
		return c
	})
}

// readKeys are the attribute keys the processor reads into fields or from
// Baggage: those a Policy's Drop can keep from it.
var readKeys = []attribute.Key{
	otelaudit.KeyEventType, otelaudit.KeyAction, otelaudit.KeyResource, otelaudit.KeyOutcome, otelaudit.KeyHumanOriginID,
	KeyEndUserID, KeyGenAIOperation, KeyGenAIAgentID, KeyGenAIAgentName, KeyAgentID,
	KeyWorkflowID, KeyWorkflowName, KeyNodeID,
	keyHTTPMethod, keyHTTPMethodOriginal, keyHTTPMethodLegacy, keyURLFull, keyHTTPURLLegacy,
	keyHTTPStatus, keyHTTPStatusLegacy, keyURLScheme, keyURLPath, keyHTTPRoute, keyServerAddress,
	keyServerPort, keyDBSystem, keyDBSystemLegacy, keyDBNamespace, keyDBNameLegacy, keyDBCollection,
	keyDBTableLegacy, keyDBOperation, keyDBOperationLegacy, keyDBQuerySummary, keyDBQueryText,
	keyDBStatementLegacy, keyRPCSystem, keyRPCSystemLegacy, keyRPCService, keyRPCMethod, keyRPCStatus,
	keyRPCGRPCStatusLegacy, keyMessagingSystem, keyMessagingOperationName, keyMessagingOperationType,
	keyMessagingDestination, keyGenAIProvider, keyGenAISystemLegacy, keyGenAIRequestModel,
	keyGenAIResponseModel,
}

// policyDrops returns the keys of readKeys that pol drops; nil for none.
func policyDrops(pol otelaudit.Policy) map[attribute.Key]struct{} {
	var m map[attribute.Key]struct{}
	for _, k := range readKeys {
		if pol.Drops(string(k)) {
			if m == nil {
				m = make(map[attribute.Key]struct{})
			}
			m[k] = struct{}{}
		}
	}
	return m
}
