package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func TestCutTornLine(t *testing.T) {
	long := strings.Repeat("x", 200<<10) // longer than the 64 KiB read chunk
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"whole lines", "a\nb\n", "a\nb\n"},
		{"torn last line", "a\nb\nc", "a\nb\n"},
		{"only a torn line", "abc", ""},
		{"long torn line", "a\n" + long, "a\n"},
		{"long whole line", long + "\n", long + "\n"},
		{"long line, torn line", long + "\n" + long, long + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spans.jsonl")
			require.NoError(t, os.WriteFile(path, []byte(tc.in), 0o600))
			f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
			require.NoError(t, err)
			defer f.Close()
			require.NoError(t, cutTornLine(f))
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, len(tc.want), len(got))
			assert.True(t, string(got) == tc.want)
		})
	}
}

// TestPushAppendsLines checks that each push is one line of OTLP JSON,
// appended after what an earlier run left, once its torn line is cut.
func TestPushAppendsLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spans.jsonl")
	require.NoError(t, os.WriteFile(path, []byte("{\"torn"), 0o600))
	x := &jsonLines{path: path}
	ctx := context.Background()
	require.NoError(t, x.start(ctx, nil))
	for _, name := range []string{"first", "second"} {
		td := ptrace.NewTraces()
		td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName(name)
		require.NoError(t, x.push(ctx, td))
	}
	require.NoError(t, x.shutdown(ctx))
	require.Error(t, x.push(ctx, ptrace.NewTraces()), "push after shutdown")

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	require.Len(t, lines, 2)
	for i, name := range []string{"first", "second"} {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(lines[i]))
		require.NoError(t, err)
		assert.Equal(t, name, td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Name())
	}
}
