package otelaudit_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

func TestReservedKey(t *testing.T) {
	fields := []attribute.Key{
		otelaudit.KeyEventType, otelaudit.KeyEventSeq, otelaudit.KeyOutcome, otelaudit.KeyAgentID,
		otelaudit.KeyHumanOriginID, otelaudit.KeyWorkflowID, otelaudit.KeyNodeID, otelaudit.KeyAction, otelaudit.KeyResource,
	}
	for _, k := range fields {
		assert.True(t, otelaudit.ReservedKey(k), "%s", k)
		assert.True(t, strings.HasPrefix(string(k), otelaudit.NamePrefix), "%s", k)
	}
	for _, k := range []attribute.Key{otelaudit.KeyDuration, "audit.", "audit.resource.id", "enduser.id", "node.id", ""} {
		assert.False(t, otelaudit.ReservedKey(k), "%s", k)
	}
}
