package otlpenc

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

// appendAttrValue writes every kind of attribute.Value as the AnyValue
// the OTLP exporters send: zero elements, negative numbers, NaN and
// nesting included.
func TestAttrValueEveryKind(t *testing.T) {
	str := func(s string) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
	}
	integer := func(i int64) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: i}}
	}
	boolean := func(x bool) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: x}}
	}
	double := func(f float64) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: f}}
	}
	array := func(vs ...*commonpb.AnyValue) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}
	}
	for _, c := range []struct {
		v    attribute.Value
		want *commonpb.AnyValue
	}{
		{attribute.BoolValue(false), boolean(false)},
		{attribute.Int64Value(-3), integer(-3)},
		{attribute.Float64Value(0.5), double(0.5)},
		{attribute.StringValue(""), str("")},
		{attribute.ByteSliceValue([]byte{0, 255}), &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{0, 255}}}},
		{attribute.BoolSliceValue([]bool{true, false}), array(boolean(true), boolean(false))},
		{attribute.Int64SliceValue([]int64{0, -1, math.MaxInt64}), array(integer(0), integer(-1), integer(math.MaxInt64))},
		{attribute.Float64SliceValue([]float64{0, math.Inf(-1)}), array(double(0), double(math.Inf(-1)))},
		{attribute.StringSliceValue([]string{"a", ""}), array(str("a"), str(""))},
		{attribute.StringSliceValue(nil), array()},
		{attribute.SliceValue(attribute.IntValue(1), attribute.SliceValue(attribute.StringValue("x"))), array(integer(1), array(str("x")))},
		{attribute.MapValue(attribute.String("k", "v"), attribute.Int("n", 2)), &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: []*commonpb.KeyValue{
			{Key: "k", Value: str("v")}, {Key: "n", Value: integer(2)},
		}}}}},
	} {
		var got commonpb.AnyValue
		require.NoError(t, proto.Unmarshal(appendAttrValue(nil, &c.v), &got), "%s", c.v.Emit())
		assert.True(t, proto.Equal(c.want, &got), "%s:\nwant %v\ngot  %v", c.v.Emit(), c.want, &got)
	}
	// NaN is not equal to itself: read it back as a bit pattern.
	nan := attribute.Float64SliceValue([]float64{math.NaN()})
	var got commonpb.AnyValue
	require.NoError(t, proto.Unmarshal(appendAttrValue(nil, &nan), &got))
	require.Len(t, got.GetArrayValue().GetValues(), 1)
	assert.True(t, math.IsNaN(got.GetArrayValue().GetValues()[0].GetDoubleValue()))
}
