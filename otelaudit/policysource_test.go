package otelaudit_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
	"github.com/otelaudit/otelaudit-go/store"
)

// secretResource is a resource as the SDK's detectors and a careless
// OTEL_RESOURCE_ATTRIBUTES leave it: a command line with a password flag,
// a URL with a token, a key named as a secret, beside what tells the
// service apart.
func secretResource() *resource.Resource {
	return resource.NewSchemaless(
		attribute.String("service.name", "billing"),
		attribute.String("host.name", "node-7"),
		attribute.StringSlice("process.command_args", []string{"billing", "--db-password=" + secret(1)}),
		attribute.String("process.command_line", "billing --db-password="+secret(2)),
		attribute.String("url.full", "https://config.example/v1?token="+secret(3)),
		attribute.String("vault_token", secret(4)),
		attribute.String("otelaudit.redacted", "forged"),
	)
}

// TestSourceLosesSecrets: the resource and scope of an event lose their
// known secrets at both levels, through Record and through the processor,
// in what queries return and in the store file, and keep the rest; the
// event is counted as redacted.
func TestSourceLosesSecrets(t *testing.T) {
	for _, level := range []otelaudit.Level{otelaudit.LevelMetadata, otelaudit.LevelFull} {
		t.Run(level.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.db")
			st, err := store.Open(path)
			require.NoError(t, err)
			g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithPolicy(otelaudit.Policy{Level: level}))
			require.NoError(t, err)

			scope := instrumentation.Scope{Name: "agent-runtime", Attributes: attribute.NewSet(
				attribute.String("api_key", secret(5)), attribute.String("team", "payments"))}
			recorded, err := g.Record(context.Background(), otelaudit.Event{
				Type: otelaudit.ResourceAccess, Action: "charge", Source: otelaudit.NewSource(secretResource(), scope)})
			require.NoError(t, err)

			// The same resource through a TracerProvider and the processor.
			tp := sdktrace.NewTracerProvider(sdktrace.WithResource(secretResource()), sdktrace.WithSpanProcessor(processor.New(g)))
			_, span := tp.Tracer("agent-runtime").Start(context.Background(), "execute_tool refund",
				trace.WithAttributes(attribute.String("gen_ai.operation.name", "execute_tool")))
			span.End()
			require.NoError(t, tp.Shutdown(context.Background()))

			held := g.Events(0)
			require.Len(t, held, 3, "the Record and the tool span's start and end")
			assert.Equal(t, uint64(3), g.Stats().Redacted, "every event whose Source lost a secret")
			for _, e := range append(held, recorded) {
				res := e.Source.Resource()
				require.NotNil(t, res)
				v, ok := res.Set().Value("service.name")
				assert.True(t, ok)
				assert.Equal(t, "billing", v.AsString(), "the service is kept")
				_, ok = res.Set().Value("host.name")
				assert.True(t, ok, "the host is kept")
				_, ok = res.Set().Value("process.command_args")
				assert.False(t, ok)
				u, _ := res.Set().Value("url.full")
				assert.Equal(t, "https://config.example/v1", u.AsString(), "the URL without its query")
				notes, _ := res.Set().Value(otelaudit.AttrRedacted)
				assert.ElementsMatch(t, []string{"process.command_args", "process.command_line", "url.full", "vault_token", "otelaudit.redacted"},
					notes.AsStringSlice())
				for _, kv := range res.Attributes() {
					assert.NotContains(t, kv.Value.Emit(), secretMark, "resource attribute %s", kv.Key)
				}
			}
			scopeAttrs := recorded.Source.Scope().Attributes
			assert.NotContains(t, scopeAttrs.Encoded(attribute.DefaultEncoder()), secretMark)
			team, ok := scopeAttrs.Value("team")
			assert.True(t, ok)
			assert.Equal(t, "payments", team.AsString())

			require.NoError(t, g.Shutdown(context.Background()))
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.False(t, strings.Contains(string(b), secretMark), "the store file holds no secret of a resource or scope")
			st2, err := store.Open(path, store.WithReadOnly())
			require.NoError(t, err)
			defer st2.Close()
			stored, _, err := st2.Get(recorded.Seq)
			require.NoError(t, err)
			assert.Equal(t, recorded.Source.Digest(), stored.Source.Digest(), "stored as recorded")
		})
	}
}

// TestSourceWithoutSecretsIsShared: a Source with nothing to remove is
// stored as given, the same pointer for every event.
func TestSourceWithoutSecretsIsShared(t *testing.T) {
	g := otelaudit.NewGenerator()
	src := otelaudit.NewSource(resource.NewSchemaless(attribute.String("service.name", "billing")), instrumentation.Scope{Name: "x"})
	for range 3 {
		e, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeStart, Source: src})
		require.NoError(t, err)
		assert.Same(t, src, e.Source)
	}
	assert.Zero(t, g.Stats().Redacted)
}
