package otelaudit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
)

// Keyed pseudonyms, in the manner of Vault's audit devices: a value the
// trail must be able to find but not show (who a user is, an account
// number) is stored as "hmac-sha256:" and the hex HMAC-SHA256 of it under
// a key kept apart from the trail. Whoever holds the key computes the
// pseudonym of a clear value and looks it up (Pseudonym,
// Generator.Pseudonym, `otelaudit hash --hmac-key FILE VALUE`, `otelaudit
// events --user VALUE --hmac-key FILE`); whoever reads the trail, its store
// or its exports without the key sees the same pseudonym for the same
// value and nothing more. Pseudonyms replace the values before the event
// is encoded and hashed into the chain, so verification never needs the
// key or the clear value.

// PseudonymPrefix starts every pseudonym.
const PseudonymPrefix = "hmac-sha256:"

// MinPseudonymKeySize is the shortest key WithPseudonyms accepts: 256 bits,
// so that nobody can guess the key, and from it every pseudonym.
const MinPseudonymKeySize = 32

// The fields WithPseudonyms can replace, named as in the JSON form of an
// event. Each stands also for the attributes the span processor fills it
// from, which are replaced with it (else the clear value would stay in the
// attributes):
//
//	FieldAgentID        gen_ai.agent.id, gen_ai.agent.name, agent.id
//	FieldHumanOriginID  enduser.id, audit.human_origin.id
//	FieldWorkflowID     workflow.id, workflow.name
//	FieldNodeID         node.id
//
// and for an attribute with the field's own name.
const (
	FieldAgentID       = "agent_id"
	FieldHumanOriginID = "human_origin_id"
	FieldWorkflowID    = "workflow_id"
	FieldNodeID        = "node_id"
)

// fieldSources are the attributes each field is filled from.
var fieldSources = map[string][]string{
	FieldAgentID:       {"gen_ai.agent.id", "gen_ai.agent.name", "agent.id"},
	FieldHumanOriginID: {"enduser.id", string(KeyHumanOriginID)},
	FieldWorkflowID:    {"workflow.id", "workflow.name"},
	FieldNodeID:        {"node.id"},
}

// Pseudonym returns the pseudonym of value under key: PseudonymPrefix and
// the hex HMAC-SHA256 of value. It is what a Generator with
// WithPseudonyms(key, ...) stores instead of value, so it is also how to
// look value up in a trail written so; like the Generator, it returns the
// empty value, and a value that already has the form of a pseudonym, as
// they are.
func Pseudonym(key []byte, value string) string {
	if value == "" || IsPseudonym(value) {
		return value
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return formatPseudonym(m)
}

func formatPseudonym(m hash.Hash) string {
	var sum [sha256.Size]byte
	b := make([]byte, len(PseudonymPrefix)+2*sha256.Size)
	copy(b, PseudonymPrefix)
	hex.Encode(b[len(PseudonymPrefix):], m.Sum(sum[:0]))
	return string(b)
}

// IsPseudonym reports whether s has the form of a pseudonym.
func IsPseudonym(s string) bool {
	if len(s) != len(PseudonymPrefix)+2*sha256.Size || s[:len(PseudonymPrefix)] != PseudonymPrefix {
		return false
	}
	for i := len(PseudonymPrefix); i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// WithPseudonyms makes the Generator store pseudonyms (see Pseudonym)
// instead of the values of targets: fields, named by the Field constants
// (each with the attributes it is filled from, and with its clear value
// where it is a word of the Action or Resource: the span name
// "invoke_agent Procurement Agent" becomes "invoke_agent hmac-sha256:…"),
// and attribute keys (one a field is filled from, such as enduser.id,
// names the field and its other attributes too) (an
// account number, say), which are then kept at every level, as pseudonyms,
// unless the Policy drops them or they are known secrets (a secret is
// removed, not pseudonymized). A string slice has each element replaced; a value
// of another type becomes the pseudonym of its text (Value.Emit). Empty
// values stay empty, and a value that already has the form of a pseudonym
// is kept, so that a runtime that pseudonymizes upstream with the same key
// is not hashed twice.
//
// key must be at least MinPseudonymKeySize bytes (package keyfile reads
// and writes one); a shorter one makes the Generator refuse every event
// with ErrPseudonymKey. Keep it apart from the trail: anyone with it can
// test guesses of the clear values. Queries take stored values: look a
// clear value up by its pseudonym (Generator.Pseudonym).
func WithPseudonyms(key []byte, targets ...string) Option {
	return optionFunc(func(c config) config {
		c.pseudoKey = slices.Clone(key)
		if c.pseudoKey == nil {
			c.pseudoKey = []byte{}
		}
		c.pseudoTargets = slices.Clone(targets)
		return c
	})
}

// Pseudonym returns the pseudonym the Generator stores for value, and false
// (with value unchanged) when it has no pseudonym key.
func (g *Generator) Pseudonym(value string) (string, bool) {
	if g.invalid() || g.privacy == nil || g.privacy.pseudo == nil {
		return value, false
	}
	return g.privacy.pseudo.of(value), true
}

// pseudonyms replaces values by their pseudonyms, for one Generator.
type pseudonyms struct {
	key                          []byte
	agent, human, workflow, node bool
	attrs                        map[attribute.Key]struct{}
	macs                         sync.Pool // hash.Hash: HMAC-SHA256 under key
	// cache remembers recent pseudonyms: most events of a trail name a
	// few users and agents, and an HMAC costs two SHA-256 blocks more
	// than a lookup. Direct-mapped, lock-free: a miss only costs the HMAC.
	cache [pseudoCacheSize]atomic.Pointer[pseudoEntry]
	seed  maphash.Seed
}

const pseudoCacheSize = 256

type pseudoEntry struct{ clear, pseudo string }

func newPseudonyms(key []byte, targets []string) (*pseudonyms, error) {
	if len(key) < MinPseudonymKeySize {
		return nil, ErrPseudonymKey
	}
	p := &pseudonyms{key: key, attrs: map[attribute.Key]struct{}{}, seed: maphash.MakeSeed()}
	p.macs.New = func() any { return hmac.New(sha256.New, p.key) }
	for _, t := range targets {
		// An attribute a field is filled from names the field: else the
		// clear value it hides would stay in the field.
		for f, srcs := range fieldSources {
			if slices.Contains(srcs, t) {
				t = f
			}
		}
		switch t {
		case FieldAgentID:
			p.agent = true
		case FieldHumanOriginID:
			p.human = true
		case FieldWorkflowID:
			p.workflow = true
		case FieldNodeID:
			p.node = true
		}
		for _, k := range fieldSources[t] {
			p.attrs[attribute.Key(k)] = struct{}{}
		}
		p.attrs[attribute.Key(t)] = struct{}{}
	}
	return p, nil
}

// of returns the pseudonym of v ("" for "", v itself when it already is
// one).
func (p *pseudonyms) of(v string) string {
	if v == "" || IsPseudonym(v) {
		return v
	}
	slot := &p.cache[maphash.String(p.seed, v)%pseudoCacheSize]
	if e := slot.Load(); e != nil && e.clear == v {
		return e.pseudo
	}
	m := p.macs.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(v))
	s := formatPseudonym(m)
	p.macs.Put(m)
	// Values longer than this are rare and would pin their memory.
	if len(v) <= 256 {
		slot.Store(&pseudoEntry{clear: v, pseudo: s})
	}
	return s
}

// fields replaces the chosen fields of e, and their clear values where
// they are words of its Action and Resource.
func (p *pseudonyms) fields(e *Event) {
	if p.agent {
		e.AgentID = p.field(e, e.AgentID)
	}
	if p.human {
		e.HumanOriginID = p.field(e, e.HumanOriginID)
	}
	if p.workflow {
		e.WorkflowID = p.field(e, e.WorkflowID)
	}
	if p.node {
		e.NodeID = p.field(e, e.NodeID)
	}
}

// field returns the pseudonym of the field value v of e, having replaced
// v by it in e's Action and Resource: the GenAI conventions name spans
// after these values ("invoke_agent {gen_ai.agent.name}"), and the span
// processor takes the span name for the Action.
func (p *pseudonyms) field(e *Event, v string) string {
	ps := p.of(v)
	if ps != v {
		e.Action = replaceWord(e.Action, v, ps)
		e.Resource = replaceWord(e.Resource, v, ps)
	}
	return ps
}

// replaceWord returns s with every occurrence of w that is a word of it
// (not preceded or followed by a letter, digit, '_', '-', '.' or a byte of
// a multi-byte character) replaced by by: "execute_tool catalog" and
// "tools/catalog" lose "catalog", "catalogue" and "catalog.v2" keep it.
func replaceWord(s, w, by string) string {
	if len(w) > len(s) || w == "" {
		return s
	}
	var b []byte
	done := 0
	for i := 0; i+len(w) <= len(s); {
		j := strings.Index(s[i:], w)
		if j < 0 {
			break
		}
		j += i
		end := j + len(w)
		if (j == 0 || !wordByte(s[j-1])) && (end == len(s) || !wordByte(s[end])) {
			b = append(append(b, s[done:j]...), by...)
			done, i = end, end
			continue
		}
		i = j + 1
	}
	if b == nil {
		return s
	}
	return string(append(b, s[done:]...))
}

func wordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c >= 0x80
}

// hasAttr reports whether attribute k is replaced; false for a nil p.
func (p *pseudonyms) hasAttr(k attribute.Key) bool {
	if p == nil || len(p.attrs) == 0 {
		return false
	}
	_, ok := p.attrs[k]
	return ok
}

// value returns the pseudonymized v.
func (p *pseudonyms) value(v attribute.Value) attribute.Value {
	switch v.Type() {
	case attribute.STRING:
		return attribute.StringValue(p.of(v.AsString()))
	case attribute.STRINGSLICE:
		s := v.AsStringSlice()
		for i := range s {
			s[i] = p.of(s[i])
		}
		return attribute.StringSliceValue(s)
	case attribute.EMPTY:
		return v
	}
	return attribute.StringValue(p.of(v.Emit()))
}
