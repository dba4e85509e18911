package processor

import (
	"go.opentelemetry.io/otel/attribute"
)

// Content attributes of the GenAI semantic conventions. They carry prompts,
// completions and tool payloads: sensitive, large, and not what an audit
// trail is for. Dropped unless WithKeepContent is given, as Kubernetes audit
// records only metadata unless its level asks for bodies.
const (
	KeyInputMessages      attribute.Key = "gen_ai.input.messages"
	KeyOutputMessages     attribute.Key = "gen_ai.output.messages"
	KeySystemInstructions attribute.Key = "gen_ai.system_instructions"
	KeyToolCallArguments  attribute.Key = "gen_ai.tool.call.arguments"
	KeyToolCallResult     attribute.Key = "gen_ai.tool.call.result"
)

// ContentKeys returns the attribute keys dropped by default.
func ContentKeys() []attribute.Key {
	return []attribute.Key{
		KeyInputMessages, KeyOutputMessages, KeySystemInstructions,
		KeyToolCallArguments, KeyToolCallResult,
	}
}

type config struct {
	classifier  Classifier
	allSpans    bool
	keepContent bool
	drop        map[attribute.Key]struct{}
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
// typed is recorded as a node (node_start, node_end or node_error). It has
// no effect together with WithClassifier, which then decides alone.
func WithAllSpans() Option {
	return optionFunc(func(c config) config {
		c.allSpans = true
		return c
	})
}

// WithClassifier replaces the default classification of spans by f. Field
// mapping, content dropping and span events named audit.<type> work as
// without it. A nil f keeps the default.
func WithClassifier(f Classifier) Option {
	return optionFunc(func(c config) config {
		c.classifier = f
		return c
	})
}

// WithKeepContent keeps the GenAI content attributes (ContentKeys) on audit
// events. Only for trails that are allowed to hold prompts and tool payloads.
func WithKeepContent() Option {
	return optionFunc(func(c config) config {
		c.keepContent = true
		return c
	})
}

// WithDropAttributes adds keys that are never copied into audit events, on
// top of the content keys (or alone, with WithKeepContent): not into
// Attributes, and not into the fields they would fill (a dropped enduser.id
// leaves HumanOriginID empty). They still classify the span. Use it for
// secrets and personal data your runtime puts on spans.
func WithDropAttributes(keys ...attribute.Key) Option {
	return optionFunc(func(c config) config {
		if len(keys) == 0 {
			return c
		}
		m := make(map[attribute.Key]struct{}, len(c.drop)+len(keys))
		for k := range c.drop {
			m[k] = struct{}{}
		}
		for _, k := range keys {
			m[k] = struct{}{}
		}
		c.drop = m
		return c
	})
}
