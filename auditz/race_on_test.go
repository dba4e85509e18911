//go:build race

package auditz

// raceEnabled says the race detector is on: the test that measures the
// resident set skips then.
const raceEnabled = true
