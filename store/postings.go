package store

import (
	"encoding/binary"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// postings collects, during a Write, the Seqs of each key of one index
// (see index.go for the entries it puts). A Write of 50,000 events adds
// 150,000 Seqs: they go into one slice, each key's linked through next,
// so that adding one allocates nothing but the first time a key is seen.
// The Store keeps one per index, reset and reused by every Write.
type postings struct {
	idx  map[string]int32 // prefix -> index in keys
	keys []postingKey
	seqs []uint64
	next []int32 // next[i]: the index in seqs of the key's Seq after seqs[i]; -1 for none
}

type postingKey struct {
	prefix      string
	first, last int32 // indexes in seqs
	n           int
}

// reset empties p for the next Write, keeping its memory.
func (p *postings) reset() {
	if p.idx == nil {
		p.idx = make(map[string]int32)
	}
	clear(p.idx)
	p.keys, p.seqs, p.next = p.keys[:0], p.seqs[:0], p.next[:0]
}

// add adds seq, larger than any added before, to the key prefix.
func (p *postings) add(prefix []byte, seq uint64) {
	at := int32(len(p.seqs))
	p.seqs = append(p.seqs, seq)
	p.next = append(p.next, -1)
	i, ok := p.idx[string(prefix)]
	if !ok {
		i = int32(len(p.keys))
		k := string(prefix)
		p.idx[k] = i
		p.keys = append(p.keys, postingKey{prefix: k, first: at, last: at, n: 1})
		return
	}
	k := &p.keys[i]
	p.next[k.last] = at
	k.last = at
	k.n++
}

// put writes one entry per key, in key order (each put then lands beside
// the last, in cache). bbolt keeps keys and values until the commit: they
// are slices of one buffer per index and Write, never reused within it.
func (p *postings) put(b *bolt.Bucket) error {
	slices.SortFunc(p.keys, func(a, b postingKey) int { return strings.Compare(a.prefix, b.prefix) })
	size := 0
	for i := range p.keys {
		size += len(p.keys[i].prefix) + 8 + binary.MaxVarintLen64*p.keys[i].n
	}
	buf := make([]byte, 0, size)
	for i := range p.keys {
		k := &p.keys[i]
		start := len(buf)
		buf = append(buf, k.prefix...)
		buf = binary.BigEndian.AppendUint64(buf, p.seqs[k.first])
		key := buf[start:len(buf):len(buf)]
		start = len(buf)
		buf = binary.AppendUvarint(buf, uint64(k.n))
		for j, prev := p.next[k.first], p.seqs[k.first]; j >= 0; j = p.next[j] {
			buf = binary.AppendUvarint(buf, p.seqs[j]-prev)
			prev = p.seqs[j]
		}
		if err := b.Put(key, buf[start:len(buf):len(buf)]); err != nil {
			return err
		}
	}
	return nil
}
