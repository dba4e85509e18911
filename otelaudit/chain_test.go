package otelaudit_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// chainTrail records n varied events, some with a Source, and returns the
// Generator and its events.
func chainTrail(t *testing.T, n int, opts ...otelaudit.Option) (*otelaudit.Generator, []otelaudit.Event) {
	t.Helper()
	// Every attribute kept: the chain covers them all.
	g := otelaudit.NewGenerator(append([]otelaudit.Option{fullLevel}, opts...)...)
	src := otelaudit.NewSource(resource.NewSchemaless(attribute.String("service.name", "runtime")),
		instrumentation.Scope{Name: "agents", Version: "1.2.0"})
	for i := range n {
		e := otelaudit.Event{
			Type:       otelaudit.NodeEnd,
			TraceID:    trace.TraceID{byte(i%3 + 1)},
			SpanID:     trace.SpanID{byte(i + 1)},
			AgentID:    fmt.Sprintf("agent-%d", i%2),
			Action:     "search",
			Resource:   "https://example.test/doc",
			Outcome:    otelaudit.Success,
			Duration:   time.Duration(i) * time.Millisecond,
			Attributes: []attribute.KeyValue{attribute.Int("attempt", i)},
		}
		if i%2 == 0 {
			e.Source = src
		}
		_, err := g.Record(context.Background(), e)
		require.NoError(t, err)
	}
	return g, g.Events(0)
}

func chainErrorSeq(t *testing.T, err error) uint64 {
	t.Helper()
	require.ErrorIs(t, err, otelaudit.ErrChainBroken)
	var ce *otelaudit.ChainError
	require.True(t, errors.As(err, &ce), "error %v is not a *ChainError", err)
	return ce.Seq
}

func TestChainLinksEveryEvent(t *testing.T) {
	g, events := chainTrail(t, 5)
	require.Len(t, events, 5)
	assert.Equal(t, otelaudit.GenesisHash, events[0].PrevHash)
	for i, e := range events {
		assert.False(t, e.Hash.IsZero(), "event %d not sealed", e.Seq)
		if i > 0 {
			assert.Equal(t, events[i-1].Hash, e.PrevHash, "event %d", e.Seq)
		}
	}
	assert.Equal(t, otelaudit.GenesisAnchor, g.Anchor())
	assert.Equal(t, events[4].Hash, g.Head().Hash)
	assert.Equal(t, uint64(5), g.Head().Seq)
	require.NoError(t, g.Verify())
	require.NoError(t, otelaudit.VerifyChain(otelaudit.GenesisAnchor, events, nil, nil))
	// Record's answer is sealed and agrees with the queries.
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "custom"})
	require.NoError(t, err)
	assert.Equal(t, events[4].Hash, e.PrevHash)
	assert.Equal(t, g.EventsByType("custom")[0].Hash, e.Hash)
}

// TestTamperDetected alters every field of an event of a verified trail, at
// its first, a middle and its last event, and checks that verification
// fails naming the event.
func TestTamperDetected(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	fields := map[string]func(e *otelaudit.Event){
		"Type":          func(e *otelaudit.Event) { e.Type = otelaudit.NodeError },
		"Time":          func(e *otelaudit.Event) { e.Time = e.Time.Add(time.Nanosecond) },
		"TraceID":       func(e *otelaudit.Event) { e.TraceID[15] ^= 1 },
		"SpanID":        func(e *otelaudit.Event) { e.SpanID[7] ^= 1 },
		"ParentSpanID":  func(e *otelaudit.Event) { e.ParentSpanID[0] ^= 1 },
		"AgentID":       func(e *otelaudit.Event) { e.AgentID = "mallory" },
		"HumanOriginID": func(e *otelaudit.Event) { e.HumanOriginID = "bob" },
		"WorkflowID":    func(e *otelaudit.Event) { e.WorkflowID = "wf" },
		"NodeID":        func(e *otelaudit.Event) { e.NodeID = "n" },
		"Action":        func(e *otelaudit.Event) { e.Action = "delete" },
		"Resource":      func(e *otelaudit.Event) { e.Resource = "/etc/passwd" },
		"Outcome":       func(e *otelaudit.Event) { e.Outcome = otelaudit.Denied },
		"Duration":      func(e *otelaudit.Event) { e.Duration++ },
		"Attribute value": func(e *otelaudit.Event) {
			e.Attributes = []attribute.KeyValue{attribute.Int("attempt", 99)}
		},
		"Attribute added": func(e *otelaudit.Event) {
			e.Attributes = append(e.Attributes, attribute.Bool("x", true))
		},
		"Attributes dropped": func(e *otelaudit.Event) { e.Attributes = nil },
		"Source": func(e *otelaudit.Event) {
			e.Source = otelaudit.NewSource(resource.NewSchemaless(attribute.String("service.name", "other")), instrumentation.Scope{Name: "agents"})
		},
		"Source removed": func(e *otelaudit.Event) { e.Source = nil },
		"Hash":           func(e *otelaudit.Event) { e.Hash[0] ^= 1 },
		"PrevHash":       func(e *otelaudit.Event) { e.PrevHash[31] ^= 1 },
	}
	_, events := chainTrail(t, 8)
	for name, alter := range fields {
		for _, at := range []int{0, 3, 7} {
			t.Run(fmt.Sprintf("%s/seq%d", name, at+1), func(t *testing.T) {
				trail := clone(events)
				alter(&trail[at])
				if name == "Source" || name == "Source removed" {
					// Make sure the field really changed for this event.
					if at%2 == 1 && name == "Source removed" {
						t.Skip("this event has no Source")
					}
				}
				err := otelaudit.VerifyChain(otelaudit.GenesisAnchor, trail, nil, nil)
				assert.Equal(t, trail[at].Seq, chainErrorSeq(t, err), "%v", err)
			})
		}
	}

	cp := treeCheckpoint(events[:6]).Sign(priv)
	structural := []struct {
		name    string
		edit    func([]otelaudit.Event) []otelaudit.Event
		cps     []otelaudit.Checkpoint
		wantSeq uint64
	}{
		{"delete one", func(ev []otelaudit.Event) []otelaudit.Event { return append(ev[:3], ev[4:]...) }, nil, 4},
		{"delete the first", func(ev []otelaudit.Event) []otelaudit.Event { return ev[1:] }, nil, 1},
		{"insert one", func(ev []otelaudit.Event) []otelaudit.Event {
			extra := ev[2]
			extra.Action = "inserted"
			return append(ev[:3], append([]otelaudit.Event{extra}, ev[3:]...)...)
		}, nil, 3},
		{"insert one, renumbered", func(ev []otelaudit.Event) []otelaudit.Event {
			extra := ev[2]
			extra.Seq = 4
			out := append(append(ev[:3:3], extra), ev[3:]...)
			for i := 4; i < len(out); i++ {
				out[i].Seq++
			}
			return out
		}, nil, 4},
		{"reorder two", func(ev []otelaudit.Event) []otelaudit.Event { ev[2], ev[3] = ev[3], ev[2]; return ev }, nil, 3},
		{"truncate after a signed checkpoint", func(ev []otelaudit.Event) []otelaudit.Event { return ev[:4] }, []otelaudit.Checkpoint{cp}, 5},
		{"rewrite the tail after a signed checkpoint", func(ev []otelaudit.Event) []otelaudit.Event {
			// A forger who recomputes every hash from the altered event on
			// passes the chain, not the checkpoint.
			ev[4].Action = "forged"
			return reseal(t, ev, 4)
		}, []otelaudit.Checkpoint{cp}, 6},
	}
	for _, tc := range structural {
		t.Run(tc.name, func(t *testing.T) {
			err := otelaudit.VerifyChain(otelaudit.GenesisAnchor, tc.edit(clone(events)), tc.cps, pub)
			assert.Equal(t, tc.wantSeq, chainErrorSeq(t, err), "%v", err)
		})
	}
	t.Run("untouched with checkpoint", func(t *testing.T) {
		require.NoError(t, otelaudit.VerifyChain(otelaudit.GenesisAnchor, clone(events), []otelaudit.Checkpoint{cp}, pub))
	})
	t.Run("forged checkpoint signature", func(t *testing.T) {
		bad := cp
		bad.Seq = 3
		err := otelaudit.VerifyChain(otelaudit.GenesisAnchor, clone(events), []otelaudit.Checkpoint{bad}, pub)
		assert.Equal(t, uint64(3), chainErrorSeq(t, err))
	})
}

// treeCheckpoint returns the unsigned checkpoint of a trail from the
// genesis: its Merkle tree's size and root, and its head.
func treeCheckpoint(events []otelaudit.Event) otelaudit.Checkpoint {
	t, _ := tlog.NewTree(0, nil)
	for _, e := range events {
		t.Append(e.Hash, nil)
	}
	last := events[len(events)-1]
	return otelaudit.Checkpoint{Size: t.Size(), Root: t.Root(), Seq: last.Seq, Hash: last.Hash, Time: time.Now()}
}

// reseal recomputes the chain from index from on, as a forger with write
// access but no signing key would.
func reseal(t *testing.T, ev []otelaudit.Event, from int) []otelaudit.Event {
	for i := from; i < len(ev); i++ {
		ev[i].PrevHash = ev[i-1].Hash
		data, err := ev[i].MarshalBinary()
		require.NoError(t, err)
		ev[i].Hash = otelaudit.ChainHash(ev[i].PrevHash, ev[i].Source.Digest(), data)
	}
	return ev
}

func clone(events []otelaudit.Event) []otelaudit.Event {
	out := make([]otelaudit.Event, len(events))
	for i, e := range events {
		e.Attributes = append([]attribute.KeyValue(nil), e.Attributes...)
		out[i] = e
	}
	return out
}

func TestChainSurvivesEvictionAndClear(t *testing.T) {
	g, _ := chainTrail(t, 10, otelaudit.WithCapacity(4))
	events := g.Events(0)
	require.Len(t, events, 4)
	anchor := g.Anchor()
	assert.Equal(t, uint64(6), anchor.Seq)
	assert.Equal(t, events[0].PrevHash, anchor.Hash)
	require.NoError(t, g.Verify())
	require.NoError(t, otelaudit.VerifyChain(anchor, events, nil, nil))
	// Verifying from the genesis is not possible any more, and says so.
	err := otelaudit.VerifyChain(otelaudit.GenesisAnchor, events, nil, nil)
	assert.Equal(t, uint64(1), chainErrorSeq(t, err))

	head := g.Head()
	g.Clear()
	assert.Equal(t, otelaudit.Anchor{Seq: head.Seq, Hash: head.Hash}, g.Anchor())
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "after-clear"})
	require.NoError(t, err)
	assert.Equal(t, head.Hash, e.PrevHash)
	require.NoError(t, g.Verify())
}

func TestSignedCheckpoints(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	g, events := chainTrail(t, 25, otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(10, time.Hour))
	cps := g.Checkpoints()
	// Sealing happened once, in the query, for all 25: one checkpoint of
	// the head, then Record sealed each one as it came: every 10.
	require.NotEmpty(t, cps)
	for _, c := range cps {
		require.NoError(t, c.VerifySignature(pub))
		assert.Equal(t, events[c.Seq-1].Hash, c.Hash)
	}
	assert.Equal(t, []uint64{10, 20}, seqs(cps))
	c := g.Checkpoint()
	require.NoError(t, c.VerifySignature(pub))
	assert.Equal(t, uint64(25), c.Seq)
	require.NoError(t, g.Verify())
	require.NoError(t, otelaudit.VerifyChain(otelaudit.GenesisAnchor, events, g.Checkpoints(), pub))

	other, _, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	err = c.VerifySignature(other)
	assert.Equal(t, uint64(25), chainErrorSeq(t, err))
}

func seqs(cps []otelaudit.Checkpoint) []uint64 {
	out := make([]uint64, len(cps))
	for i, c := range cps {
		out[i] = c.Seq
	}
	return out
}

func TestSourceEncodingRoundTrip(t *testing.T) {
	srcs := []*otelaudit.Source{
		nil,
		otelaudit.NewSource(nil, instrumentation.Scope{Name: "x"}),
		otelaudit.NewSource(resource.Empty(), instrumentation.Scope{}),
		otelaudit.NewSource(resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0",
			attribute.String("service.name", "a"), attribute.Int64Slice("ports", []int64{1, 2})),
			instrumentation.Scope{Name: "s", Version: "v", SchemaURL: "u", Attributes: attribute.NewSet(attribute.Bool("b", true))}),
	}
	for i, s := range srcs {
		b, err := s.MarshalBinary()
		require.NoError(t, err)
		got, err := otelaudit.UnmarshalSource(b)
		require.NoError(t, err, "source %d", i)
		assert.Equal(t, s.Digest(), got.Digest(), "source %d", i)
		b2, _ := got.MarshalBinary()
		assert.Equal(t, b, b2)
		if s != nil {
			assert.Equal(t, s.Resource() == nil, got.Resource() == nil)
			assert.Equal(t, s.Scope().Name, got.Scope().Name)
		}
		for cut := 1; cut < len(b); cut++ {
			_, err := otelaudit.UnmarshalSource(b[:cut])
			assert.ErrorIs(t, err, otelaudit.ErrMalformed, "source %d cut at %d", i, cut)
		}
	}
	assert.NotEqual(t, srcs[1].Digest(), srcs[2].Digest())
}
