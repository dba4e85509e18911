package wire_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// The Kind constants are the kind bytes otelaudit's encoder writes, and
// Strings finds the attributes where it puts them.
func TestKindsAreTheEncoders(t *testing.T) {
	for _, c := range []struct {
		v    attribute.Value
		kind byte
	}{
		{attribute.Value{}, wire.KindEmpty},
		{attribute.BoolValue(true), wire.KindBool},
		{attribute.Int64Value(1), wire.KindInt64},
		{attribute.Float64Value(1), wire.KindFloat64},
		{attribute.StringValue("s"), wire.KindString},
		{attribute.BoolSliceValue([]bool{true}), wire.KindBoolSlice},
		{attribute.Int64SliceValue([]int64{1}), wire.KindInt64Slice},
		{attribute.Float64SliceValue([]float64{1}), wire.KindFloat64Slice},
		{attribute.StringSliceValue([]string{"s"}), wire.KindStringSlice},
		{attribute.ByteSliceValue([]byte{1}), wire.KindByteSlice},
		{attribute.SliceValue(attribute.IntValue(1)), wire.KindSlice},
		{attribute.MapValue(attribute.Int("a", 1)), wire.KindMap},
	} {
		e := otelaudit.Event{Seq: 1, Type: "t", Action: "a", Attributes: []attribute.KeyValue{{Key: "k", Value: c.v}}}
		data, err := e.MarshalBinary()
		require.NoError(t, err)
		strs, rest, err := wire.Strings(data)
		require.NoError(t, err)
		assert.Equal(t, "t", string(strs[wire.StrType]))
		assert.Equal(t, "a", string(strs[wire.StrAction]))
		// count 1, key "k", then the kind byte.
		require.GreaterOrEqual(t, len(rest), 4)
		assert.Equal(t, []byte{1, 1, 'k'}, rest[:3])
		assert.Equal(t, c.kind, rest[3], "%s", c.v.Type())
	}
}
