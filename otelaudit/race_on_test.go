//go:build race

package otelaudit_test

// raceEnabled says the race detector is on: the memory tests, which
// measure the heap, skip then (the detector multiplies memory and time).
const raceEnabled = true
