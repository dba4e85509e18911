package otelaudit

import (
	"crypto/rand"
	"encoding/binary"
	"math/bits"

	"go.opentelemetry.io/otel/trace"
)

// traceTable maps a TraceID to the chain of its held events. It is an open
// addressing table with linear probing and backward-shift deletion, holding
// its entries inline: no pointer anywhere, so the collector never scans it,
// and a lookup is one probe sequence in one array instead of a map lookup
// plus a pointer to follow.
//
// Trace IDs can come from remote callers, so the hash is keyed with a random
// seed per table: nobody can choose IDs that all land in one probe run.
type traceTable struct {
	slots []traceEntry // length is a power of two, or 0
	n     int
	seed  [2]uint64
}

type traceEntry struct {
	id    trace.TraceID // zero: the entry is free (the zero ID is never indexed)
	chain chain
}

// traceTableMinSize is the size of a table's first allocation.
const traceTableMinSize = 64

func newTraceTable() traceTable {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return traceTable{seed: [2]uint64{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}}
}

func (t *traceTable) home(id *trace.TraceID) int {
	hi, lo := bits.Mul64(
		binary.LittleEndian.Uint64(id[:8])^t.seed[0],
		binary.LittleEndian.Uint64(id[8:])^t.seed[1])
	return int((hi ^ lo) & uint64(len(t.slots)-1))
}

// find returns the chain of id, or nil.
func (t *traceTable) find(id trace.TraceID) *chain {
	if t.n == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	for i := t.home(&id); ; i = (i + 1) & mask {
		e := &t.slots[i]
		if e.id == id {
			return &e.chain
		}
		if !e.id.IsValid() {
			return nil
		}
	}
}

// get returns the chain of id, adding an empty one if there is none. The
// pointer is valid until the next call to get or remove.
func (t *traceTable) get(id trace.TraceID) *chain {
	if (t.n+1)*4 > len(t.slots)*3 { // keep the load at most 3/4
		t.grow()
	}
	mask := len(t.slots) - 1
	for i := t.home(&id); ; i = (i + 1) & mask {
		e := &t.slots[i]
		if e.id == id {
			return &e.chain
		}
		if !e.id.IsValid() {
			e.id = id
			t.n++
			return &e.chain
		}
	}
}

// remove deletes id, shifting later entries of its probe run back so that
// no lookup ever stops early at the hole (no tombstones to clean up).
func (t *traceTable) remove(id trace.TraceID) {
	if t.n == 0 {
		return
	}
	mask := len(t.slots) - 1
	i := t.home(&id)
	for t.slots[i].id != id {
		if !t.slots[i].id.IsValid() {
			return
		}
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; t.slots[j].id.IsValid(); j = (j + 1) & mask {
		h := t.home(&t.slots[j].id)
		// Move j into the hole at i unless its home lies cyclically in
		// (i, j]: then it is already as close to home as it can get.
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = traceEntry{}
	t.n--
}

func (t *traceTable) grow() {
	old := t.slots
	t.slots = make([]traceEntry, max(traceTableMinSize, 2*len(old)))
	t.n = 0
	for i := range old {
		if old[i].id.IsValid() {
			*t.get(old[i].id) = old[i].chain
		}
	}
}

func (t *traceTable) reset() {
	t.slots = nil
	t.n = 0
}
