//go:build race

package e2e

// raceEnabled says the tests run under the race detector, which makes the
// Generator's hashing about ten times slower (see maxAppend).
const raceEnabled = true
