//go:build !race

package otelaudit_test

const raceEnabled = false
