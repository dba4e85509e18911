package otelaudit

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
)

// randomValue is a value of any kind, of up to about n bytes.
func randomValue(r *rand.Rand, n, depth int) attribute.Value {
	str := func() string { return strings.Repeat("é", r.IntN(n/2+1)) + strings.Repeat("x", r.IntN(n+1)) }
	switch k := r.IntN(12); {
	case k == 0:
		return attribute.BoolValue(r.IntN(2) == 0)
	case k == 1:
		return attribute.Int64Value(r.Int64())
	case k == 2:
		return attribute.Float64Value(r.Float64())
	case k == 3:
		return attribute.BoolSliceValue(make([]bool, r.IntN(n+1)))
	case k == 4:
		return attribute.Int64SliceValue(make([]int64, r.IntN(n/8+1)))
	case k == 5:
		return attribute.Float64SliceValue(make([]float64, r.IntN(n/8+1)))
	case k == 6:
		s := make([]string, r.IntN(8))
		for i := range s {
			s[i] = str()
		}
		return attribute.StringSliceValue(s)
	case k == 7:
		return attribute.ByteSliceValue([]byte(str()))
	case k == 8 && depth < 3:
		vs := make([]attribute.Value, r.IntN(4))
		for i := range vs {
			vs[i] = randomValue(r, n/4, depth+1)
		}
		return attribute.SliceValue(vs...)
	case k == 9 && depth < 3:
		kvs := make([]attribute.KeyValue, r.IntN(4))
		for i := range kvs {
			kvs[i] = attribute.KeyValue{Key: attribute.Key(str()), Value: randomValue(r, n/4, depth+1)}
		}
		return attribute.MapValue(kvs...)
	case k == 10:
		return attribute.Value{}
	}
	return attribute.StringValue(str())
}

func randomEvent(r *rand.Rand, n int) Event {
	s := func() string { return strings.Repeat("a", r.IntN(n+1)) }
	e := Event{Type: EventType("t" + s()), AgentID: s(), HumanOriginID: s(), WorkflowID: s(), NodeID: s(), Action: s(), Resource: s()}
	for range r.IntN(12) {
		key := strings.Repeat("k", 1+r.IntN(20))
		if r.IntN(20) == 0 {
			key = strings.Repeat("K", 300+r.IntN(n+1))
		}
		e.Attributes = append(e.Attributes, attribute.KeyValue{Key: attribute.Key(key), Value: randomValue(r, n, 0)})
	}
	if r.IntN(10) == 0 {
		for range r.IntN(3000) {
			e.Attributes = append(e.Attributes, attribute.Int("n", 1))
		}
	}
	return e
}

// TestEncodedSizeIsExact: the size cap is checked against encodedSize
// before anything is encoded, so it must be the encoding's length for
// every kind of value.
func TestEncodedSizeIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1500 {
		e := randomEvent(r, []int{10, 200, 5000}[r.IntN(3)])
		require.Len(t, appendEvent(nil, &e), encodedSize(&e))
	}
}

// TestTruncateFits: whatever it is given, truncate makes an event that
// fits the cap, keeps the small parts whole, cuts strings on UTF-8
// boundaries and says what it cut.
func TestTruncateFits(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 600 {
		e := randomEvent(r, []int{2000, 20_000, 200_000}[r.IntN(3)])
		e.HumanOriginID = "alice"
		limit := []int{MinMaxEventSize, DefaultMaxEventSize}[r.IntN(2)]
		size := encodedSize(&e)
		if size <= limit {
			continue
		}
		given := append([]attribute.KeyValue(nil), e.Attributes...)
		before := e.Attributes
		truncate(&e, size, limit)
		require.LessOrEqual(t, encodedSize(&e), limit, "case %d", i)
		require.Equal(t, given, before, "the given slice is not written to")
		require.Equal(t, "alice", e.HumanOriginID, "a short field is kept whole")
		last := e.Attributes[len(e.Attributes)-1]
		require.Equal(t, attribute.Key(AttrTruncated), last.Key)
		require.NotEmpty(t, last.Value.AsStringSlice())
		for _, s := range []string{string(e.Type), e.AgentID, e.Action, e.Resource} {
			require.True(t, utf8.ValidString(s))
		}
		for _, kv := range e.Attributes {
			require.LessOrEqual(t, len(kv.Key), maxKeySize)
			if kv.Value.Type() == attribute.STRING {
				require.True(t, utf8.ValidString(kv.Value.AsString()), "cut inside a rune: case %d", i)
			}
		}
		// What is held decodes back to what was cut.
		var back Event
		require.NoError(t, back.UnmarshalBinary(appendEvent(nil, &e)))
	}
}

func TestCutString(t *testing.T) {
	s := "aé€😀"
	for n := 0; n <= len(s)+1; n++ {
		c := cutString(s, n)
		require.LessOrEqual(t, len(c), n)
		require.True(t, utf8.ValidString(c), "n=%d: %q", n, c)
		require.True(t, strings.HasPrefix(s, c))
	}
	require.Equal(t, "aé", cutString(s, 4), "the euro sign does not fit in 4")
	require.Equal(t, "\xff\xfe", cutString("\xff\xfe\xfd", 2), "invalid bytes cut as they are")
}

func TestThreshold(t *testing.T) {
	require.Equal(t, 10, threshold([]int{1, 2, 10}, 100), "all fit: the largest")
	require.Equal(t, 4, threshold([]int{2, 10, 10}, 10))
	require.Equal(t, 0, threshold([]int{5, 5}, 0))
	require.Equal(t, 0, threshold(nil, 10))
}

// TestKeyTable: every key of the lists is found with its class, in a
// short probe run; keys not in them are not.
func TestKeyTable(t *testing.T) {
	longest := 0
	for _, list := range [][]string{SafeKeys, SecretKeys, URLKeys} {
		for _, k := range list {
			c, ok := builtinKeys.get(k)
			require.True(t, ok, k)
			require.Equal(t, classify(k), c)
			n := 0
			for i := keyHash(k); builtinKeys.slots[i].key != k; i = (i + 1) & (keyTableSize - 1) {
				n++
			}
			longest = max(longest, n)
		}
	}
	require.LessOrEqual(t, longest, 4, "probe runs stay short")
	for _, k := range []string{"", "a", "url.ful", "url.fulll", "http.request.methoD", "retry"} {
		_, ok := builtinKeys.get(k)
		require.False(t, ok, k)
	}
	require.Equal(t, classSafe|classURL, classify("url.full"))
	require.Equal(t, classSecret, classify("url.query"))
}

// TestSecretFamiliesBySlice: secretPattern reads secretFamilies by first
// letter: every family is in the slice of its letter.
func TestSecretFamiliesBySlice(t *testing.T) {
	for _, f := range secretFamilies {
		require.True(t, secretPattern(f+"0.x"), f)
		require.True(t, secretPattern(f+"anything"), f)
	}
	require.False(t, secretPattern("retry"))
	require.False(t, secretPattern("rpc.method"))
	require.True(t, secretPattern("rpc.grpc.request.metadata.authorization"))
}
