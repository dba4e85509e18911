package wire

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// documented is the chain rule as the package documentation states it,
// written the plain way: one SHA-256 over the whole input.
func documented(prev, src [Size]byte, data []byte) [Size]byte {
	var in bytes.Buffer
	in.WriteString("otelaudit.event.v2\x00")
	in.Write(src[:])
	in.Write(binary.BigEndian.AppendUint64(nil, uint64(len(data))))
	in.Write(data)
	for in.Len()%64 != 0 {
		in.WriteByte(0)
	}
	in.Write(prev[:])
	return sha256.Sum256(in.Bytes())
}

func TestChainRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Hasher
	for n := 0; n < 400; n++ {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		var prev, src [Size]byte
		for i := range prev {
			prev[i], src[i] = byte(rng.Uint32()), byte(rng.Uint32())
		}
		want := documented(prev, src, data)
		require.Equal(t, want, h.Full(prev, src, data), "Full, %d bytes", n)
		in := make([]byte, PrefixLen, PrefixLen+n)
		PutPrefix(in, src, n)
		in = append(in, data...)
		require.Equal(t, want, h.Link(prev, h.Mid(in), n), "Mid and Link, %d bytes", n)
	}
}

// An encoding with zero bytes appended pads to the same blocks; the length
// in the input is what tells them apart.
func TestChainRuleBindsTheLength(t *testing.T) {
	var h Hasher
	var prev, src [Size]byte
	data := []byte("an event")
	padded := append(bytes.Clone(data), 0, 0, 0)
	assert.NotEqual(t, h.Full(prev, src, data), h.Full(prev, src, padded))
}

func TestHeaderAndKeys(t *testing.T) {
	h := Header{Seq: 1<<40 + 7, Sec: -5, Nsec: 999_999_999, TraceID: [16]byte{1, 2}, SpanID: [8]byte{3}, Parent: [8]byte{4}, Duration: -1}
	b := AppendHeader(nil, &h)
	require.Len(t, b, HeaderSize)
	require.NoError(t, Check(string(b)))
	assert.Equal(t, h, ParseHeader(string(b)))
	seq, ok := Seq(b)
	assert.True(t, ok)
	assert.Equal(t, h.Seq, seq)
	SetSeq(b, 9)
	assert.Equal(t, uint64(9), ParseHeader(string(b)).Seq)

	for _, s := range []string{"node_end", "", "agent-7"} {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	k, err := ReadKeys(b)
	require.NoError(t, err)
	assert.Equal(t, h.TraceID, k.TraceID)
	assert.Equal(t, "\x08node_end", string(k.Type))
	assert.Equal(t, "node_end", string(k.TypeString()))
	assert.Equal(t, "agent-7", string(k.AgentString()))

	_, err = ReadKeys(b[:len(b)-1])
	assert.ErrorIs(t, err, ErrString)
	_, err = ReadKeys(b[:HeaderSize-1])
	assert.ErrorIs(t, err, ErrShort)
	b[0] = 2
	_, err = ReadKeys(b)
	assert.ErrorIs(t, err, ErrVersion)
	_, ok = Seq(b)
	assert.False(t, ok)
}

func TestReadFields(t *testing.T) {
	b := AppendHeader(nil, &Header{Seq: 7, Sec: -3, Nsec: 999, TraceID: [16]byte{1, 2}})
	strs := []string{"node_end", "success", "agent-7", "alice", "wf", "node", "act", string(make([]byte, 300))}
	for _, s := range strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = append(b, 0) // no attributes
	f, err := ReadFields(b)
	require.NoError(t, err)
	assert.Equal(t, int64(-3), f.Sec)
	assert.Equal(t, uint32(999), f.Nsec)
	assert.Equal(t, [16]byte{1, 2}, f.TraceID)
	for i, s := range strs {
		assert.Equal(t, s, string(f.Strings[i]))
	}
	for n := range len(b) - 1 {
		if _, err := ReadFields(b[:n]); err == nil && n < len(b)-1 {
			t.Fatalf("ReadFields of %d of %d bytes: no error", n, len(b))
		}
	}
}
