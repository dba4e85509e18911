package retry_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelaudit/otelaudit-go/internal/retry"
)

// Without jitter the waits start at Min, double, and stay at Max.
func TestBackoffDoublesWithinBounds(t *testing.T) {
	b := retry.Backoff{Min: 10 * time.Millisecond, Max: time.Second}
	var got []time.Duration
	d := time.Duration(0)
	for range 10 {
		d = b.Next(d)
		got = append(got, d)
	}
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, time.Second, time.Second}, got)
	assert.Equal(t, 10*ms, b.Next(0), "a success starts over")
	assert.Equal(t, 10*ms, b.Next(time.Millisecond), "never below Min")
	assert.Equal(t, time.Second, b.Next(time.Hour), "never above Max")
}

// With jitter every wait lies between half and all of the unjittered one,
// which it builds on, and the draws differ.
func TestBackoffJitter(t *testing.T) {
	b := retry.Backoff{Min: 100 * time.Millisecond, Max: 30 * time.Second, Jitter: true}
	exact := retry.Backoff{Min: b.Min, Max: b.Max}
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := time.Duration(0)
		for range 12 {
			want := exact.Next(d)
			d = b.Next(d)
			require.GreaterOrEqual(t, d, want/2)
			require.LessOrEqual(t, d, want)
			seen[d] = true
		}
	}
	assert.Greater(t, len(seen), 1000, "the waits are spread")
}

// Degenerate bounds never make a negative wait, nor panic.
func TestBackoffDegenerate(t *testing.T) {
	for _, b := range []retry.Backoff{{}, {Jitter: true}, {Min: time.Second, Max: -time.Second, Jitter: true}, {Min: -1, Max: -1}} {
		for _, prev := range []time.Duration{0, 1, time.Hour, -time.Hour} {
			assert.Zero(t, b.Next(prev), "%+v after %v", b, prev)
		}
	}
	one := retry.Backoff{Min: 1, Max: 1, Jitter: true}
	for range 100 {
		assert.LessOrEqual(t, one.Next(0), time.Duration(1))
	}
}
