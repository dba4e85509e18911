package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
)

// apis stands in for the services the agents' tools call (flights.example,
// hotels.example, ...): one HTTP server on 127.0.0.1 answers for all of
// them, and the tools' client, a real otelhttp transport, dials it for
// every host. Real requests, real instrumentation, no network.
type apis struct {
	srv    *http.Server
	ln     net.Listener
	client *http.Client
}

func startAPIs(tp trace.TracerProvider) (*apis, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the tools' APIs: %w", err)
	}
	a := &apis{ln: ln, srv: &http.Server{Handler: http.HandlerFunc(answer), ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = a.srv.Serve(ln) }()
	var d net.Dialer
	a.client = &http.Client{
		Timeout: 5 * time.Second,
		Transport: otelhttp.NewTransport(&http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, ln.Addr().String())
			},
		}, otelhttp.WithTracerProvider(tp)),
	}
	return a, nil
}

// answer is every API at once, by host and path.
func answer(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	switch r.Host + r.URL.Path {
	case "flights.example/api/search":
		_, _ = io.WriteString(w, `{"flights":["TP203","UA61"]}`)
	case "hotels.example/api/bookings", "git.example/pull/7/comments":
		w.WriteHeader(http.StatusCreated)
	case "tickets.example/T-1042":
		_, _ = io.WriteString(w, `{"id":"T-1042","title":"login fails"}`)
	case "erp.example/reports":
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	default:
		http.NotFound(w, r)
	}
}

func (a *apis) Close() error {
	a.client.CloseIdleConnections()
	if err := a.srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
