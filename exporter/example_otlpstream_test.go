package exporter_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// A direct Stream writes OTLP requests from the held bytes and sends them
// to an OTLP receiver, here an OTLP/HTTP one that prints what it gets (a
// Collector's otlp receiver, in production; NewOTLPGRPCClient for gRPC).
func ExampleNewOTLPStream() {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					fmt.Println(r.URL.Path, "received", s.GetName(), "from", ss.GetScope().GetName())
				}
			}
		}
	}))
	defer receiver.Close()

	ctx := context.Background()
	g := otelaudit.NewGenerator()
	s, err := exporter.NewOTLPStream(exporter.FollowGenerator(g), exporter.NewOTLPHTTPClient(receiver.URL, nil))
	if err != nil {
		panic(err)
	}
	for _, typ := range []otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeEnd} {
		if _, err := g.Append(ctx, otelaudit.Event{Type: typ}); err != nil {
			panic(err)
		}
	}
	if err := s.Shutdown(ctx); err != nil {
		panic(err)
	}
	fmt.Println("exported", s.Stats().Exported)
	// Output:
	// /v1/traces received audit.node_start from github.com/otelaudit/otelaudit-go/exporter
	// /v1/traces received audit.node_end from github.com/otelaudit/otelaudit-go/exporter
	// exported 2
}
