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
	tests := []struct {
		flag, env string
		want      string
		secure    bool
	}{
		{"", "", defaultEndpoint, false},
		{"collector:4317", "", "collector:4317", false},
		{"http://collector:4317", "", "collector:4317", false},
		{"https://collector:4317", "", "collector:4317", true},
		{"", "http://otel:4317", "otel:4317", false},
		{"flag:1", "https://otel:4317", "flag:1", false}, // the flag wins over the environment
	}
	for _, tt := range tests {
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", tt.env)
		got, secure := resolveEndpoint(tt.flag)
		assert.Equal(t, tt.want, got, "%+v", tt)
		assert.Equal(t, tt.secure, secure, "%+v", tt)
	}
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
	err = run(&out, addr, false, 3*time.Second)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 4*time.Second)
	assert.Contains(t, err.Error(), addr)
	assert.Contains(t, err.Error(), "is an OpenTelemetry Collector listening")
	assert.Empty(t, out.String())
}
