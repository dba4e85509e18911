package otelaudit_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

func TestImpliedOutcome(t *testing.T) {
	for typ, want := range map[otelaudit.EventType]otelaudit.Outcome{
		otelaudit.TrustDenied:       otelaudit.Denied,
		otelaudit.WorkflowError:     otelaudit.Error,
		otelaudit.NodeError:         otelaudit.Error,
		"payment_error":             otelaudit.Error,
		otelaudit.WorkflowStart:     "",
		otelaudit.NodeEnd:           "",
		otelaudit.TrustVerification: "",
		otelaudit.ResourceAccess:    "",
		otelaudit.DelegationUsed:    "",
		"error":                     "",
		"error_budget":              "",
		"trust_denied_twice":        "",
		"":                          "",
	} {
		assert.Equal(t, want, typ.ImpliedOutcome(), "%q", typ)
	}
}

func TestOutcomeFailed(t *testing.T) {
	for o, want := range map[otelaudit.Outcome]bool{
		otelaudit.Failure: true, otelaudit.Denied: true, otelaudit.Error: true,
		otelaudit.Success: false, "": false, "timeout": false, "ERROR": false,
	} {
		assert.Equal(t, want, o.Failed(), "%q", o)
	}
	// What a type implies is always a failed outcome.
	for _, typ := range []otelaudit.EventType{otelaudit.TrustDenied, otelaudit.NodeError, otelaudit.WorkflowError, "x_error"} {
		assert.True(t, typ.ImpliedOutcome().Failed(), "%q", typ)
	}
}

func ExampleEventType_ImpliedOutcome() {
	for _, t := range []otelaudit.EventType{otelaudit.TrustDenied, otelaudit.NodeError, "payment_error", otelaudit.NodeEnd} {
		fmt.Printf("%s: %q\n", t, t.ImpliedOutcome())
	}
	// Output:
	// trust_denied: "denied"
	// node_error: "error"
	// payment_error: "error"
	// node_end: ""
}
