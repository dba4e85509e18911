package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEventsZeroTimeIsRefused: every query takes the zero time for "no
// bound", so `events --until 0001-01-01T00:00:00Z` ("before year 1")
// would print every event. It is a usage error, as it is a 400 in auditz;
// a time a nanosecond later is a bound like any other.
func TestEventsZeroTimeIsRefused(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{"--until", "0001-01-01T00:00:00Z"},
		{"--since", "0001-01-01T00:00:00Z"},
		{"--until", "0001-01-01T01:00:00+01:00"},
	} {
		r := runCLI(t, nil, append([]string{"events", "--db", f.db}, args...)...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.stdout)
		assertOneErrorLine(t, r)
		assert.Contains(t, r.stderr, "zero time", args)
	}
	r := runCLI(t, nil, "events", "--db", f.db, "--until", "0001-01-01T00:00:00.000000001Z")
	assert.Equal(t, exitFail, r.code, "no event is that old: %s", r.stdout)
}
