//go:build !race

package auditz

const raceEnabled = false
