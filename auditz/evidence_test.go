package auditz_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/auditz"
	"github.com/otelaudit/otelaudit-go/evidence"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// With the store, the handler says whether the trace on screen is covered
// by a signed checkpoint and serves its bundle, which verifies offline.
func TestEvidenceEndpoints(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	st, err := store.Open(filepath.Join(t.TempDir(), "audit.db"))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.NoError(t, err)
	defer g.Shutdown(context.Background())
	id := trace.TraceID{0xab, 1}
	for i := range 5 {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeStart, TraceID: id, SpanID: trace.SpanID{byte(i + 1)}})
		require.NoError(t, err)
	}
	require.NoError(t, g.ForceFlush(context.Background()))
	srv := httptest.NewServer(auditz.NewHandler(g, auditz.WithEvidence(st)))
	defer srv.Close()

	var cov map[string]any
	getJSON(t, srv.URL+"/api/coverage/"+id.String(), http.StatusOK, &cov)
	assert.Equal(t, true, cov["covered"])
	assert.Equal(t, true, cov["available"])
	assert.EqualValues(t, 5, cov["proved"])
	assert.EqualValues(t, 5, cov["held"])
	assert.EqualValues(t, 5, cov["tree_size"])

	resp, err := http.Get(srv.URL + "/api/evidence/" + id.String())
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Disposition"), `filename="evidence-`+id.String()+`.json"`)
	b, err := evidence.Read(resp.Body)
	require.NoError(t, err)
	res, err := b.Verify(pub)
	require.NoError(t, err)
	assert.Len(t, res.Events, 5)

	// Not stored: 404 from the bundle, not covered from the coverage.
	other := trace.TraceID{0xcd, 2}
	getJSON(t, srv.URL+"/api/evidence/"+other.String(), http.StatusNotFound, &map[string]any{})
	cov = nil
	getJSON(t, srv.URL+"/api/coverage/"+other.String(), http.StatusOK, &cov)
	assert.Equal(t, false, cov["covered"])
	getJSON(t, srv.URL+"/api/coverage/nothex", http.StatusBadRequest, &map[string]any{})

	// Without a store: the endpoints say so.
	bare := httptest.NewServer(auditz.NewHandler(g))
	defer bare.Close()
	var e map[string]any
	getJSON(t, bare.URL+"/api/coverage/"+id.String(), http.StatusOK, &e)
	assert.Equal(t, false, e["available"])
	assert.True(t, strings.Contains(e["reason"].(string), "WithEvidence"))
	getJSON(t, bare.URL+"/api/evidence/"+id.String(), http.StatusNotFound, &e)
}

func getJSON(t *testing.T, url string, status int, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, status, resp.StatusCode, url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

// A trace with more stored events than the handler's max limit gets no
// bundle from it, and its coverage is not built either: a hostile client
// cannot make the handler decode and prove a trace of any size. Bad trace
// IDs get 400, and nothing in an answer names the store's file.
func TestEvidenceEndpointsAreBounded(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "audit.db"))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	require.NoError(t, err)
	defer g.Shutdown(context.Background())
	big, small := trace.TraceID{0xb1, 9}, trace.TraceID{0x51, 1}
	for i := range 50 {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeStart, TraceID: big, SpanID: trace.SpanID{byte(i + 1)}})
		require.NoError(t, err)
	}
	_, err = g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeStart, TraceID: small, SpanID: trace.SpanID{1}})
	require.NoError(t, err)
	require.NoError(t, g.ForceFlush(context.Background()))
	srv := httptest.NewServer(auditz.NewHandler(g, auditz.WithEvidence(st), auditz.WithMaxLimit(10)))
	defer srv.Close()

	var e map[string]any
	getJSON(t, srv.URL+"/api/evidence/"+big.String(), http.StatusRequestEntityTooLarge, &e)
	assert.Contains(t, e["error"], "otelaudit proof")
	var cov map[string]any
	getJSON(t, srv.URL+"/api/coverage/"+big.String(), http.StatusOK, &cov)
	assert.Equal(t, false, cov["covered"])
	assert.EqualValues(t, 0, cov["proved"])
	assert.Contains(t, cov["reason"], "more than 10")
	getJSON(t, srv.URL+"/api/evidence/"+small.String(), http.StatusOK, &map[string]any{})

	for _, bad := range []string{"nothex", strings.Repeat("0", 32), strings.Repeat("a", 33), "%00", strings.Repeat("f", 4096)} {
		getJSON(t, srv.URL+"/api/evidence/"+bad, http.StatusBadRequest, &map[string]any{})
		getJSON(t, srv.URL+"/api/coverage/"+bad, http.StatusBadRequest, &map[string]any{})
	}
	// Not stored: the answers do not name the file.
	none := trace.TraceID{0xde, 0xad}
	resp, err := http.Get(srv.URL + "/api/evidence/" + none.String())
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.NotContains(t, string(body), dir)
	resp, err = http.Get(srv.URL + "/api/coverage/" + none.String())
	require.NoError(t, err)
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.NotContains(t, string(body), dir)
}
