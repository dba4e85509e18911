package auditz

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// limitParam reads the "limit" query parameter: DefaultLimit (or the max
// limit, if smaller) when absent, a positive integer otherwise, lowered to
// max (a number too large for an int included).
func limitParam(q url.Values, max int) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return min(DefaultLimit, max), nil
	}
	n, err := strconv.Atoi(s)
	if errors.Is(err, strconv.ErrRange) && n > 0 {
		// Too large for an int: as large limits are, lowered to max.
		return max, nil
	}
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w: limit %q is not a positive integer", ErrBadRequest, s)
	}
	return min(n, max), nil
}

// timeParam reads an RFC 3339 time; the zero time when absent. The zero
// time itself (0001-01-01T00:00:00Z, in any zone) is refused: every query
// takes it for "no bound", so "until year 1" would answer every event.
func timeParam(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not an RFC 3339 time (e.g. 2026-01-02T15:04:05Z): %w", ErrBadRequest, name, s, err)
	}
	if t.IsZero() {
		return time.Time{}, fmt.Errorf("%w: %s %q is the zero time, which means no bound: leave %s out", ErrBadRequest, name, s, name)
	}
	return t, nil
}
