package instr

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/auditz"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
	"github.com/otelaudit/otelaudit-go/store"
)

// mark is in every secret this test plants; nothing the trail holds or
// shows may contain it.
const mark = "S3CR3T"

func planted(what string) string { return mark + "-" + what }

// captureHeaders is what a service does to capture headers on its HTTP
// spans, as the semantic conventions name them (http.request.header.<key>,
// http.response.header.<key>): otelhttp has no option for it, so the
// transport it wraps sets them on its client span, found in the request's
// context.
type captureHeaders struct{ next http.RoundTripper }

func (c captureHeaders) RoundTrip(req *http.Request) (*http.Response, error) {
	sp := trace.SpanFromContext(req.Context())
	for _, h := range []string{"Authorization", "Cookie", "X-Api-Key", "Accept", "Referer"} {
		if v := req.Header.Values(h); len(v) > 0 {
			sp.SetAttributes(semconv.HTTPRequestHeader(strings.ToLower(h), v...))
		}
	}
	resp, err := c.next.RoundTrip(req)
	if err == nil {
		for _, h := range []string{"Set-Cookie", "Content-Type"} {
			if v := resp.Header.Values(h); len(v) > 0 {
				sp.SetAttributes(semconv.HTTPResponseHeader(strings.ToLower(h), v...))
			}
		}
	}
	return resp, err
}

// genAIContent is every GenAI content key of the current and deprecated
// conventions, OpenLLMetry's and OpenInference's, as a model call's span
// carries them when content capture is on.
func genAIContent() []attribute.KeyValue {
	var out []attribute.KeyValue
	for _, k := range []string{
		"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
		"gen_ai.tool.definitions", "gen_ai.retrieval.documents", "gen_ai.retrieval.query.text",
		"gen_ai.prompt", "gen_ai.completion",
		"gen_ai.prompt.0.content", "gen_ai.prompt.0.role", "gen_ai.completion.0.content", "traceloop.entity.input", "traceloop.entity.output",
		"input.value", "output.value", "llm.input_messages.0.message.content", "llm.output_messages.0.message.content",
		"llm.prompts", "llm.prompt_template.template", "llm.prompt_template.variables", "message.content",
		"retrieval.documents.0.document.content", "embedding.embeddings.0.embedding.text",
		"gen_ai.event.content", "llm.tools.0.tool.json_schema", "audio.transcript", "llm.request.functions.0.parameters",
	} {
		out = append(out, attribute.String(k, planted(k)))
	}
	return out
}

// privacyRun is one agent workflow whose calls carry every kind of secret
// through the real instrumentations, audited into a Generator with a store.
type privacyRun struct {
	g     *otelaudit.Generator
	db    string
	trace trace.TraceID
	web   string
}

func runWithSecrets(t *testing.T, policy otelaudit.Policy) privacyRun {
	t.Helper()
	dir := t.TempDir()
	pr := privacyRun{db: filepath.Join(dir, "audit.db")}
	st, err := store.Open(pr.db)
	require.NoError(t, err)
	pr.g, err = otelaudit.New(otelaudit.WithStore(st), otelaudit.WithPolicy(policy))
	require.NoError(t, err)
	p := processor.New(pr.g, processor.WithServerSpans())
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(p.Sampler(nil)), sdktrace.WithSpanProcessor(p))
	defer func() { require.NoError(t, tp.Shutdown(context.Background())) }()
	tr := tp.Tracer("example.com/agent-runtime")

	web := httptest.NewServer(otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// The server captures the request's credentials on its span too.
		sp := trace.SpanFromContext(req.Context())
		sp.SetAttributes(semconv.HTTPRequestHeader("authorization", req.Header.Values("Authorization")...),
			semconv.HTTPRequestHeader("cookie", req.Header.Values("Cookie")...))
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: planted("set-cookie")})
		_, _ = io.WriteString(w, `{"items":3}`)
	}), "web", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagators)))
	defer web.Close()
	pr.web = web.URL
	client := &http.Client{Transport: otelhttp.NewTransport(captureHeaders{&http.Transport{}},
		otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagators))}
	defer client.CloseIdleConnections()

	db, err := otelsql.Open("sqlite", fmt.Sprintf("file:priv%d?mode=memory&cache=shared", dbSeq.Add(1)),
		otelsql.WithTracerProvider(tp), otelsql.WithAttributes(semconv.DBSystemNameSQLite, semconv.DBNamespace("inventory")))
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.Exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
	require.NoError(t, err)

	ctx, wf := tr.Start(context.Background(), "invoke_agent procurement-agent", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.String("gen_ai.agent.id", "procurement-agent"),
		attribute.String("workflow.id", "wf-secrets"), attribute.String("enduser.id", "alice")))
	pr.trace = wf.SpanContext().TraceID()
	tool := func(node string, body func(ctx context.Context)) {
		ctx, sp := tr.Start(ctx, "execute_tool "+node, trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("node.id", node),
			attribute.String("gen_ai.tool.call.arguments", planted("tool-args")), attribute.String("gen_ai.tool.call.result", planted("tool-result"))))
		body(ctx)
		sp.End()
	}
	tool("catalog", func(ctx context.Context) {
		// User info in the URL (Go's client sends it as Basic
		// credentials), an API key in the query, a token in the fragment.
		u := strings.Replace(web.URL, "http://", "http://svc:"+planted("userinfo")+"@", 1) +
			"/catalog?api_key=" + planted("query") + "&limit=3#" + planted("fragment")
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		require.NoError(t, err)
		req.Header.Set("X-Api-Key", planted("x-api-key"))
		req.Header.Add("Cookie", "sid="+planted("cookie"))
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Referer", "https://app.example/reset?token="+planted("referer"))
		resp, err := client.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		// A bearer token in the Authorization header.
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, web.URL+"/catalog", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+planted("bearer"))
		resp, err = client.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
	})
	tool("stock", func(ctx context.Context) {
		// Literals in SQL, as otelsql puts the text in db.query.text.
		_, err := db.ExecContext(ctx, "INSERT INTO items (name) VALUES ('"+planted("sql-insert")+"')")
		require.NoError(t, err)
		rows, err := db.QueryContext(ctx, "SELECT name FROM items WHERE name = '"+planted("sql-select")+"'")
		require.NoError(t, err)
		for rows.Next() {
		}
		require.NoError(t, rows.Close())
	})
	tool("answer", func(ctx context.Context) {
		// A model call with content capture on: every content key.
		_, sp := tr.Start(ctx, "chat gpt-4o", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(append([]attribute.KeyValue{
			attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "openai"),
			attribute.String("gen_ai.request.model", "gpt-4o"), attribute.Int("gen_ai.usage.input_tokens", 12),
		}, genAIContent()...)...))
		// An audit span event whose action and resource the runtime
		// wrote as the URL it refused to call.
		sp.AddEvent("audit.trust_denied", trace.WithAttributes(
			attribute.String("audit.action", "GET /v1/refund?api_key="+planted("event-action")),
			attribute.String("audit.resource", "https://svc:"+planted("event-userinfo")+"@pay.example/refund?token="+planted("event-resource"))))
		sp.End()
	})
	// And through Record: the same secrets on a trust check the runtime
	// records itself.
	_, err = pr.g.Record(ctx, otelaudit.Event{Type: otelaudit.TrustDenied, Outcome: otelaudit.Denied, AgentID: "procurement-agent", Action: "pay",
		Resource: "https://k:" + planted("record-userinfo") + "@payments.example/charge?token=" + planted("record-query"),
		Attributes: append([]attribute.KeyValue{
			attribute.String("db.statement", "UPDATE cards SET pin = '"+planted("record-sql")+"'"),
			attribute.String("DB.Query.Text", "UPDATE cards SET pin = '"+planted("record-sql-case")+"'"),
			attribute.StringSlice("HTTP.Request.Header.X-Api-Key", []string{planted("record-header-case")}),
			semconv.HTTPRequestHeader("proxy-authorization", "Basic "+planted("record-proxy")),
			attribute.String("url.full", "https://payments.example/charge?card="+planted("record-card")),
			attribute.String("payment.id", "pay-7"),
		}, genAIContent()...)})
	require.NoError(t, err)
	wf.End()
	return pr
}

// noMark fails for every line of out that holds a planted secret.
func noMark(t *testing.T, where, out string) {
	t.Helper()
	if !strings.Contains(out, mark) {
		return
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, mark) {
			t.Errorf("%s shows a secret: %.300s", where, l)
		}
	}
}

// everyString is every string an event holds: fields, keys, values, and
// its encoding.
func everyString(t *testing.T, e otelaudit.Event) string {
	t.Helper()
	var b strings.Builder
	for _, s := range []string{string(e.Type), string(e.Outcome), e.AgentID, e.HumanOriginID, e.WorkflowID, e.NodeID, e.Action, e.Resource} {
		b.WriteString(s + "\n")
	}
	for _, kv := range e.Attributes {
		b.WriteString(string(kv.Key) + "=" + kv.Value.Emit() + "\n")
		for _, s := range kv.Value.AsStringSlice() {
			b.WriteString(s + "\n")
		}
	}
	enc, err := e.MarshalBinary()
	require.NoError(t, err)
	b.Write(enc)
	return b.String()
}

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// cli builds the otelaudit command from the repository root, once.
func cli(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "otelaudit-cli")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "otelaudit")
		out, err := exec.Command("go", "build", "-C", "../..", "-o", cliPath, "./cmd/otelaudit").CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	require.NoError(t, cliErr)
	return cliPath
}

// TestSecretsNeverEnterTheTrail sends every known secret through the
// real instrumentations (a query-string API key, user info, a fragment,
// captured Authorization, Cookie, Set-Cookie and X-Api-Key headers on
// client and server spans, SQL literals through otelsql, every GenAI
// content key) and through Record, at the default level and at the full
// one, and looks for them in every string of every event, in the store's
// file, in every auditz answer and in the output of every CLI command
// that prints events. None is there; every call that carried one is still
// audited, and says what was removed.
func TestSecretsNeverEnterTheTrail(t *testing.T) {
	bin := cli(t)
	for _, pol := range []otelaudit.Policy{{}, {Level: otelaudit.LevelFull}} {
		t.Run(pol.Level.String(), func(t *testing.T) {
			pr := runWithSecrets(t, pol)

			events := pr.g.EventsByTrace(pr.trace)
			for _, e := range pr.g.Events(0) {
				noMark(t, fmt.Sprintf("event %d", e.Seq), everyString(t, e))
			}
			// Still audited: each call, with what identifies it, and
			// saying what was removed.
			find := func(typ otelaudit.EventType, action, resource string, note string, server bool) otelaudit.Event {
				t.Helper()
				for _, e := range events {
					isServer := e.Source != nil && e.ParentSpanID.IsValid() && e.Source.Scope().Name == "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp" && e.NodeID == ""
					if e.Type == typ && e.Action == action && e.Resource == resource && isServer == server &&
						(note == "" || slices.Contains(redactedOf(e), note)) {
						return e
					}
				}
				t.Errorf("no %s %s %s (removed %q, server %v) in %v", typ, action, resource, note, server, summary(events))
				return otelaudit.Event{}
			}
			catalog := find(otelaudit.ResourceAccess, "GET", pr.web+"/catalog", "url.full", false)
			assert.Equal(t, "alice", catalog.HumanOriginID)
			assert.Equal(t, otelaudit.Success, catalog.Outcome)
			assert.Subset(t, redactedOf(catalog), []string{"http.request.header.cookie", "http.request.header.x-api-key", "http.response.header.set-cookie"})
			find(otelaudit.ResourceAccess, "GET", pr.web+"/catalog", "http.request.header.authorization", false)
			find(otelaudit.ResourceAccess, "GET", pr.web+"/catalog", "http.request.header.authorization", true)
			find(otelaudit.ResourceAccess, "INSERT", "sqlite:inventory/items", "db.query.text", false)
			find(otelaudit.ResourceAccess, "SELECT", "sqlite:inventory/items", "db.query.text", false)
			chat := find(otelaudit.ResourceAccess, "chat", "openai/gpt-4o", "gen_ai.input.messages", false)
			assert.Equal(t, otelaudit.Success, chat.Outcome)
			find(otelaudit.NodeStart, "execute_tool answer", "", "gen_ai.tool.call.arguments", false)
			find(otelaudit.TrustDenied, "GET /v1/refund", "https://pay.example/refund", "action", false)
			find(otelaudit.TrustDenied, "GET /v1/refund", "https://pay.example/refund", "resource", false)
			denied := find(otelaudit.TrustDenied, "pay", "https://payments.example/charge", "db.statement", false)
			assert.Equal(t, otelaudit.Denied, denied.Outcome)
			attrs := map[string]attribute.Value{}
			for _, kv := range denied.Attributes {
				attrs[string(kv.Key)] = kv.Value
			}
			assert.Equal(t, "https://payments.example/charge", attrs["url.full"].AsString())
			if pol.Level == otelaudit.LevelFull {
				assert.Equal(t, "pay-7", attrs["payment.id"].AsString(), "the full level keeps what is not secret")
				assert.Equal(t, []string{"application/json"}, headerOf(t, events, "http.request.header.accept"))
				assert.Equal(t, []string{"https://app.example/reset"}, headerOf(t, events, "http.request.header.referer"), "a URL header is cut")
			} else {
				assert.NotContains(t, attrs, "payment.id", "the default level keeps only known safe keys")
			}
			assert.Positive(t, pr.g.Stats().Redacted)

			// auditz answers.
			h := auditz.NewHandler(pr.g)
			for _, target := range []string{"/api/events?limit=1000", "/api/trace/" + pr.trace.String(), "/api/problems",
				"/api/events?type=resource_access", "/api/events?agent=procurement-agent&limit=1000", "/api/stats"} {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
				require.Equal(t, http.StatusOK, w.Code, target)
				noMark(t, "auditz "+target, w.Body.String())
			}

			// The store's file, and what the CLI prints from it.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, pr.g.Shutdown(ctx))
			raw, err := os.ReadFile(pr.db)
			require.NoError(t, err)
			noMark(t, "the store file", string(raw))
			for _, args := range [][]string{
				{"events", "--limit", "0"}, {"events", "--limit", "0", "--json"},
				{"trace", pr.trace.String()}, {"trace", pr.trace.String(), "--json"},
				{"replay", "--trace", pr.trace.String(), "--to", "stdout"},
				{"replay", "--trace", pr.trace.String(), "--to", "stdout", "--as", "logs"},
				{"verify"}, {"stats"},
			} {
				cmd := exec.Command(bin, append(args, "--db", pr.db)...)
				cmd.Env = append(os.Environ(), "OTEL_SERVICE_NAME=instr")
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "otelaudit %v: %s", args, out)
				noMark(t, fmt.Sprintf("otelaudit %v", args), string(out))
				if args[0] == "trace" && len(args) == 2 {
					assert.Contains(t, string(out), "sqlite:inventory/items", "the table shows the calls")
				}
			}
		})
	}
}

func redactedOf(e otelaudit.Event) []string {
	for _, kv := range e.Attributes {
		if kv.Key == otelaudit.AttrRedacted {
			return kv.Value.AsStringSlice()
		}
	}
	return nil
}

// headerOf is the value of a captured header attribute on the events.
func headerOf(t *testing.T, events []otelaudit.Event, key string) []string {
	t.Helper()
	for _, e := range events {
		for _, kv := range e.Attributes {
			if string(kv.Key) == key {
				return kv.Value.AsStringSlice()
			}
		}
	}
	return nil
}

// TestPseudonymsThroughTheProcessor: an agent workflow under the real
// span processor, with its agent and user pseudonymized (the user named
// by the attribute the processor reads, enduser.id): the GenAI span names
// carry the agent's name, the tool spans inherit both, and Baggage
// carries the user to a span with no parent in the process. Neither clear
// value is in any event, and both are found by their pseudonyms.
func TestPseudonymsThroughTheProcessor(t *testing.T) {
	key := []byte(strings.Repeat("k", otelaudit.MinPseudonymKeySize))
	g, err := otelaudit.New(otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull}),
		otelaudit.WithPseudonyms(key, otelaudit.FieldAgentID, "enduser.id"))
	require.NoError(t, err)
	p := processor.New(g)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(p.Sampler(nil)), sdktrace.WithSpanProcessor(p))
	tr := tp.Tracer("example.com/agent-runtime")
	ctx, wf := tr.Start(context.Background(), "invoke_agent Procurement Agent", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.String("gen_ai.agent.name", "Procurement Agent"),
		attribute.String("enduser.id", "alice@example.com")))
	_, tool := tr.Start(ctx, "execute_tool catalog", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("node.id", "catalog")))
	tool.End()
	wf.End()
	// A call from another service: the user comes in Baggage.
	m, err := baggage.NewMember("enduser.id", "bob")
	require.NoError(t, err)
	bag, err := baggage.New(m)
	require.NoError(t, err)
	_, remote := tr.Start(baggage.ContextWithBaggage(context.Background(), bag), "execute_tool refund", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("node.id", "refund")))
	remote.End()
	require.NoError(t, tp.Shutdown(context.Background()))

	bob, _ := g.Pseudonym("bob")
	byBob := g.EventsByUser(bob)
	require.NotEmpty(t, byBob, "Baggage's user, by pseudonym")
	for _, e := range byBob {
		assert.NotContains(t, everyString(t, e), "bob")
	}
	events := g.EventsByTrace(wf.SpanContext().TraceID())
	require.GreaterOrEqual(t, len(events), 4, summary(events))
	for _, e := range events {
		s := everyString(t, e)
		assert.NotContains(t, s, "Procurement Agent", "event %d", e.Seq)
		assert.NotContains(t, s, "alice@example.com", "event %d", e.Seq)
	}
	alice, _ := g.Pseudonym("alice@example.com")
	agent, _ := g.Pseudonym("Procurement Agent")
	assert.Len(t, g.EventsByUser(alice), len(events), "every event is alice's, by her pseudonym")
	assert.Len(t, g.Query(otelaudit.Query{AgentID: agent}).Events, len(events))
	assert.Equal(t, "invoke_agent "+agent, events[0].Action)
}
