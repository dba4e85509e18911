package otelaudit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

func fullEvent() otelaudit.Event {
	return otelaudit.Event{
		Seq: 42, Type: otelaudit.TrustDenied,
		Time:    time.Date(2026, 11, 27, 13, 0, 0, 123456789, time.UTC),
		TraceID: tid(1), SpanID: sid(2), ParentSpanID: sid(3),
		AgentID: "agent", HumanOriginID: "alice", WorkflowID: "wf", NodeID: "node",
		Action: "read", Resource: "s3://bucket/key", Outcome: otelaudit.Denied,
		Duration: 1500 * time.Millisecond,
		Attributes: []attribute.KeyValue{
			attribute.Bool("b", true),
			attribute.Int64("i", -7),
			attribute.Float64("f", 2.5),
			attribute.String("s", "héllo"),
			attribute.BoolSlice("bs", []bool{true, false}),
			attribute.Int64Slice("is", []int64{1, -2}),
			attribute.Float64Slice("fs", []float64{0.5}),
			attribute.StringSlice("ss", []string{"x", ""}),
			attribute.ByteSlice("by", []byte{0, 1, 255}),
			attribute.Slice("sl", attribute.IntValue(1), attribute.StringValue("two")),
			attribute.Map("m", attribute.String("k", "v"), attribute.Map("inner", attribute.Int("n", 3))),
			{Key: "empty"},
		},
	}
}

func TestEncodingRoundTrip(t *testing.T) {
	in := fullEvent()
	b, err := in.MarshalBinary()
	require.NoError(t, err)
	var out otelaudit.Event
	require.NoError(t, out.UnmarshalBinary(b))
	assert.True(t, in.Time.Equal(out.Time))
	out.Time = in.Time
	assert.Equal(t, in, out)

	b2, err := out.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, b, b2, "the encoding is deterministic")
}

func TestEncodingRefusesMalformedInput(t *testing.T) {
	good, err := fullEvent().MarshalBinary()
	require.NoError(t, err)
	cases := map[string][]byte{
		"empty":           {},
		"unknown version": append([]byte{99}, good[1:]...),
		"trailing bytes":  append(append([]byte{}, good...), 0),
		"huge length":     append(append([]byte{}, good[:61]...), 0xff, 0xff, 0xff, 0xff, 0x0f),
	}
	for n := 1; n < len(good); n += 7 {
		cases["truncated"+string(rune('A'+n%26))] = good[:n]
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			e := otelaudit.Event{Action: "untouched"}
			err := e.UnmarshalBinary(b)
			require.Error(t, err)
			assert.True(t, errors.Is(err, otelaudit.ErrMalformed), "got %v", err)
			assert.Equal(t, "untouched", e.Action, "a failed decode leaves the event alone")
		})
	}
}

// FuzzUnmarshalBinary: no input makes the decoder panic, and whatever it
// accepts encodes back to the same bytes (the encoding is canonical).
func FuzzUnmarshalBinary(f *testing.F) {
	good, _ := fullEvent().MarshalBinary()
	f.Add(good)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e otelaudit.Event
		if err := e.UnmarshalBinary(b); err != nil {
			return
		}
		again, err := e.MarshalBinary()
		require.NoError(t, err)
		assert.Equal(t, b, again)
	})
}

// nested returns a value of depth levels of slices around an int.
func nested(depth int) attribute.Value {
	v := attribute.IntValue(1)
	for i := 0; i < depth; i++ {
		v = attribute.SliceValue(v)
	}
	return v
}

// TestDeepValues: what Record accepts, queries decode; what nests too deep
// is refused up front, never stored to break queries later.
func TestDeepValues(t *testing.T) {
	g := otelaudit.NewGenerator(fullLevel)
	ok := otelaudit.Event{Type: "x", TraceID: tid(3), Attributes: []attribute.KeyValue{{Key: "ok", Value: nested(31)}}}
	_, err := g.Record(context.Background(), ok)
	require.NoError(t, err)
	got := g.EventsByTrace(tid(3))
	require.Len(t, got, 1)
	assert.Equal(t, ok.Attributes, got[0].Attributes)

	deep := otelaudit.Event{Type: "x", TraceID: tid(3), Attributes: []attribute.KeyValue{{Key: "deep", Value: attribute.MapValue(attribute.KeyValue{Key: "k", Value: nested(40)})}}}
	_, err = g.Record(context.Background(), deep)
	assert.ErrorIs(t, err, otelaudit.ErrInvalidEvent)
	_, err = deep.MarshalBinary()
	assert.ErrorIs(t, err, otelaudit.ErrInvalidEvent)
	assert.Len(t, g.EventsByTrace(tid(3)), 1)
	assert.Equal(t, uint64(1), g.Stats().Rejected)
}

// TestComplexValuesThroughTheGenerator: every kind of value survives Record
// and every query, not only MarshalBinary.
func TestComplexValuesThroughTheGenerator(t *testing.T) {
	g := otelaudit.NewGenerator(fullLevel)
	in := fullEvent()
	_, err := g.Record(context.Background(), in)
	require.NoError(t, err)
	for _, got := range [][]otelaudit.Event{g.Events(0), g.EventsByTrace(in.TraceID), g.EventsByType(in.Type), g.EventsByAgent(in.AgentID)} {
		require.Len(t, got, 1)
		assert.Equal(t, in.Attributes, got[0].Attributes)
	}
}
