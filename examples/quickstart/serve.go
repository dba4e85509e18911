package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/auditz"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// rerunEvery is how often the served runtime runs its workflows again, so
// the page has live traffic to show. Memory stays bounded by the
// generator's capacity: at about 50 events a round, the oldest events are
// evicted after half an hour.
const rerunEvery = time.Second

// writeTimeout bounds how long one response may take to write, so a client
// that stops reading cannot hold a connection and its goroutine forever.
// The largest answer (a 1,000-event trace) is written in milliseconds.
const writeTimeout = 30 * time.Second

// idleTimeout closes keep-alive connections left unused this long: the
// page makes a few requests per load, then nothing until the next search.
const idleTimeout = 2 * time.Minute

// shutdownTimeout bounds how long a clean shutdown waits for requests in
// flight.
const shutdownTimeout = 5 * time.Second

// serve serves the audit page of audit on ln, re-running the workflows
// every rerunEvery, until ctx is done; then it shuts the server down.
func serve(ctx context.Context, out io.Writer, ln net.Listener, audit *otelaudit.Generator, st *store.Store, rt runtime, shown trace.TraceID) error {
	// With the store, the page proves the trace on screen: its coverage by
	// a signed checkpoint, and its evidence bundle for download.
	srv := &http.Server{
		Handler:           auditz.NewHandler(audit, auditz.WithEvidence(st)),
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	fmt.Fprintf(out, "\nServing the audit trail at %s (Ctrl-C to stop). The trace above:\n\n  %s?trace=%s\n\n",
		pageURL(ln.Addr()), pageURL(ln.Addr()), shown)

	tick := time.NewTicker(rerunEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			runAll(ctx, rt)
		case err := <-served:
			return fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				return fmt.Errorf("shut down server: %w", err)
			}
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve: %w", err)
			}
			fmt.Fprintln(out, "Stopped serving.")
			return nil
		}
	}
}

// pageURL is the URL to open for a listener: a wildcard address (":8080")
// is reachable as localhost.
func pageURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
