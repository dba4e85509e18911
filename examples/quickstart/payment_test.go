package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
	"github.com/otelaudit/otelaudit-go/store"
)

// The newcomer's run charges alice's card on a receipt: the trail shows
// the intent, then its outcome, and the receipted event is the intent.
func TestQuickstartChargesOnAReceipt(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, "trip-planner", false))
	text := out.String()
	m := regexp.MustCompile(`Charged 420\.00 EUR to payments://cards/alice \(ch_\d+\) on receipt seq (\d+), hash [0-9a-f]{64}: durable in the store before the charge\.`).FindStringSubmatch(text)
	require.NotNil(t, m, text)
	seq := m[1]
	intent := regexp.MustCompile(`(?m)^` + seq + `\s+\+\d+ms\s+resource_access\s+trip-planner-agent\s+alice\s+pay\s+charge 420\.00 EUR\s+payments://cards/alice\s+-\s+-$`)
	assert.Regexp(t, intent, text, "the receipted event is the intent, without an outcome")
	outcome := regexp.MustCompile(`(?m)^(\d+)\s+\+\d+ms\s+resource_access\s+trip-planner-agent\s+alice\s+pay\s+charge 420\.00 EUR\s+payments://cards/alice\s+success\s+-$`).FindStringSubmatch(text)
	require.NotNil(t, outcome, "the outcome is in the trail")
	a, _ := strconv.Atoi(seq)
	b, _ := strconv.Atoi(outcome[1])
	assert.Less(t, a, b, "intent before outcome")
	assert.Contains(t, text, "The trail is in a temporary store file, removed when the quickstart exits.")
}

// With -db and -key the receipt is signed, checked with the public key,
// and its event is in the store file as receipted.
func TestQuickstartSignedReceipt(t *testing.T) {
	dir := t.TempDir()
	db, priv, pub := filepath.Join(dir, "audit.db"), filepath.Join(dir, "audit.key"), filepath.Join(dir, "audit.pub")
	pk, err := keyfile.Generate(priv, pub)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, runWith(context.Background(), &out, options{workflow: "trip-planner", db: db, key: priv}))
	m := regexp.MustCompile(`on receipt seq (\d+), hash ([0-9a-f]{64}): durable in the store before the charge, signed \(an inclusion proof of \d+ hashes into the tree of \d+ events its checkpoint signs\), verified with the public key\.`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	st, err := store.Open(db, store.WithReadOnly())
	require.NoError(t, err)
	defer st.Close()
	seq, _ := strconv.ParseUint(m[1], 10, 64)
	e, ok, err := st.Get(seq)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, m[2], e.Hash.String())
	assert.Equal(t, "charge 420.00 EUR", e.Action)
	assert.Empty(t, e.Outcome, "the intent")
	_, err = st.Verify(pk, nil)
	require.NoError(t, err)
}

// No receipt, no charge: on a Generator that cannot make events durable,
// the payment tool fails, charges nothing, and the trail says so.
func TestPaymentRefusedWithoutAReceipt(t *testing.T) {
	audit := otelaudit.NewGenerator() // no store
	auditor := processor.New(audit)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(auditor))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	api, err := startAPIs(tp)
	require.NoError(t, err)
	defer api.Close()
	pay := &payments{auditor: auditor}
	r := runs[0]
	require.Equal(t, "trip-planner", r.workflow)
	id := r.execute(context.Background(), runtime{tracer: tp.Tracer("test"), client: api.client, pay: pay}).TraceID()

	assert.Empty(t, pay.charges, "nothing charged")
	var out bytes.Buffer
	pay.report(&out, id)
	assert.Empty(t, out.String())
	var types []otelaudit.EventType
	var errs []otelaudit.Event
	for _, e := range audit.EventsByTrace(id) {
		types = append(types, e.Type)
		if e.Type == otelaudit.NodeError {
			errs = append(errs, e)
		}
		assert.NotEqual(t, "charge 420.00 EUR", e.Action, "no intent without a store, no outcome without a charge")
	}
	require.Len(t, errs, 1)
	assert.Equal(t, "pay", errs[0].NodeID, "the payment node failed")
	assert.Equal(t, otelaudit.WorkflowError, types[len(types)-1])
	assert.Equal(t, uint64(1), audit.Stats().Rejected, "the refused intent, counted")
}
