package processor_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

// call is a span as the instrumentations make them: started with a kind
// and (often) nothing else, attributes and status set before it ends.
type call struct {
	name   string
	kind   trace.SpanKind
	start  []attribute.KeyValue
	end    []attribute.KeyValue
	failed bool
}

func (c call) run(t *testing.T, tr trace.Tracer, ctx context.Context) trace.Span {
	t.Helper()
	_, sp := tr.Start(ctx, c.name, trace.WithSpanKind(c.kind), trace.WithAttributes(c.start...))
	sp.SetAttributes(c.end...)
	if c.failed {
		sp.SetStatus(codes.Error, "boom")
	}
	sp.End()
	return sp
}

var (
	kv     = attribute.String
	client = trace.SpanKindClient
)

func TestCallsBecomeResourceAccess(t *testing.T) {
	httpGet := func(status int, failed bool, extra ...attribute.KeyValue) call {
		end := append([]attribute.KeyValue{kv("http.request.method", "GET"),
			kv("url.full", "https://api.example:8443/v1/items?token=s3cret#top"),
			kv("server.address", "api.example"), attribute.Int("server.port", 8443)}, extra...)
		if status > 0 {
			end = append(end, attribute.Int("http.response.status_code", status))
		}
		return call{name: "HTTP GET", kind: client, end: end, failed: failed}
	}
	sql := func(name string, end ...attribute.KeyValue) call {
		return call{name: name, kind: client, end: append([]attribute.KeyValue{kv("db.system.name", "sqlite")}, end...)}
	}
	grpc := func(status string, failed bool) call {
		return call{name: "shop.Cart/Add", kind: client,
			start: []attribute.KeyValue{kv("rpc.method", "shop.Cart/Add"), kv("rpc.system.name", "grpc")},
			end:   []attribute.KeyValue{kv("rpc.response.status_code", status)}, failed: failed}
	}
	tests := []struct {
		name                     string
		call                     call
		action, resource         string
		outcome                  otelaudit.Outcome
		noEvent                  bool
		serverSpans, keepsSecret bool
	}{
		{name: "HTTP 200", call: httpGet(200, false), action: "GET", resource: "https://api.example:8443/v1/items", outcome: otelaudit.Success},
		{name: "HTTP 302", call: httpGet(302, false), action: "GET", resource: "https://api.example:8443/v1/items", outcome: otelaudit.Success},
		{name: "HTTP 401", call: httpGet(401, true), action: "GET", resource: "https://api.example:8443/v1/items", outcome: otelaudit.Denied},
		{name: "HTTP 403", call: httpGet(403, true), action: "GET", resource: "https://api.example:8443/v1/items", outcome: otelaudit.Denied},
		{name: "HTTP 404", call: httpGet(404, true), action: "GET", resource: "https://api.example:8443/v1/items", outcome: otelaudit.Failure},
		{name: "HTTP 500", call: httpGet(500, true), action: "GET", resource: "https://api.example:8443/v1/items", outcome: otelaudit.Error},
		{name: "HTTP transport error", call: httpGet(0, true, kv("error.type", "*net.OpError")), action: "GET", resource: "https://api.example:8443/v1/items", outcome: otelaudit.Error},
		{name: "HTTP user info and other method", call: call{name: "HTTP PURGE", kind: client, end: []attribute.KeyValue{
			kv("http.request.method", "_OTHER"), kv("http.request.method.original", "PURGE"), kv("url.full", "http://bob:pw@cache.example/a?b=c"),
			attribute.Int("http.response.status_code", 204)}}, action: "PURGE", resource: "http://cache.example/a", outcome: otelaudit.Success},
		{name: "HTTP legacy keys", call: call{name: "HTTP POST", kind: client, end: []attribute.KeyValue{
			kv("http.method", "POST"), kv("http.url", "https://old.example/x?q=1"), attribute.Int("http.status_code", 403)}},
			action: "POST", resource: "https://old.example/x", outcome: otelaudit.Denied},
		{name: "HTTP attributes on an internal span", call: call{name: "handler", kind: trace.SpanKindInternal,
			start: []attribute.KeyValue{kv("http.request.method", "GET"), kv("http.route", "/x")}}, noEvent: true},
		{name: "HTTP server span", call: call{name: "GET /items/{id}", kind: trace.SpanKindServer, start: []attribute.KeyValue{
			kv("http.request.method", "GET"), kv("url.scheme", "http"), kv("server.address", "svc.example"), attribute.Int("server.port", 8080),
			kv("url.path", "/items/7"), kv("http.route", "/items/{id}")}, end: []attribute.KeyValue{attribute.Int("http.response.status_code", 403)}},
			noEvent: true},
		{name: "HTTP server span, WithServerSpans", serverSpans: true, call: call{name: "GET /items/{id}", kind: trace.SpanKindServer, start: []attribute.KeyValue{
			kv("http.request.method", "GET"), kv("url.scheme", "http"), kv("server.address", "svc.example"), attribute.Int("server.port", 8080),
			kv("url.path", "/items/7"), kv("http.route", "/items/{id}")}, end: []attribute.KeyValue{attribute.Int("http.response.status_code", 403)}},
			action: "GET", resource: "http://svc.example:8080/items/{id}", outcome: otelaudit.Denied},

		{name: "SQL query, parsed", call: sql("sql.conn.query", kv("db.query.text", "SELECT name FROM items WHERE secret = 'x'")),
			action: "SELECT", resource: "sqlite:items", outcome: otelaudit.Success},
		{name: "SQL failing", call: func() call {
			c := sql("sql.conn.query", kv("db.query.text", "SELECT * FROM missing"))
			c.failed = true
			return c
		}(), action: "SELECT", resource: "sqlite:missing", outcome: otelaudit.Error},
		{name: "SQL statement exec", call: sql("sql.stmt.exec", kv("db.query.text", "INSERT INTO items VALUES (?, ?)"), kv("db.namespace", "inventory")),
			action: "INSERT", resource: "sqlite:inventory/items", outcome: otelaudit.Success},
		{name: "DB operation and collection given", call: call{name: "find", kind: client, end: []attribute.KeyValue{
			kv("db.system.name", "mongodb"), kv("db.operation.name", "find"), kv("db.collection.name", "users"), kv("db.namespace", "app"),
			kv("server.address", "mongo.internal"), attribute.Int("server.port", 27017)}},
			action: "find", resource: "mongodb://mongo.internal:27017/app/users", outcome: otelaudit.Success},
		{name: "DB query summary", call: call{name: "SELECT orders", kind: client, end: []attribute.KeyValue{
			kv("db.system.name", "postgresql"), kv("db.query.summary", "SELECT orders"), kv("db.query.text", "SELECT * FROM x")}},
			action: "SELECT", resource: "postgresql:orders", outcome: otelaudit.Success},
		{name: "DB legacy keys", call: call{name: "q", kind: client, end: []attribute.KeyValue{
			kv("db.system", "mysql"), kv("db.statement", "DELETE FROM carts WHERE id = 3"), kv("db.name", "shop")}},
			action: "DELETE", resource: "mysql:shop/carts", outcome: otelaudit.Success},
		{name: "otelsql rows", call: sql("sql.rows"), noEvent: true},
		{name: "otelsql reset session", call: sql("sql.conn.reset_session"), noEvent: true},
		{name: "otelsql ping", call: sql("sql.conn.ping"), noEvent: true},
		{name: "otelsql connect", call: sql("sql.connector.connect"), noEvent: true},
		{name: "otelsql begin", call: sql("sql.conn.begin_tx"), noEvent: true},
		{name: "otelsql commit", call: sql("sql.tx.commit"), noEvent: true},
		{name: "otelsql prepare", call: sql("sql.conn.prepare", kv("db.query.text", "INSERT INTO items VALUES (?)")), noEvent: true},
		{name: "otelsql without db.system.name", call: call{name: "sql.conn.exec", kind: client, end: []attribute.KeyValue{
			kv("db.query.text", "UPDATE items SET n = 1")}}, action: "UPDATE", resource: "db:items", outcome: otelaudit.Success},

		{name: "gRPC OK", call: grpc("OK", false), action: "Add", resource: "shop.Cart/Add", outcome: otelaudit.Success},
		{name: "gRPC PERMISSION_DENIED", call: grpc("PERMISSION_DENIED", true), action: "Add", resource: "shop.Cart/Add", outcome: otelaudit.Denied},
		{name: "gRPC UNAUTHENTICATED", call: grpc("UNAUTHENTICATED", true), action: "Add", resource: "shop.Cart/Add", outcome: otelaudit.Denied},
		{name: "gRPC INTERNAL", call: grpc("INTERNAL", true), action: "Add", resource: "shop.Cart/Add", outcome: otelaudit.Error},
		{name: "gRPC NOT_FOUND", call: grpc("NOT_FOUND", true), action: "Add", resource: "shop.Cart/Add", outcome: otelaudit.Error},
		{name: "RPC old conventions", call: call{name: "shop.Cart/Add", kind: client, start: []attribute.KeyValue{
			kv("rpc.system", "grpc"), kv("rpc.service", "shop.Cart"), kv("rpc.method", "Add")},
			end: []attribute.KeyValue{attribute.Int("rpc.grpc.status_code", 7)}, failed: true},
			action: "Add", resource: "shop.Cart/Add", outcome: otelaudit.Denied},

		{name: "messaging producer", call: call{name: "send orders", kind: trace.SpanKindProducer, start: []attribute.KeyValue{
			kv("messaging.system", "kafka"), kv("messaging.operation.name", "send"), kv("messaging.destination.name", "orders"),
			kv("server.address", "broker"), attribute.Int("server.port", 9092)}},
			action: "send", resource: "kafka://broker:9092/orders", outcome: otelaudit.Success},
		{name: "messaging consumer", call: call{name: "process orders", kind: trace.SpanKindConsumer, start: []attribute.KeyValue{
			kv("messaging.system", "rabbitmq"), kv("messaging.operation.type", "process"), kv("messaging.destination.name", "orders")}, failed: true},
			action: "process", resource: "rabbitmq:orders", outcome: otelaudit.Error},

		{name: "GenAI chat", call: call{name: "chat gpt-4o", kind: client, start: []attribute.KeyValue{
			kv("gen_ai.operation.name", "chat"), kv("gen_ai.provider.name", "openai"), kv("gen_ai.request.model", "gpt-4o"),
			kv("gen_ai.input.messages", "secret prompt")}},
			action: "chat", resource: "openai/gpt-4o", outcome: otelaudit.Success},
		{name: "GenAI embeddings, older names", call: call{name: "embeddings", kind: trace.SpanKindInternal, start: []attribute.KeyValue{
			kv("gen_ai.operation.name", "embeddings"), kv("gen_ai.system", "ollama")}, end: []attribute.KeyValue{kv("gen_ai.response.model", "nomic")}},
			action: "embeddings", resource: "ollama/nomic", outcome: otelaudit.Success},
		{name: "GenAI generate_content failing", call: call{name: "generate_content", kind: client, start: []attribute.KeyValue{
			kv("gen_ai.operation.name", "generate_content"), kv("gen_ai.provider.name", "gcp.gemini"), kv("gen_ai.request.model", "gemini-2.5")}, failed: true},
			action: "generate_content", resource: "gcp.gemini/gemini-2.5", outcome: otelaudit.Error},
		{name: "GenAI text_completion", call: call{name: "text_completion", kind: client, start: []attribute.KeyValue{
			kv("gen_ai.operation.name", "text_completion"), kv("gen_ai.request.model", "m")}},
			action: "text_completion", resource: "m", outcome: otelaudit.Success},

		{name: "explicit fields win", call: call{name: "HTTP GET", kind: client, end: []attribute.KeyValue{
			kv("http.request.method", "GET"), kv("url.full", "https://a.example/x"), attribute.Int("http.response.status_code", 500),
			kv("audit.action", "fetch report"), kv("audit.resource", "reports://q3"), kv("audit.outcome", "failure")}},
			action: "fetch report", resource: "reports://q3", outcome: otelaudit.Failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []processor.Option
			if tt.serverSpans {
				opts = append(opts, processor.WithServerSpans())
			}
			g, tr, _ := setup(t, opts...)
			ctx, parent := tr.Start(context.Background(), "tool", trace.WithAttributes(kv("gen_ai.agent.id", "a1")))
			sp := tt.call.run(t, tr, ctx)
			parent.End()
			es := g.EventsByType(otelaudit.ResourceAccess)
			if tt.noEvent {
				assert.Empty(t, es)
				return
			}
			require.Len(t, es, 1)
			e := es[0]
			assert.Equal(t, tt.action, e.Action)
			assert.Equal(t, tt.resource, e.Resource)
			assert.Equal(t, tt.outcome, e.Outcome)
			assert.Equal(t, sp.SpanContext().SpanID(), e.SpanID, "the call's own span")
			assert.Equal(t, parent.SpanContext().SpanID(), e.ParentSpanID, "the enclosing span")
			assert.Equal(t, "a1", e.AgentID, "inherited from the enclosing span")
			assert.Positive(t, e.Duration)
			for _, a := range e.Attributes {
				assert.NotEqual(t, "gen_ai.input.messages", string(a.Key), "content stays out")
			}
		})
	}
}

// TestDroppedCallKeysLendNothing: a call attribute the Policy drops still
// makes the span a call, but its value reaches neither Resource nor
// Attributes.
func TestDroppedCallKeysLendNothing(t *testing.T) {
	g, tr, _ := setupWith(t, []otelaudit.Option{otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull, Drop: []string{"url.full"}})})
	call{name: "HTTP GET", kind: client, end: []attribute.KeyValue{kv("http.request.method", "GET"),
		kv("url.full", "https://a.example/private/path"), kv("server.address", "a.example"), attribute.Int("http.response.status_code", 200)}}.
		run(t, tr, context.Background())
	es := g.Events(0)
	require.Len(t, es, 1)
	assert.Equal(t, "GET", es[0].Action)
	assert.Equal(t, "//a.example", es[0].Resource, "from what is left: the server")
	for _, a := range es[0].Attributes {
		assert.NotEqual(t, "url.full", string(a.Key))
	}
}

// TestAllSpansWithCalls: under WithAllSpans, calls are still one
// resource_access, a client span of no known convention too (its
// instrumentation may set attributes only before it ends), and driver
// bookkeeping still nothing.
func TestAllSpansWithCalls(t *testing.T) {
	g, tr, _ := setup(t, processor.WithAllSpans())
	ctx := context.Background()
	call{name: "HTTP GET", kind: client, end: []attribute.KeyValue{kv("http.request.method", "GET"), kv("url.full", "http://a/x")}}.run(t, tr, ctx)
	call{name: "custom client", kind: client}.run(t, tr, ctx)
	call{name: "sql.rows", kind: client, end: []attribute.KeyValue{kv("db.system.name", "sqlite")}}.run(t, tr, ctx)
	call{name: "work", kind: trace.SpanKindInternal}.run(t, tr, ctx)
	var got []string
	for _, e := range g.Events(0) {
		got = append(got, string(e.Type)+" "+e.Action)
	}
	assert.Equal(t, []string{"resource_access GET", "resource_access custom client", "node_start work", "node_end work"}, got)
}
