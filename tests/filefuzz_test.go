package tests

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// The file fuzz test: a small signed store, damaged as a disk, a crash in
// the middle of a copy or an attacker might damage it (cut at every page
// boundary, and bits flipped at random), is opened read-only and verified,
// queried, opened for writing with its key and continued by a runtime. No
// damaged file may end the process (a fault in bbolt's memory map is fatal
// to Go unless turned into a panic), make the store panic, or be accepted
// with an event that differs from the original. The cases run in a child
// process, so that a fatal fault shows up as a failed case here instead of
// killing this test binary; the child is started again after the case that
// killed it.
//
// OTELAUDIT_FILEFUZZ_FLIPS sets how many bit-flip cases to run (default
// fileFuzzFlips), OTELAUDIT_FILEFUZZ_SEED their seed (default: a new one,
// logged), OTELAUDIT_FILEFUZZ_BITS how many bits each flips (default 1).
// scripts/fuzz-store.sh runs many more.

const (
	fileFuzzChildEnv = "OTELAUDIT_FILEFUZZ_CHILD" // the pristine store, in the child
	fileFuzzFlips    = 150
)

// fileFuzzParams are the parameters parent and child share.
type fileFuzzParams struct {
	seed        uint64
	flips, bits int
	pageSize    int
	size        int
}

// cases returns how many cases there are: a cut at every page boundary,
// then the flips.
func (p fileFuzzParams) cases() int { return p.size/p.pageSize + p.flips }

// mutate returns case i's damaged copy of data.
func (p fileFuzzParams) mutate(data []byte, i int) (out []byte, what string) {
	pages := p.size / p.pageSize
	if i < pages {
		return append([]byte(nil), data[:i*p.pageSize]...), fmt.Sprintf("cut at page %d (byte %d)", i, i*p.pageSize)
	}
	rng := rand.New(rand.NewPCG(p.seed, uint64(i)))
	out = append([]byte(nil), data...)
	var b strings.Builder
	for range p.bits {
		at, bit := rng.IntN(len(out)), rng.IntN(8)
		out[at] ^= 1 << bit
		fmt.Fprintf(&b, " byte %d (page %d) bit %d", at, at/p.pageSize, bit)
	}
	return out, "flip" + b.String()
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

// buildFuzzStore writes the store the cases damage: two runs of a signed
// Generator, the first lost in a crash (so the file holds a SeqGap record),
// events of every size up to a few pages (so the file has overflow pages),
// with Sources, checkpoints and a stream cursor.
func buildFuzzStore(t *testing.T, path string, priv ed25519.PrivateKey) {
	t.Helper()
	src := otelaudit.NewSource(resource.NewSchemaless(attribute.String("service.name", "fuzzed")), instrumentation.Scope{Name: "fuzz"})
	ev := func(i int) otelaudit.Event {
		return otelaudit.Event{
			Type:       []otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeEnd, otelaudit.TrustDenied}[i%3],
			TraceID:    trace.TraceID{9, byte(i % 7)},
			SpanID:     trace.SpanID{byte(i + 1)},
			AgentID:    fmt.Sprintf("agent-%d", i%3),
			Resource:   strings.Repeat("x", (i*97)%9000),
			Attributes: []attribute.KeyValue{attribute.Int("i", i)},
			Source:     src,
		}
	}
	ctx := context.Background()
	for run := range 2 {
		st, err := store.Open(path, store.WithPublicKey(priv.Public().(ed25519.PublicKey)))
		require.NoError(t, err)
		g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithCapacity(256),
			otelaudit.WithCheckpointInterval(40, time.Hour))
		require.NoError(t, err)
		for i := range 150 {
			_, err := g.Append(ctx, ev(run*1000+i))
			require.NoError(t, err)
			if i%10 == 9 {
				require.NoError(t, g.ForceFlush(ctx))
			}
		}
		require.NoError(t, g.ForceFlush(ctx))
		require.NoError(t, st.SetCursor("collector", 42))
		if run == 0 {
			// Lost before Shutdown releases the reserved Seqs.
			require.NoError(t, st.Close())
			short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
			_ = g.Shutdown(short)
			cancel()
			continue
		}
		require.NoError(t, g.Shutdown(ctx))
	}
}

func TestStoreFileFuzz(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	dir := t.TempDir()
	pristine := filepath.Join(dir, "pristine.db")
	buildFuzzStore(t, pristine, priv)
	data, err := os.ReadFile(pristine)
	require.NoError(t, err)
	st, err := store.Open(pristine, store.WithReadOnly(), store.WithPublicKey(pub))
	require.NoError(t, err)
	rep, err := st.Verify(pub, nil)
	require.NoError(t, err)
	require.Len(t, rep.Gaps, 1)
	require.NoError(t, st.Close())

	p := fileFuzzParams{
		seed:     uint64(envInt("OTELAUDIT_FILEFUZZ_SEED", int(rand.Uint32()))),
		flips:    envInt("OTELAUDIT_FILEFUZZ_FLIPS", fileFuzzFlips),
		bits:     max(1, envInt("OTELAUDIT_FILEFUZZ_BITS", 1)),
		pageSize: os.Getpagesize(),
		size:     len(data),
	}
	t.Logf("store of %d bytes (%d pages, %d events); %d cuts and %d flips of %d bit(s), seed %d",
		len(data), len(data)/p.pageSize, rep.Events, len(data)/p.pageSize, p.flips, p.bits, p.seed)

	counts := map[string]int{}
	var failures []string
	for next := 0; next < p.cases(); {
		results, last, finished := runFuzzChild(t, pristine, priv, p, next)
		for i, r := range results {
			class := strings.Fields(r)[0]
			counts[class]++
			if strings.HasPrefix(class, "FAIL") {
				failures = append(failures, fmt.Sprintf("case %d: %s", i, r))
			}
		}
		if finished {
			break
		}
		// The child died in case last: a fatal fault (or worse).
		counts["FAIL-fatal"]++
		_, what := p.mutate(data, last)
		failures = append(failures, fmt.Sprintf("case %d (%s): the process died", last, what))
		next = last + 1
	}
	t.Logf("outcomes: %v", counts)
	assert.Empty(t, failures, "%d of %d damaged files were not refused or read safely", len(failures), p.cases())
}

// runFuzzChild runs cases from on in a child process and returns the
// results it printed, by case, the last case it began, and whether it got
// through them all.
func runFuzzChild(t *testing.T, pristine string, priv ed25519.PrivateKey, p fileFuzzParams, from int) (map[int]string, int, bool) {
	t.Helper()
	cmd := childCommand("TestStoreFileFuzzChild",
		fileFuzzChildEnv+"="+pristine,
		"OTELAUDIT_FILEFUZZ_KEY="+hex.EncodeToString(priv),
		fmt.Sprintf("OTELAUDIT_FILEFUZZ_PARAMS=%d %d %d %d %d %d", p.seed, p.flips, p.bits, p.pageSize, p.size, from))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = nil // a dying child's stack, expected in that case, is not this test's output
	require.NoError(t, cmd.Start())
	results := map[int]string{}
	last, finished := from, false
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 3)
		switch {
		case len(f) == 2 && f[0] == "begin":
			last, _ = strconv.Atoi(f[1])
		case len(f) == 3 && f[0] == "case":
			i, _ := strconv.Atoi(f[1])
			results[i] = f[2]
		case f[0] == "done":
			finished = true
		}
	}
	_ = cmd.Wait()
	return results, last, finished
}

// TestStoreFileFuzzChild is the child's body; it does nothing unless
// started by TestStoreFileFuzz.
func TestStoreFileFuzzChild(t *testing.T) {
	pristine := childEnv(t, fileFuzzChildEnv, "TestStoreFileFuzz")
	var p fileFuzzParams
	var from int
	if _, err := fmt.Sscan(os.Getenv("OTELAUDIT_FILEFUZZ_PARAMS"), &p.seed, &p.flips, &p.bits, &p.pageSize, &p.size, &from); err != nil {
		childFail("params", err)
	}
	priv := childKey("OTELAUDIT_FILEFUZZ_KEY")
	data, err := os.ReadFile(pristine)
	if err != nil {
		childFail("pristine store", err)
	}
	want, err := fuzzReference(pristine, priv.Public().(ed25519.PublicKey))
	if err != nil {
		childFail("reference", err)
	}
	dir, err := os.MkdirTemp("", "filefuzz")
	if err != nil {
		childFail("temporary directory", err)
	}
	defer os.RemoveAll(dir)
	for i := from; i < p.cases(); i++ {
		damaged, what := p.mutate(data, i)
		path := filepath.Join(dir, fmt.Sprintf("case-%d.db", i))
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			childFail("damaged copy", err)
		}
		// Said before the case runs: if the process dies in it, the
		// parent knows which.
		fmt.Printf("begin %d\n", i)
		fmt.Printf("case %d %s (%s)\n", i, fuzzOne(path, priv, want), what)
		os.Remove(path)
	}
	fmt.Println("done")
}

// fuzzReference returns the Hash of every event of the pristine store.
func fuzzReference(path string, pub ed25519.PublicKey) (map[uint64]otelaudit.Hash, error) {
	st, err := store.Open(path, store.WithReadOnly(), store.WithPublicKey(pub))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	all, err := st.Events(store.Query{})
	if err != nil {
		return nil, err
	}
	want := make(map[uint64]otelaudit.Hash, len(all))
	for _, e := range all {
		want[e.Seq] = e.Hash
	}
	return want, nil
}

// fuzzOne runs one damaged file through what a reader and a runtime do
// with a store and classes the outcome: refused (an error, the expected
// answer to damage), intact (accepted, and every event is the original's:
// the damage hit unused bytes or an older meta page), or a FAIL.
func fuzzOne(path string, priv ed25519.PrivateKey, want map[uint64]otelaudit.Hash) (class string) {
	defer func() {
		if r := recover(); r != nil {
			class = fmt.Sprintf("FAIL-panic %v", r)
		}
	}()
	pub := priv.Public().(ed25519.PublicKey)
	read := "refused"
	var why error
	if st, err := store.Open(path, store.WithReadOnly()); err != nil {
		why = err
	} else {
		rep, verr := st.Verify(pub, nil)
		all, qerr := st.Events(store.Query{})
		// Every index entry, through the queries that read them; each
		// must find every event of its key.
		var missed error
		lookup := func(q store.Query) {
			got, err := st.Events(q)
			if err != nil && qerr == nil {
				qerr = err
			}
			want := 0
			for i := range all {
				if (!q.TraceID.IsValid() || all[i].TraceID == q.TraceID) && (q.AgentID == "" || all[i].AgentID == q.AgentID) &&
					(q.Type == "" || all[i].Type == q.Type) {
					want++
				}
			}
			if err == nil && len(got) != want && missed == nil {
				missed = fmt.Errorf("%+v finds %d of %d events", q, len(got), want)
			}
		}
		for i := range 7 {
			lookup(store.Query{TraceID: trace.TraceID{9, byte(i)}})
		}
		for i := range 3 {
			lookup(store.Query{AgentID: fmt.Sprintf("agent-%d", i)})
			lookup(store.Query{Type: []otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeEnd, otelaudit.TrustDenied}[i]})
		}
		if _, err := st.Stats(); err != nil && qerr == nil {
			qerr = err
		}
		if _, err := st.Checkpoints(); err != nil && qerr == nil {
			qerr = err
		}
		_, _ = st.EventsAfter(0, 10)
		_ = st.Close()
		why = verr
		if verr == nil {
			// Accepted: then every event must be the original's, and
			// readable.
			if qerr != nil {
				return fmt.Sprintf("FAIL-unreadable verified, then a query failed: %v", qerr)
			}
			if missed != nil {
				return fmt.Sprintf("FAIL-altered verified, but an index lookup differs from the events: %v", missed)
			}
			if uint64(len(all)) != rep.Events {
				return fmt.Sprintf("FAIL-altered verified %d events, queries return %d", rep.Events, len(all))
			}
			for _, e := range all {
				if h, ok := want[e.Seq]; !ok || h != e.Hash {
					return fmt.Sprintf("FAIL-altered event %d verified but differs from the original", e.Seq)
				}
			}
			read = "intact"
			if len(all) < len(want) {
				read = "intact-older" // an older meta page: an earlier state of the trail
			}
		}
	}
	// The runtime: open for the key, continue the trail, record, stop.
	write := "refused"
	if st, err := store.Open(path, store.WithPublicKey(pub)); err == nil {
		g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
		if err != nil {
			_ = st.Close()
		} else {
			write = "continued"
			if _, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd}); err != nil {
				write = "recording-refused"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := g.Shutdown(ctx); err != nil {
				write = "shutdown-failed"
			}
			cancel()
		}
	}
	if read == "refused" && write == "continued" {
		// Open reads the tail after the signed head, not every event:
		// damage before it does not stop a runtime from continuing the
		// trail, whose checkpoints then sign the tree Open verified, not
		// the damage. The damage must still be refused, or be gone with
		// every original event intact (bbolt rewrote the page it was in).
		if verr := stillRefused(path, pub, want); verr != nil {
			return fmt.Sprintf("FAIL-laundered refused read-only (%v), continued, and then: %v", why, verr)
		}
		write = "continued-still-refused"
	}
	return read + "/" + write
}

// stillRefused checks the store at path after a runtime continued it
// although it did not verify: Verify must still refuse it, or find every
// event of want as it was.
func stillRefused(path string, pub ed25519.PublicKey, want map[uint64]otelaudit.Hash) error {
	st, err := store.Open(path, store.WithReadOnly())
	if err != nil {
		return nil
	}
	defer st.Close()
	if _, err := st.Verify(pub, nil); err != nil {
		return nil
	}
	all, err := st.Events(store.Query{})
	if err != nil {
		return fmt.Errorf("Verify passed, and a query failed: %w", err)
	}
	got := map[uint64]otelaudit.Hash{}
	for _, e := range all {
		got[e.Seq] = e.Hash
	}
	for seq, h := range want {
		if got[seq] != h {
			return fmt.Errorf("Verify passed, and event %d is not the original", seq)
		}
	}
	return nil
}
