package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// TestQuickstartDB runs the quickstart twice on one store file, as the
// README's durable flow does: the second run continues the trail, and the
// whole of it verifies, signed checkpoints included.
func TestQuickstartDB(t *testing.T) {
	dir := t.TempDir()
	db, priv, pub := filepath.Join(dir, "audit.db"), filepath.Join(dir, "audit.key"), filepath.Join(dir, "audit.pub")
	pk, err := keyfile.Generate(priv, pub)
	require.NoError(t, err)
	o := options{workflow: "trip-planner", db: db, key: priv}

	var out bytes.Buffer
	require.NoError(t, runWith(context.Background(), &out, o))
	assert.Contains(t, out.String(), "Stored seq 1..52 durably in "+db)
	assert.Contains(t, out.String(), "Signed head: seq 52.")
	out.Reset()
	require.NoError(t, runWith(context.Background(), &out, o))
	assert.Contains(t, out.String(), "Stored seq 53..104 durably in "+db)
	assert.Contains(t, out.String(), "Hash chain verified: 52 events, head seq 104")

	st, err := store.Open(db, store.WithReadOnly())
	require.NoError(t, err)
	defer st.Close()
	rep, err := st.Verify(pk, nil)
	require.NoError(t, err)
	assert.Equal(t, uint64(104), rep.Events)
	assert.Equal(t, 1, rep.Signed, "the newest commit's signed head")
	assert.Equal(t, uint64(104), rep.SignedUpTo)
	all, err := st.Events(store.Query{})
	require.NoError(t, err)
	require.NoError(t, otelaudit.VerifyChain(otelaudit.GenesisAnchor, all, nil, nil))
	assert.Equal(t, "quickstart-agents", serviceName(all[0]))
}

// TestQuickstartRefusesAnUnsignedHead: a run without -key appends events
// the key did not sign; the next run with -key refuses the store, and with
// -adopt continues it, recording the adoption in the trail.
func TestQuickstartRefusesAnUnsignedHead(t *testing.T) {
	dir := t.TempDir()
	db, priv, pub := filepath.Join(dir, "audit.db"), filepath.Join(dir, "audit.key"), filepath.Join(dir, "audit.pub")
	pk, err := keyfile.Generate(priv, pub)
	require.NoError(t, err)
	signed := options{workflow: "trip-planner", db: db, key: priv}
	require.NoError(t, runWith(context.Background(), &bytes.Buffer{}, signed))
	require.NoError(t, runWith(context.Background(), &bytes.Buffer{}, options{workflow: "trip-planner", db: db}))

	err = runWith(context.Background(), &bytes.Buffer{}, signed)
	require.ErrorIs(t, err, store.ErrUnsigned)
	assert.Contains(t, err.Error(), "run again with -adopt")

	signed.adopt = true
	var out bytes.Buffer
	require.NoError(t, runWith(context.Background(), &out, signed))
	assert.Contains(t, out.String(), "Stored seq 106..157 durably", "seq 105 is the adoption record")
	st, err := store.Open(db, store.WithReadOnly())
	require.NoError(t, err)
	defer st.Close()
	rep, err := st.Verify(pk, nil)
	require.NoError(t, err)
	require.Len(t, rep.Adoptions, 1)
	assert.Equal(t, otelaudit.Anchor{Seq: 104, Hash: rep.Adoptions[0].Head.Hash}, rep.Adoptions[0].Head)
	assert.Equal(t, uint64(52), rep.Adoptions[0].SignedSeq, "the key had signed the first run only")
}

func serviceName(e otelaudit.Event) string {
	v, _ := e.Source.Resource().Set().Value("service.name")
	return v.AsString()
}

func TestQuickstartBadDB(t *testing.T) {
	dir := t.TempDir()
	err := runWith(context.Background(), &bytes.Buffer{}, options{workflow: "trip-planner", db: filepath.Join(dir, "no", "such", "dir.db")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-db")
	err = runWith(context.Background(), &bytes.Buffer{}, options{workflow: "trip-planner", key: filepath.Join(dir, "missing.key")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-key")
}
