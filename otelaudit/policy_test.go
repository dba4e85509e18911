package otelaudit_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// secret is a value no event may hold: every test of this file plants it
// in the attributes a Policy must remove, under a number, and then looks
// for "S3CR3T" in everything the Generator holds.
func secret(n int) string { return fmt.Sprintf("S3CR3T-%d-x", n) }

const secretMark = "S3CR3T"

// secretAttrs is an attribute for every known secret: each key of
// SecretKeys, keys of each pattern of SecretPatterns, and the URL keys
// with user info, query and fragment.
func secretAttrs() []attribute.KeyValue {
	var out []attribute.KeyValue
	n := 0
	add := func(k string, v attribute.Value) {
		out = append(out, attribute.KeyValue{Key: attribute.Key(k), Value: v})
	}
	str := func(k string) {
		n++
		add(k, attribute.StringValue(secret(n)))
	}
	for _, k := range otelaudit.SecretKeys {
		str(k)
	}
	for _, h := range []string{"authorization", "Authorization", "proxy-authorization", "cookie", "set-cookie",
		"x-api-key", "api_key", "x-goog-api-key", "apikey", "x-auth-token", "x-amz-security-token", "x-csrf-token",
		"client-secret", "x-session-id", "x-password", "x-credential"} {
		for _, p := range []string{"http.request.header.", "http.response.header.", "rpc.request.metadata.",
			"rpc.response.metadata.", "rpc.grpc.request.metadata.", "rpc.grpc.response.metadata."} {
			n++
			add(p+h, attribute.StringSliceValue([]string{"Bearer " + secret(n)}))
		}
	}
	for _, k := range []string{"gen_ai.prompt.0.content", "gen_ai.prompt.12.role", "gen_ai.completion.0.content",
		"gen_ai.completion.3.tool_calls.0.arguments", "llm.input_messages.0.message.content",
		"llm.output_messages.1.message.tool_calls.0.tool_call.function.arguments", "llm.prompts.0.prompt.text",
		"llm.choices.0.completion.text", "message.contents.0.message_content.text", "message_content.text",
		"retrieval.documents.3.document.content", "reranker.input_documents.0.document.content",
		"reranker.output_documents.0.document.content", "embedding.embeddings.0.embedding.text",
		"db.query.parameter.name", "db.operation.parameter.0", "app.password", "db.passwd", "client_secret",
		"oauth.access_token", "oauth.refresh_token", "oidc.id_token", "session.token", "tls.private_key",
		"upstream.authorization", "request.cookie", "vault.credentials", "svc.api_key", "svc.apikey", "SECRET"} {
		str(k)
	}
	// Whatever the type, a secret key goes.
	add("db.query.text", attribute.StringSliceValue([]string{"SELECT 1 FROM t WHERE pw = '" + secret(900) + "'"}))
	add("gen_ai.input.messages", attribute.MapValue(attribute.String("content", secret(901))))
	return out
}

// urlAttrs are the URL keys, with a secret in the user info, the query
// and the fragment of each; what is left must be kept at every level.
func urlAttrs() (attrs []attribute.KeyValue, want map[string]string) {
	want = map[string]string{}
	for i, k := range otelaudit.URLKeys {
		v := fmt.Sprintf("https://u:%s@api.example/v1/items?api_key=%s&x=1#%s", secret(1000+i), secret(1100+i), secret(1200+i))
		w := "https://api.example/v1/items"
		if k == "http.target" {
			v = fmt.Sprintf("/v1/items?token=%s", secret(1300))
			w = "/v1/items"
		}
		attrs = append(attrs, attribute.String(k, v))
		want[k] = w
	}
	return attrs, want
}

// strs returns every string an event holds: fields, keys, values (slices
// and maps included), and its binary encoding.
func strs(t *testing.T, e *otelaudit.Event) []string {
	t.Helper()
	out := []string{string(e.Type), string(e.Outcome), e.AgentID, e.HumanOriginID, e.WorkflowID, e.NodeID, e.Action, e.Resource}
	var value func(v attribute.Value)
	value = func(v attribute.Value) {
		out = append(out, v.Emit())
		switch v.Type() {
		case attribute.STRINGSLICE:
			out = append(out, v.AsStringSlice()...)
		case attribute.SLICE:
			for _, x := range v.AsSlice() {
				value(x)
			}
		case attribute.MAP:
			for _, kv := range v.AsMap() {
				out = append(out, string(kv.Key))
				value(kv.Value)
			}
		}
	}
	for _, kv := range e.Attributes {
		out = append(out, string(kv.Key))
		value(kv.Value)
	}
	b, err := e.MarshalBinary()
	require.NoError(t, err)
	return append(out, string(b))
}

// noSecrets fails for every string of every event that holds a planted
// secret.
func noSecrets(t *testing.T, events []otelaudit.Event) {
	t.Helper()
	for i := range events {
		for _, s := range strs(t, &events[i]) {
			if strings.Contains(s, secretMark) {
				t.Errorf("seq %d holds a secret: %q", events[i].Seq, s)
			}
		}
	}
}

func attrsOf(e otelaudit.Event) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range e.Attributes {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

// TestEverySecretIsRemovedAtEveryLevel: every known secret recorded with
// Record is absent from every string of every event at both levels and
// under a rule, URLs keep all but their secrets, the event is still
// recorded with its fields, and it says what was removed.
func TestEverySecretIsRemovedAtEveryLevel(t *testing.T) {
	urls, wantURL := urlAttrs()
	safe := attribute.String("http.request.method", "GET")
	plain := attribute.String("retry.reason", "timeout")
	for _, pol := range []otelaudit.Policy{
		{},
		{Level: otelaudit.LevelFull},
		{Level: otelaudit.LevelFull, Keep: []string{"http.request.header.*", "gen_ai.*", "llm.*", "*"}},
		{Rules: []otelaudit.Rule{{Types: []otelaudit.EventType{otelaudit.ResourceAccess}, Level: otelaudit.LevelFull, Keep: []string{"*"}}}},
	} {
		t.Run(fmt.Sprintf("%s %v %d rules", pol.Level, pol.Keep, len(pol.Rules)), func(t *testing.T) {
			g := otelaudit.NewGenerator(otelaudit.WithPolicy(pol))
			attrs := append(append(append([]attribute.KeyValue{safe}, secretAttrs()...), urls...), plain)
			given := append([]attribute.KeyValue(nil), attrs...)
			e, err := g.Record(context.Background(), otelaudit.Event{
				Type: otelaudit.ResourceAccess, TraceID: trace.TraceID{1}, AgentID: "agent", Action: "GET",
				Resource: "https://k:" + secret(2000) + "@api.example/v1?sig=" + secret(2001), Outcome: otelaudit.Success,
				Attributes: attrs,
			})
			require.NoError(t, err)
			assert.Equal(t, given, attrs, "the caller's slice is never written to")
			held := g.Events(0)
			require.Len(t, held, 1)
			assert.Equal(t, e, held[0], "Record returns what is held")
			noSecrets(t, held)
			got := attrsOf(held[0])
			assert.Equal(t, "https://api.example/v1", held[0].Resource, "the Resource field loses its secrets too")
			assert.Equal(t, safe.Value, got[string(safe.Key)])
			for k, w := range wantURL {
				assert.Equal(t, w, got[k].AsString(), "%s keeps what is not secret", k)
			}
			full := pol.Level == otelaudit.LevelFull || len(pol.Rules) > 0
			_, kept := got[string(plain.Key)]
			assert.Equal(t, full, kept, "a key of no list is kept at the full level only")
			redacted := got[otelaudit.AttrRedacted].AsStringSlice()
			require.Len(t, redacted, 16, "at most 16 entries")
			assert.Equal(t, "resource", redacted[0])
			assert.Regexp(t, regexp.MustCompile(`^\d+ more$`), redacted[15])
			assert.Equal(t, uint64(1), g.Stats().Redacted)
		})
	}
}

// TestKeepNamesASecretExactly: a secret is kept only when Keep names its
// key; a URL key named keeps its query; patterns and rules' wildcards do
// not, and Drop wins over Keep.
func TestKeepNamesASecretExactly(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{
		Keep: []string{"db.query.text", "url.full", "http.request.header.*", "gen_ai.prompt.0.content", "customer.tier"},
		Drop: []string{"customer.tier"},
	}))
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: []attribute.KeyValue{
		attribute.String("db.query.text", "SELECT 1"),
		attribute.String("url.full", "https://h/p?q=1"),
		attribute.String("url.original", "https://h/p?q=1"),
		attribute.StringSlice("http.request.header.authorization", []string{"Bearer x"}),
		attribute.StringSlice("http.request.header.content-type", []string{"application/json"}),
		attribute.String("gen_ai.prompt.0.content", "hi"),
		attribute.String("gen_ai.prompt.1.content", "there"),
		attribute.String("customer.tier", "gold"),
	}})
	require.NoError(t, err)
	assert.Equal(t, []attribute.KeyValue{
		attribute.String("db.query.text", "SELECT 1"),
		attribute.String("url.full", "https://h/p?q=1"),
		attribute.String("url.original", "https://h/p"),
		attribute.StringSlice("http.request.header.content-type", []string{"application/json"}),
		attribute.String("gen_ai.prompt.0.content", "hi"),
		attribute.StringSlice(otelaudit.AttrRedacted, []string{"url.original", "http.request.header.authorization", "gen_ai.prompt.1.content"}),
	}, e.Attributes)
}

// TestRulesApplyByTypeAndNode: the first rule that matches an event's type
// and node decides its level; events no rule matches get the Policy's.
func TestRulesApplyByTypeAndNode(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{
		Keep: []string{"always"},
		Rules: []otelaudit.Rule{
			{Types: []otelaudit.EventType{otelaudit.TrustDenied}, Level: otelaudit.LevelFull, Drop: []string{"noisy"}},
			{Nodes: []string{"payments"}, Keep: []string{"amount"}},
			{Types: []otelaudit.EventType{otelaudit.NodeEnd}, Nodes: []string{"search"}, Level: otelaudit.LevelFull},
		},
	}))
	attrs := []attribute.KeyValue{attribute.String("always", "1"), attribute.String("amount", "2"),
		attribute.String("noisy", "3"), attribute.String("other", "4"), attribute.String("input.value", "5")}
	keys := func(typ otelaudit.EventType, node string) []string {
		e, err := g.Record(context.Background(), otelaudit.Event{Type: typ, NodeID: node, Attributes: attrs})
		require.NoError(t, err)
		var ks []string
		for _, kv := range e.Attributes {
			ks = append(ks, string(kv.Key))
		}
		return ks
	}
	r := otelaudit.AttrRedacted
	assert.Equal(t, []string{"always", "amount", "other", r}, keys(otelaudit.TrustDenied, "payments"), "first rule: full, noisy dropped")
	assert.Equal(t, []string{"always", "amount", r}, keys(otelaudit.NodeEnd, "payments"), "second rule: metadata plus amount")
	assert.Equal(t, []string{"always", "amount", "noisy", "other", r}, keys(otelaudit.NodeEnd, "search"), "third rule")
	assert.Equal(t, []string{"always", r}, keys(otelaudit.NodeStart, "search"), "no rule: the Policy's")
}

// TestSafeKeysAreKeptByDefault: every key of SafeKeys and every audit.*
// key is kept at the default level, as it is.
func TestSafeKeysAreKeptByDefault(t *testing.T) {
	g := otelaudit.NewGenerator()
	var attrs []attribute.KeyValue
	for _, k := range otelaudit.SafeKeys {
		attrs = append(attrs, attribute.String(k, "/v"+k))
	}
	attrs = append(attrs, attribute.Int("audit.span.dropped_attributes", 2), attribute.String("audit.custom", "x"))
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: attrs})
	require.NoError(t, err)
	assert.Equal(t, attrs, e.Attributes)
	assert.Zero(t, g.Stats().Redacted)
}

// TestReservedKeysAreTheGenerators: a caller cannot forge the notes the
// Generator writes: its otelaudit.* attributes are removed, and noted.
func TestReservedKeysAreTheGenerators(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull, Keep: []string{otelaudit.AttrTruncated}}))
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: []attribute.KeyValue{
		attribute.StringSlice(otelaudit.AttrTruncated, []string{"nothing was cut"}),
		attribute.StringSlice(otelaudit.AttrRedacted, []string{"nothing"}),
		attribute.String("otelaudit.gap.first", "1"),
	}})
	require.NoError(t, err)
	assert.Equal(t, []attribute.KeyValue{attribute.StringSlice(otelaudit.AttrRedacted,
		[]string{otelaudit.AttrTruncated, otelaudit.AttrRedacted, "otelaudit.gap.first"})}, e.Attributes)
}

// TestPatternsSpareWhatIsNotSecret: the patterns are narrow enough that
// the conventions' safe keys that look like them stay.
func TestPatternsSpareWhatIsNotSecret(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull}))
	attrs := []attribute.KeyValue{
		attribute.String("gen_ai.prompt.name", "triage-v2"),
		attribute.String("gen_ai.prompt.version", "3"),
		attribute.Int("gen_ai.usage.input_tokens", 10),
		attribute.String("gen_ai.token.type", "input"),
		attribute.StringSlice("http.request.header.content-type", []string{"text/plain"}),
		attribute.StringSlice("http.response.header.x-request-id", []string{"abc"}),
		attribute.String("input.mime_type", "text/plain"),
		attribute.String("db.query.summary", "SELECT items"),
		attribute.String("session.id", "s-1"),
		attribute.String("token.count", "3"),
		attribute.String("llm.token_count.prompt", "3"),
	}
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: attrs})
	require.NoError(t, err)
	assert.Equal(t, attrs, e.Attributes)
}

// TestPolicyIsCopied: the Policy given is the Generator's own; changing
// the caller's slices afterwards changes nothing, nor does changing what
// Policy returns.
func TestPolicyIsCopied(t *testing.T) {
	keep := []string{"a"}
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Keep: keep}))
	keep[0] = "b"
	p := g.Policy()
	p.Keep[0] = "c"
	assert.Equal(t, []string{"a"}, g.Policy().Keep)
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: []attribute.KeyValue{
		attribute.String("a", "1"), attribute.String("b", "2"), attribute.String("c", "3")}})
	require.NoError(t, err)
	assert.Equal(t, []attribute.KeyValue{attribute.String("a", "1")}, e.Attributes)
	assert.True(t, p.Drops("x") == false)
	assert.True(t, (&otelaudit.Policy{Drop: []string{"enduser.*"}}).Drops("enduser.id"))
}

// TestPrivacyTablesInREADME: the README's tables list every key of the
// lists, so that what it promises is what the code does.
func TestPrivacyTablesInREADME(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(b)
	for _, list := range [][]string{otelaudit.SafeKeys, otelaudit.SecretKeys, otelaudit.URLKeys} {
		for _, k := range list {
			assert.True(t, strings.Contains(readme, "`"+k+"`"), "the README lists `%s`", k)
		}
	}
	for _, p := range []string{"authorization", "proxy-authorization", "set-cookie", "api-key", "gen_ai.prompt.<n>.*", "llm.input_messages.*"} {
		assert.True(t, strings.Contains(readme, p), "the README has %q", p)
	}
}

// TestURLsInFieldsLoseTheirSecrets: a Resource that is a URL reference
// (with a scheme, or a path, or "//host") and every URL or path in an
// Action lose their user info, query and fragment at every level, and the
// event says so; fields that merely hold a '?' or an '@' are kept.
func TestURLsInFieldsLoseTheirSecrets(t *testing.T) {
	for _, lvl := range []otelaudit.Level{otelaudit.LevelMetadata, otelaudit.LevelFull} {
		g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: lvl}))
		for _, tt := range []struct {
			action, resource         string
			wantAction, wantResource string
			notes                    []string
		}{
			{"charge", "/v1/charge?api_key=" + secret(1), "charge", "/v1/charge", []string{"resource"}},
			{"charge", "//svc:" + secret(2) + "@payments.example/v1", "charge", "//payments.example/v1", []string{"resource"}},
			{"GET /v1/charge?api_key=" + secret(3) + "#" + secret(4), "payments", "GET /v1/charge", "payments", []string{"action"}},
			{"fetch https://u:" + secret(5) + "@h.example/x?t=" + secret(6) + " then https://h.example/y?s=" + secret(7),
				"HTTPS://u:" + secret(8) + "@h.example/x", "fetch https://h.example/x then https://h.example/y", "HTTPS://h.example/x",
				[]string{"action", "resource"}},
			{"approve?", "alice@example.com", "approve?", "alice@example.com", nil},
			{`call("/v1/refund?api_key=` + secret(9) + `")`, "api.example/v1?token=" + secret(10), `call("/v1/refund`, "api.example/v1",
				[]string{"action", "resource"}},
			{"SELECT", "sqlite:inventory/items", "SELECT", "sqlite:inventory/items", nil},
		} {
			e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Action: tt.action, Resource: tt.resource})
			require.NoError(t, err)
			noSecrets(t, []otelaudit.Event{e})
			assert.Equal(t, tt.wantAction, e.Action, "%s: %s", lvl, tt.action)
			assert.Equal(t, tt.wantResource, e.Resource, "%s: %s", lvl, tt.resource)
			assert.Equal(t, tt.notes, attrsOf(e)[otelaudit.AttrRedacted].AsStringSlice(), "%s: %s", lvl, tt.action)
		}
		noSecrets(t, g.Events(0))
	}
}

// TestSecretKeysInAnyCase: OTel keys are case-sensitive, but a runtime
// that spells a known secret's key in another case ("HTTP.Request.Header.X-Api-Key",
// "DB.STATEMENT", "Url.Full") still sends the secret: it is removed (or
// cut, for a URL key) at every level. Keys of this project's audit.*
// namespace that are named as secrets are secrets too. A key that is only
// safe in lower case is not kept by LevelMetadata in another.
func TestSecretKeysInAnyCase(t *testing.T) {
	for _, lvl := range []otelaudit.Level{otelaudit.LevelMetadata, otelaudit.LevelFull} {
		g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: lvl}))
		e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: []attribute.KeyValue{
			attribute.StringSlice("HTTP.Request.Header.X-Api-Key", []string{secret(1)}),
			attribute.StringSlice("Http.Response.Header.Set-Cookie", []string{secret(2)}),
			attribute.String("DB.STATEMENT", "SELECT '"+secret(3)+"'"),
			attribute.String("Db.Query.Text", "SELECT '"+secret(4)+"'"),
			attribute.String("GEN_AI.PROMPT.0.CONTENT", secret(5)),
			attribute.String("Input.Value", secret(6)),
			attribute.String("LLM.Input_Messages.0.Message.Content", secret(7)),
			attribute.String("Url.Full", "https://h.example/p?k="+secret(8)),
			attribute.String("URL.QUERY", "k="+secret(9)),
			attribute.String("audit.password", secret(10)),
			attribute.StringSlice("audit.http.request.header.authorization", []string{secret(11)}),
			attribute.String("audit.custom", "kept"),
		}})
		require.NoError(t, err)
		noSecrets(t, []otelaudit.Event{e})
		got := attrsOf(e)
		assert.Equal(t, "https://h.example/p", got["Url.Full"].AsString(), "%s: a URL key in another case is cut, not dropped", lvl)
		assert.Equal(t, "kept", got["audit.custom"].AsString())
		assert.Len(t, got[otelaudit.AttrRedacted].AsStringSlice(), 11, "%s", lvl)
	}
	g := otelaudit.NewGenerator()
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: []attribute.KeyValue{
		attribute.String("HTTP.Request.Method", "GET"), attribute.String("http.request.method", "GET"),
	}})
	require.NoError(t, err)
	assert.Equal(t, []attribute.KeyValue{attribute.String("http.request.method", "GET")}, e.Attributes,
		"the safe list is exact: another case is no key it knows")
}

// TestSecretNamesInEverySpelling: a key whose last part names a secret
// with a prefix ("x_api_key", "github_token", "db-password") or in camel
// case ("accessToken", "clientSecret") is a secret at the full level too;
// the counts and names the conventions define stay.
func TestSecretNamesInEverySpelling(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull}))
	var attrs []attribute.KeyValue
	for i, k := range []string{"x_api_key", "svc.x-api-key", "github_token", "slack.bot_token", "auth-token", "accessToken",
		"oauth.clientSecret", "webhook_secret", "db-password", "smtp.user_passwd", "apiKey", "gcp.service_account_credentials",
		"ssh.privateKey", "tls.client_private_key", "proxy_authorization", "upstream.set-cookie", "session_cookie"} {
		attrs = append(attrs, attribute.String(k, secret(i)))
	}
	safe := []attribute.KeyValue{
		attribute.Int("gen_ai.usage.input_tokens", 1), attribute.Int("gen_ai.request.max_tokens", 2),
		attribute.String("gen_ai.token.type", "input"), attribute.Int("llm.token_count.total", 3),
		attribute.String("payment.preauthorization", "pa-1"), attribute.String("fortune.cookies", "3"),
		attribute.String("secrets.manager", "vault"), attribute.String("keyboard", "us"),
	}
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: append(attrs, safe...)})
	require.NoError(t, err)
	noSecrets(t, []otelaudit.Event{e})
	assert.Equal(t, append(safe, attribute.StringSlice(otelaudit.AttrRedacted, []string{"x_api_key", "svc.x-api-key",
		"github_token", "slack.bot_token", "auth-token", "accessToken", "oauth.clientSecret", "webhook_secret", "db-password",
		"smtp.user_passwd", "apiKey", "gcp.service_account_credentials", "ssh.privateKey", "tls.client_private_key",
		"proxy_authorization", "2 more"})), e.Attributes)
}

// TestHeadersThatHoldURLsAreCut: a captured Referer, Location or
// Content-Location header is a URL whose query and user info are as
// secret as url.full's (a password-reset link, a signed redirect): each
// of its values is cut at every level, not kept whole by LevelFull; a URL
// key that holds a string slice is cut element by element.
func TestHeadersThatHoldURLsAreCut(t *testing.T) {
	for _, lvl := range []otelaudit.Level{otelaudit.LevelMetadata, otelaudit.LevelFull} {
		g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: lvl}))
		e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: []attribute.KeyValue{
			attribute.StringSlice("http.request.header.referer", []string{"https://app.example/reset?token=" + secret(1)}),
			attribute.StringSlice("http.response.header.location", []string{"https://u:" + secret(2) + "@cdn.example/f?sig=" + secret(3), "/next#" + secret(4)}),
			attribute.StringSlice("http.response.header.Content-Location", []string{"/doc?k=" + secret(5)}),
			attribute.StringSlice("HTTP.Request.Header.Referrer", []string{"https://a.example/?q=" + secret(6)}),
			attribute.StringSlice("url.full", []string{"https://h.example/p?k=" + secret(7)}),
		}})
		require.NoError(t, err)
		noSecrets(t, []otelaudit.Event{e})
		got := attrsOf(e)
		assert.Equal(t, []string{"https://h.example/p"}, got["url.full"].AsStringSlice(), "%s", lvl)
		if lvl == otelaudit.LevelFull {
			assert.Equal(t, []string{"https://app.example/reset"}, got["http.request.header.referer"].AsStringSlice())
			assert.Equal(t, []string{"https://cdn.example/f", "/next"}, got["http.response.header.location"].AsStringSlice())
			assert.Equal(t, []string{"/doc"}, got["http.response.header.Content-Location"].AsStringSlice())
			assert.Equal(t, []string{"https://a.example/"}, got["HTTP.Request.Header.Referrer"].AsStringSlice())
		}
		assert.Equal(t, []string{"http.request.header.referer", "http.response.header.location", "http.response.header.Content-Location",
			"HTTP.Request.Header.Referrer", "url.full"}, got[otelaudit.AttrRedacted].AsStringSlice(), "%s", lvl)
	}
}

// TestEveryContentKey: the content keys of the conventions that carry a
// prompt, a completion, a tool's definition or arguments, a document or
// media, besides those of SecretKeys' first version: OpenInference's
// tools, tool calls, media and evaluation explanations, OpenLLMetry's
// advertised functions, and the gen_ai.event.content attribute that GenAI
// instrumentations wrote on the deprecated content events. Each is
// removed at the full level, and the names and counts beside them stay.
func TestEveryContentKey(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull}))
	var attrs []attribute.KeyValue
	for i, k := range []string{"gen_ai.event.content", "llm.tools", "llm.tools.0.tool.json_schema", "llm.tools.1.tool.description",
		"tool.json_schema", "tool.parameters", "message.tool_calls", "message.tool_calls.0.tool_call.function.arguments",
		"image.url", "audio.url", "audio.transcript", "video.url", "embedding.vector", "evaluation.explanation",
		"annotation.explanation", "llm.request.functions.0.parameters", "llm.request.functions.0.description"} {
		attrs = append(attrs, attribute.String(k, secret(i)))
	}
	safe := []attribute.KeyValue{attribute.String("tool.name", "get_weather"), attribute.String("llm.model_name", "gpt-4o"),
		attribute.Int("llm.token_count.total", 3), attribute.String("evaluation.label", "relevant"), attribute.String("audio.mime_type", "audio/mpeg")}
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: append(attrs, safe...)})
	require.NoError(t, err)
	noSecrets(t, []otelaudit.Event{e})
	got := attrsOf(e)
	for _, kv := range safe {
		assert.Equal(t, kv.Value, got[string(kv.Key)], string(kv.Key))
	}
}

// TestPathKeysLoseAQuery: url.path, url.template, http.route and
// http.route.template hold no query by the conventions, and are known
// safe; a runtime that puts one there (the raw request target as url.path)
// does not keep it at any level. Paths keep their '@'.
func TestPathKeysLoseAQuery(t *testing.T) {
	for _, lvl := range []otelaudit.Level{otelaudit.LevelMetadata, otelaudit.LevelFull} {
		g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: lvl}))
		e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: []attribute.KeyValue{
			attribute.String("url.path", "/reset?token="+secret(1)),
			attribute.String("http.route", "/users/@{user}#"+secret(2)),
			attribute.String("url.template", "/v1/{id}?k="+secret(3)),
			attribute.String("http.route.template", "/v1?k="+secret(4)),
		}})
		require.NoError(t, err)
		noSecrets(t, []otelaudit.Event{e})
		got := attrsOf(e)
		assert.Equal(t, "/reset", got["url.path"].AsString(), "%s", lvl)
		assert.Equal(t, "/users/@{user}", got["http.route"].AsString(), "%s", lvl)
		assert.Equal(t, "/v1/{id}", got["url.template"].AsString(), "%s", lvl)
		assert.Equal(t, "/v1", got["http.route.template"].AsString(), "%s", lvl)
	}
}

// TestReservedKeysInAnyCase: a caller's "Otelaudit.Redacted" would sit
// beside the Generator's own note and tell a reader that nothing was
// removed; the reserved prefix is the Generator's in any case.
func TestReservedKeysInAnyCase(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull}))
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: []attribute.KeyValue{
		attribute.StringSlice("Otelaudit.Redacted", []string{"nothing"}),
		attribute.StringSlice("OTELAUDIT.TRUNCATED", []string{"nothing"}),
	}})
	require.NoError(t, err)
	assert.Equal(t, []attribute.KeyValue{attribute.StringSlice(otelaudit.AttrRedacted,
		[]string{"Otelaudit.Redacted", "OTELAUDIT.TRUNCATED"})}, e.Attributes)
}
