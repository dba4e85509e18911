package main

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolveEndpoint(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	assert.Equal(t, defaultEndpoint, resolveEndpoint(""))
	assert.Equal(t, "collector:4317", resolveEndpoint("collector:4317"))
	assert.Equal(t, "collector:4317", resolveEndpoint("http://collector:4317"))
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4317")
	assert.Equal(t, "otel:4317", resolveEndpoint(""))
	assert.Equal(t, "flag:1", resolveEndpoint("flag:1"), "the flag wins over the environment")
}

// TestDeadEndpointFailsFast: nothing listens, so run must return a clear
// error well within its timeout instead of hanging.
func TestDeadEndpointFailsFast(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // the port is now (almost surely) dead

	var out bytes.Buffer
	start := time.Now()
	err = run(&out, addr, 3*time.Second)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 4*time.Second)
	assert.Contains(t, err.Error(), addr)
	assert.Contains(t, err.Error(), "is an OpenTelemetry Collector listening")
	assert.Empty(t, out.String())
}
