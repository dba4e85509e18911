package otelaudit_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

var pseudoKey = bytes.Repeat([]byte{0x5a}, otelaudit.MinPseudonymKeySize)

// TestPseudonymIsHMACSHA256: the documented rule, computed the plain way.
func TestPseudonymIsHMACSHA256(t *testing.T) {
	m := hmac.New(sha256.New, pseudoKey)
	m.Write([]byte("alice"))
	want := "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
	assert.Equal(t, want, otelaudit.Pseudonym(pseudoKey, "alice"))
	assert.True(t, otelaudit.IsPseudonym(want))
	assert.False(t, otelaudit.IsPseudonym("hmac-sha256:"+hex.EncodeToString(make([]byte, 31))))
	assert.False(t, otelaudit.IsPseudonym(want[:len(want)-1]+"G"))
	assert.NotEqual(t, want, otelaudit.Pseudonym(bytes.Repeat([]byte{1}, 32), "alice"), "another key, another pseudonym")
}

// TestPseudonymsReplaceChosenValues: the chosen fields, the attributes they
// come from and the chosen attributes hold pseudonyms, before the event is
// hashed: the clear values are nowhere, the chain verifies without the key,
// and whoever has the key finds the events by the clear value.
func TestPseudonymsReplaceChosenValues(t *testing.T) {
	g, err := otelaudit.New(
		otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull}),
		otelaudit.WithPseudonyms(pseudoKey, otelaudit.FieldHumanOriginID, otelaudit.FieldAgentID, "account.number"))
	require.NoError(t, err)
	ctx := context.Background()
	for i, user := range []string{"alice@example.com", "bob", "alice@example.com"} {
		_, err := g.Record(ctx, otelaudit.Event{
			Type: otelaudit.ResourceAccess, TraceID: trace.TraceID{byte(i + 1)}, AgentID: "billing-agent", HumanOriginID: user,
			WorkflowID: "wf", Attributes: []attribute.KeyValue{
				attribute.String("enduser.id", user),
				attribute.String("gen_ai.agent.name", "billing-agent"),
				attribute.Int64("account.number", 4111111111),
				attribute.StringSlice("agent_id", []string{"billing-agent", ""}),
				attribute.String("workflow.id", "wf"),
			},
		})
		require.NoError(t, err)
	}
	alice := otelaudit.Pseudonym(pseudoKey, "alice@example.com")
	agent := otelaudit.Pseudonym(pseudoKey, "billing-agent")
	p, ok := g.Pseudonym("alice@example.com")
	require.True(t, ok)
	assert.Equal(t, alice, p)

	events := g.Events(0)
	require.Len(t, events, 3)
	for _, e := range events {
		for _, s := range strs(t, &e) {
			assert.NotContains(t, s, "alice@example.com")
			assert.NotContains(t, s, "billing-agent")
			assert.NotContains(t, s, "4111111111")
		}
		assert.Equal(t, agent, e.AgentID)
		assert.Equal(t, "wf", e.WorkflowID, "not chosen: kept")
		a := attrsOf(e)
		assert.Equal(t, e.HumanOriginID, a["enduser.id"].AsString(), "the attribute HumanOriginID comes from, replaced alike")
		assert.Equal(t, agent, a["gen_ai.agent.name"].AsString())
		assert.Equal(t, otelaudit.Pseudonym(pseudoKey, "4111111111"), a["account.number"].AsString(), "another type: its text")
		assert.Equal(t, []string{agent, ""}, a["agent_id"].AsStringSlice(), "each element; empty stays empty")
		assert.Equal(t, "wf", a["workflow.id"].AsString())
	}
	byUser := g.EventsByUser(alice)
	require.Len(t, byUser, 2)
	assert.Equal(t, []uint64{1, 3}, []uint64{byUser[0].Seq, byUser[1].Seq})
	assert.Equal(t, 2, len(g.Query(otelaudit.Query{HumanOriginID: alice, AgentID: agent}).Events))
	assert.Empty(t, g.EventsByUser("alice@example.com"), "queries take stored values")
	require.NoError(t, otelaudit.VerifyChain(otelaudit.GenesisAnchor, events, nil, nil), "verification needs no key")
	require.NoError(t, g.Verify())

	// A value that already is a pseudonym is kept: not hashed twice.
	e, err := g.Record(ctx, otelaudit.Event{Type: "x", HumanOriginID: alice})
	require.NoError(t, err)
	assert.Equal(t, alice, e.HumanOriginID)
}

// TestShortPseudonymKeyRefusesEverything: a key too short to be secret
// would store guessable pseudonyms; the Generator refuses to record rather
// than store in clear what it was told to hide.
func TestShortPseudonymKeyRefusesEverything(t *testing.T) {
	for _, key := range [][]byte{nil, {}, make([]byte, otelaudit.MinPseudonymKeySize-1)} {
		_, err := otelaudit.New(otelaudit.WithPseudonyms(key, otelaudit.FieldHumanOriginID))
		require.ErrorIs(t, err, otelaudit.ErrPseudonymKey)
		g := otelaudit.NewGenerator(otelaudit.WithPseudonyms(key, otelaudit.FieldHumanOriginID))
		_, err = g.Record(context.Background(), otelaudit.Event{Type: "x", HumanOriginID: "alice"})
		assert.ErrorIs(t, err, otelaudit.ErrPseudonymKey)
		assert.Equal(t, uint64(1), g.Stats().Rejected)
		assert.Empty(t, g.Events(0))
	}
	g := otelaudit.NewGenerator()
	v, ok := g.Pseudonym("alice")
	assert.False(t, ok)
	assert.Equal(t, "alice", v)
}

// TestPseudonymCacheUnderConcurrency: many goroutines, few users, the
// cache shared: every pseudonym is the one Pseudonym computes.
func TestPseudonymCacheUnderConcurrency(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithPseudonyms(pseudoKey, otelaudit.FieldHumanOriginID))
	users := make([]string, 700) // more than the cache holds: slots are replaced
	for i := range users {
		users[i] = "user-" + string(rune('a'+i%26)) + hex.EncodeToString([]byte{byte(i), byte(i >> 8)})
	}
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 2000 {
				u := users[(i*7+w)%len(users)]
				e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", HumanOriginID: u})
				if err != nil || e.HumanOriginID != otelaudit.Pseudonym(pseudoKey, u) {
					t.Errorf("user %s: %v %s", u, err, e.HumanOriginID)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

// TestPseudonymsReachActionAndResource: the GenAI conventions name spans
// after what the fields hold ("invoke_agent {gen_ai.agent.name}",
// "execute_tool {gen_ai.tool.name}"), and the span processor takes the
// span name for Action: a chosen field's clear value, wherever it is a
// word of Action or Resource, is replaced by its pseudonym too, or the
// trail would show it beside the pseudonym that hides it.
func TestPseudonymsReachActionAndResource(t *testing.T) {
	g, err := otelaudit.New(otelaudit.WithPseudonyms(pseudoKey, otelaudit.FieldAgentID, otelaudit.FieldNodeID, otelaudit.FieldHumanOriginID))
	require.NoError(t, err)
	ps := func(v string) string { return otelaudit.Pseudonym(pseudoKey, v) }
	for _, tt := range []struct {
		in, want otelaudit.Event
	}{
		{otelaudit.Event{AgentID: "Procurement Agent", Action: "invoke_agent Procurement Agent"},
			otelaudit.Event{AgentID: ps("Procurement Agent"), Action: "invoke_agent " + ps("Procurement Agent")}},
		{otelaudit.Event{NodeID: "catalog", Action: "execute_tool catalog", Resource: "tools/catalog"},
			otelaudit.Event{NodeID: ps("catalog"), Action: "execute_tool " + ps("catalog"), Resource: "tools/" + ps("catalog")}},
		{otelaudit.Event{HumanOriginID: "alice", Action: "alice", Resource: "refund for alice, alice.smith and malice"},
			otelaudit.Event{HumanOriginID: ps("alice"), Action: ps("alice"), Resource: "refund for " + ps("alice") + ", alice.smith and malice"}},
		{otelaudit.Event{NodeID: "cat", Action: "execute_tool catalog"},
			otelaudit.Event{NodeID: ps("cat"), Action: "execute_tool catalog"}},
	} {
		tt.in.Type, tt.want.Type = "x", "x"
		e, err := g.Record(context.Background(), tt.in)
		require.NoError(t, err)
		got := otelaudit.Event{Type: e.Type, AgentID: e.AgentID, NodeID: e.NodeID, HumanOriginID: e.HumanOriginID, Action: e.Action, Resource: e.Resource}
		assert.Equal(t, tt.want, got)
	}
}

// TestPseudonymIsWhatIsStored: Pseudonym, Generator.Pseudonym and what the
// Generator stores agree for every value, the empty one and one that
// already is a pseudonym included, so that a lookup by either finds what
// was stored.
func TestPseudonymIsWhatIsStored(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithPseudonyms(pseudoKey, otelaudit.FieldHumanOriginID))
	for _, v := range []string{"alice", "", otelaudit.Pseudonym(pseudoKey, "bob")} {
		e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", HumanOriginID: v})
		require.NoError(t, err)
		p, ok := g.Pseudonym(v)
		require.True(t, ok)
		assert.Equal(t, e.HumanOriginID, p, "Generator.Pseudonym(%q)", v)
		assert.Equal(t, e.HumanOriginID, otelaudit.Pseudonym(pseudoKey, v), "Pseudonym(key, %q)", v)
	}
}

// TestPseudonymOfASourceAttributeCoversItsField: the span processor fills
// HumanOriginID from enduser.id (and AgentID from gen_ai.agent.*, ...).
// Naming the attribute, as one who thinks in OTel keys does, must hide
// the value in the field too, or the clear user stays in every event's
// HumanOriginID beside its pseudonymized enduser.id.
func TestPseudonymOfASourceAttributeCoversItsField(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithPseudonyms(pseudoKey, "enduser.id", "gen_ai.agent.name"))
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", HumanOriginID: "alice", AgentID: "Billing Agent",
		Action: "invoke_agent Billing Agent", Attributes: []attribute.KeyValue{
			attribute.String("enduser.id", "alice"), attribute.String("gen_ai.agent.name", "Billing Agent"),
			attribute.String("audit.human_origin.id", "alice"),
		}})
	require.NoError(t, err)
	for _, s := range strs(t, &e) {
		assert.NotContains(t, s, "alice")
		assert.NotContains(t, s, "Billing Agent")
	}
	assert.Equal(t, otelaudit.Pseudonym(pseudoKey, "alice"), e.HumanOriginID)
	assert.Equal(t, otelaudit.Pseudonym(pseudoKey, "Billing Agent"), e.AgentID)
}
