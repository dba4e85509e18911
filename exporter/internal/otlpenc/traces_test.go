package otlpenc_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/otelaudit/otelaudit-go/exporter/internal/otlpenc"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

func encoded(t *testing.T) []byte {
	t.Helper()
	e := otelaudit.Event{
		Seq: 7, Type: otelaudit.NodeEnd, Time: time.Unix(1700000000, 5), Outcome: otelaudit.Denied,
		TraceID: [16]byte{1}, SpanID: [8]byte{2}, AgentID: "a", Resource: "r", Duration: time.Second,
		Attributes: []attribute.KeyValue{
			attribute.String("k", "v"), attribute.Int64Slice("is", []int64{1, 2}),
			{Key: "m", Value: attribute.MapValue(attribute.Bool("b", true), attribute.KeyValue{Key: "s", Value: attribute.SliceValue(attribute.Float64Value(1.5))})},
		},
	}
	b, err := e.MarshalBinary()
	require.NoError(t, err)
	return b
}

// Every cut of an encoded event, and every byte of it changed, is either
// refused with ErrMalformed or yields a request that parses as OTLP:
// never a panic, never bytes a receiver cannot read.
func TestHostileBytes(t *testing.T) {
	good := encoded(t)
	tr := otlpenc.NewTraces(resource.Empty(), instrumentation.Scope{Name: "s"})
	check := func(data []byte) {
		tr.Reset()
		err := tr.Add(data, nil)
		if err != nil {
			assert.True(t, errors.Is(err, otelaudit.ErrMalformed), "%v", err)
			assert.Zero(t, tr.Len())
			return
		}
		var req coltracepb.ExportTraceServiceRequest
		require.NoError(t, proto.Unmarshal(tr.AppendRequest(nil), &req))
	}
	for n := range len(good) {
		check(good[:n])
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := append([]byte(nil), good...)
		for range 1 + rng.IntN(3) {
			b[rng.IntN(len(b))] = byte(rng.IntN(256))
		}
		check(b)
	}
	tr.Reset()
	require.NoError(t, tr.Add(good, nil))
	assert.Equal(t, 1, tr.Len())
}

// A value nested deeper than the decoder follows is refused, not followed
// down the stack.
func TestDeepNesting(t *testing.T) {
	good := encoded(t)
	// The attributes start after the strings; replace them with one
	// attribute whose value is 100 nested one-element slices.
	e := otelaudit.Event{Seq: 1, Type: "x", Time: time.Unix(1, 0)}
	base, err := e.MarshalBinary()
	require.NoError(t, err)
	b := append(base[:len(base)-1:len(base)-1], 1, 1, 'k')
	for range 100 {
		b = append(b, 10, 1) // KindSlice, one element
	}
	b = append(b, 0) // KindEmpty
	tr := otlpenc.NewTraces(nil, instrumentation.Scope{})
	err = tr.Add(b, nil)
	assert.ErrorIs(t, err, otelaudit.ErrMalformed)
	assert.NoError(t, tr.Add(good, nil))
}

// Reserved matches otelaudit.ReservedKey on keys read in place, and never
// allocates, whatever the key's length.
func TestReservedKeys(t *testing.T) {
	keys := [][]byte{
		[]byte(otelaudit.KeyEventType), []byte(otelaudit.KeyHumanOriginID), []byte(otelaudit.KeyResource),
		[]byte(otelaudit.KeyDuration), []byte("audit.resource.extra"), []byte("http.request.header.content-type.with.a.long.tail"), nil,
	}
	for _, k := range keys {
		assert.Equal(t, otelaudit.ReservedKey(attribute.Key(k)), otlpenc.Reserved(k), "%s", k)
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		for _, k := range keys {
			otlpenc.Reserved(k)
		}
	}))
}
