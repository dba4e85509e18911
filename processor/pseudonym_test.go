package processor_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

// TestPseudonymsCoverEveryIdentityKey: the processor fills the identity
// fields from several attributes each; otelaudit's WithPseudonyms must
// know every one of them, or the clear value would stay in the event's
// attributes beside the field's pseudonym. Each key is tried alone, at
// the level that keeps every attribute.
func TestPseudonymsCoverEveryIdentityKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, otelaudit.MinPseudonymKeySize)
	for _, tt := range []struct {
		key   attribute.Key
		field func(otelaudit.Event) string
	}{
		{processor.KeyGenAIAgentID, func(e otelaudit.Event) string { return e.AgentID }},
		{processor.KeyGenAIAgentName, func(e otelaudit.Event) string { return e.AgentID }},
		{processor.KeyAgentID, func(e otelaudit.Event) string { return e.AgentID }},
		{processor.KeyEndUserID, func(e otelaudit.Event) string { return e.HumanOriginID }},
		{otelaudit.KeyHumanOriginID, func(e otelaudit.Event) string { return e.HumanOriginID }},
		{processor.KeyWorkflowID, func(e otelaudit.Event) string { return e.WorkflowID }},
		{processor.KeyWorkflowName, func(e otelaudit.Event) string { return e.WorkflowID }},
		{processor.KeyNodeID, func(e otelaudit.Event) string { return e.NodeID }},
	} {
		g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull}),
			otelaudit.WithPseudonyms(key, otelaudit.FieldAgentID, otelaudit.FieldHumanOriginID, otelaudit.FieldWorkflowID, otelaudit.FieldNodeID))
		tr := newProvider(t, processor.New(g))
		const clear = "clear-identity-value"
		_, sp := tr.Start(context.Background(), "step", trace.WithAttributes(
			kv("audit.event.type", "step"), tt.key.String(clear)))
		sp.End()
		events := g.Events(0)
		require.Len(t, events, 1, tt.key)
		e := events[0]
		assert.True(t, otelaudit.IsPseudonym(tt.field(e)), "%s fills its field with a pseudonym: %q", tt.key, tt.field(e))
		for _, a := range e.Attributes {
			assert.NotContains(t, a.Value.Emit(), clear, "%s stays clear in attribute %s", tt.key, a.Key)
		}
		assert.False(t, strings.Contains(e.AgentID+e.HumanOriginID+e.WorkflowID+e.NodeID, clear), tt.key)
	}
}
