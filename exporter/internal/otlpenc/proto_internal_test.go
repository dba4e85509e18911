package otlpenc

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// Whatever the bytes kept and the length written, the field reads back as
// its content, followed by what came after.
func TestCloseLen(t *testing.T) {
	for _, kept := range []int{1, 2, 3} {
		for _, n := range []int{0, 1, 127, 128, 300, 16383, 16384, 1 << 21} {
			content := bytes.Repeat([]byte{0xab}, n)
			b, start := openLenN([]byte{0x0a}, kept)
			b = append(b, content...)
			b = closeLenN(b, start, kept)
			b = append(b, 0x42)
			num, typ, m := protowire.ConsumeTag(b)
			require.Positive(t, m)
			assert.Equal(t, protowire.Number(1), num)
			assert.Equal(t, protowire.BytesType, typ)
			v, m2 := protowire.ConsumeBytes(b[m:])
			require.Positive(t, m2, "kept %d, n %d", kept, n)
			assert.Equal(t, content, v, "kept %d, n %d", kept, n)
			assert.Equal(t, []byte{0x42}, b[m+m2:], "kept %d, n %d", kept, n)
		}
	}
}
