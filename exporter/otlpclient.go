package exporter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// OTLPClient sends OTLP export requests that a direct Stream (NewOTLPStream)
// has encoded itself, to a Collector or any OTLP receiver.
// NewOTLPGRPCClient and NewOTLPHTTPClient make one; another implementation
// may send the bytes any way it likes. Calls are serialized: a client is
// never called concurrently by one Stream.
type OTLPClient interface {
	// UploadTraces sends req, a serialized OTLP ExportTraceServiceRequest,
	// and returns once the receiver accepted it, or with an error. It must
	// not keep req after it returns.
	UploadTraces(ctx context.Context, req []byte) error
	// UploadLogs sends req, a serialized OTLP ExportLogsServiceRequest
	// (NewOTLPLogStream), as UploadTraces does.
	UploadLogs(ctx context.Context, req []byte) error
	// Shutdown releases what the client holds; later uploads fail.
	Shutdown(ctx context.Context) error
}

// The full names of the OTLP export methods (opentelemetry-proto,
// collector/*/v1), and the OTLP/HTTP paths.
const (
	grpcTraceExport = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
	grpcLogsExport  = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
	httpTracePath   = "/v1/traces"
	httpLogsPath    = "/v1/logs"
)

// maxHTTPResponse bounds what an OTLP/HTTP client reads of a response: a
// receiver's answer is a few bytes, and a hostile or broken one must not
// make the client read gigabytes.
const maxHTTPResponse = 64 << 10

// NewOTLPGRPCClient returns an OTLPClient that sends over OTLP/gRPC on
// conn, made by grpc.NewClient with the credentials, compression and
// interceptors the receiver needs, as otlptracegrpc.WithGRPCConn takes one.
// Compression is the connection's too: grpc.WithDefaultCallOptions(
// grpc.UseCompressor(gzip.Name)), with google.golang.org/grpc/encoding/gzip
// imported, gzips every request. The caller owns conn: Shutdown does not
// close it. The requests go out
// as they are, with gRPC's "proto" content subtype, so any OTLP/gRPC
// receiver reads them. A partial success (spans the receiver rejected)
// is not an error, as for the SDK's OTLP exporters: it goes to
// otel.Handle.
func NewOTLPGRPCClient(conn grpc.ClientConnInterface) OTLPClient {
	return &grpcClient{conn: conn}
}

type grpcClient struct {
	conn grpc.ClientConnInterface
	shut atomic.Bool
}

func (c *grpcClient) UploadTraces(ctx context.Context, req []byte) error {
	var resp coltracepb.ExportTraceServiceResponse
	if err := c.invoke(ctx, grpcTraceExport, req, &resp); err != nil {
		return err
	}
	partialSuccess(resp.GetPartialSuccess().GetRejectedSpans(), "spans", resp.GetPartialSuccess().GetErrorMessage())
	return nil
}

func (c *grpcClient) UploadLogs(ctx context.Context, req []byte) error {
	var resp collogspb.ExportLogsServiceResponse
	if err := c.invoke(ctx, grpcLogsExport, req, &resp); err != nil {
		return err
	}
	partialSuccess(resp.GetPartialSuccess().GetRejectedLogRecords(), "log records", resp.GetPartialSuccess().GetErrorMessage())
	return nil
}

func (c *grpcClient) invoke(ctx context.Context, method string, req []byte, resp proto.Message) error {
	if c.shut.Load() {
		return fmt.Errorf("%w: otlp grpc client", ErrShutdown)
	}
	if c.conn == nil {
		return fmt.Errorf("%w: otlp grpc client: nil connection", ErrExportFailed)
	}
	if err := c.conn.Invoke(ctx, method, rawRequest(req), resp, grpc.ForceCodec(rawCodec{})); err != nil {
		return fmt.Errorf("%w: otlp grpc client: %w", ErrExportFailed, err)
	}
	return nil
}

func (c *grpcClient) Shutdown(context.Context) error {
	c.shut.Store(true)
	return nil
}

// partialSuccess reports what a receiver rejected, as the SDK's OTLP
// exporters report it.
func partialSuccess(rejected int64, what, msg string) {
	if rejected != 0 || msg != "" {
		otel.Handle(fmt.Errorf("exporter: OTLP partial success: %s (%d %s rejected)", msg, rejected, what))
	}
}

// rawRequest is a request already serialized.
type rawRequest []byte

// rawCodec passes a rawRequest through as it is and decodes responses as
// protobuf. It calls itself "proto", so that the content type on the wire
// is gRPC's usual one, application/grpc+proto.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case rawRequest:
		return m, nil
	case proto.Message:
		return proto.Marshal(m)
	}
	return nil, fmt.Errorf("exporter: raw codec: cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("exporter: raw codec: cannot unmarshal into %T", v)
	}
	return proto.Unmarshal(data, m)
}

func (rawCodec) Name() string { return "proto" }

// NewOTLPHTTPClient returns an OTLPClient that POSTs requests over
// OTLP/HTTP (binary protobuf) to endpoint, the receiver's base URL such
// as "http://localhost:4318" (the signal's path, /v1/traces or /v1/logs,
// is added), with
// client (nil: a new http.Client, whose deadlines are the contexts').
// Headers such as authorization go in client's Transport. The status of a
// failure is in the error, with the receiver's message when it sent one.
func NewOTLPHTTPClient(endpoint string, client *http.Client) OTLPClient {
	if client == nil {
		client = &http.Client{}
	}
	return &httpClient{base: strings.TrimSuffix(endpoint, "/"), client: client}
}

type httpClient struct {
	base   string
	client *http.Client
	shut   atomic.Bool
}

func (c *httpClient) UploadTraces(ctx context.Context, req []byte) error {
	body, err := c.post(ctx, httpTracePath, req)
	if err != nil {
		return err
	}
	var resp coltracepb.ExportTraceServiceResponse
	if proto.Unmarshal(body, &resp) == nil {
		partialSuccess(resp.GetPartialSuccess().GetRejectedSpans(), "spans", resp.GetPartialSuccess().GetErrorMessage())
	}
	return nil
}

func (c *httpClient) UploadLogs(ctx context.Context, req []byte) error {
	body, err := c.post(ctx, httpLogsPath, req)
	if err != nil {
		return err
	}
	var resp collogspb.ExportLogsServiceResponse
	if proto.Unmarshal(body, &resp) == nil {
		partialSuccess(resp.GetPartialSuccess().GetRejectedLogRecords(), "log records", resp.GetPartialSuccess().GetErrorMessage())
	}
	return nil
}

// post sends req to path and returns the body of a 2xx response.
func (c *httpClient) post(ctx context.Context, path string, req []byte) ([]byte, error) {
	if c.shut.Load() {
		return nil, fmt.Errorf("%w: otlp http client", ErrShutdown)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("%w: otlp http client: %w", ErrExportFailed, err)
	}
	r.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := c.client.Do(r)
	if err != nil {
		return nil, fmt.Errorf("%w: otlp http client: %w", ErrExportFailed, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxHTTPResponse))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := ""
		var st rpcstatus.Status
		if proto.Unmarshal(body, &st) == nil && st.GetMessage() != "" {
			msg = ": " + st.GetMessage()
		}
		return nil, fmt.Errorf("%w: otlp http client: POST %s: %s%s", ErrExportFailed, path, resp.Status, msg)
	}
	return body, nil
}

func (c *httpClient) Shutdown(context.Context) error {
	c.shut.Store(true)
	c.client.CloseIdleConnections()
	return nil
}
