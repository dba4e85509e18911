package otelaudit

import (
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/internal/redact"
)

// Level is how much of an event's attributes the trail keeps, in the manner
// of Kubernetes' audit levels (which keep request metadata unless a level
// asks for bodies). The fields of an event (who, what, where, outcome) are
// kept at every level; the level decides its attributes. Known secrets
// (SecretKeys, SecretPatterns, and the user info, query and fragment of
// URLKeys) are kept at no level unless Policy.Keep names them; the user
// info, query and fragment of a Resource that is a URL or a path, and of
// every URL or path in an Action, at none.
type Level uint8

const (
	// LevelMetadata keeps the attributes known to be safe: SafeKeys (the
	// semantic conventions' identifiers, methods, status codes, names and
	// counts), every key starting with "audit.", and Policy.Keep. The
	// default: a runtime's other attributes may hold anything.
	LevelMetadata Level = iota
	// LevelFull keeps every attribute except the known secrets.
	LevelFull
)

// String returns the level's name.
func (l Level) String() string {
	switch l {
	case LevelMetadata:
		return "metadata"
	case LevelFull:
		return "full"
	}
	return "unknown"
}

// Policy says what of an event's attributes the trail keeps. A Generator
// applies it to every event, whether it comes from the span processor or
// from Record, before the event is numbered and hashed: what the policy
// leaves out never enters the trail, its hash chain, its store or its
// exports.
//
// Keys in Keep and Drop are attribute keys; one ending in "*" stands for
// every key that starts with what precedes it ("customer.*"). Drop wins
// over Keep. A known secret is kept only when Keep names its key exactly:
// no pattern keeps one.
//
// Every event from which a secret was removed or cut carries AttrRedacted,
// the keys it was removed from, and counts in Stats.Redacted.
type Policy struct {
	// Level applies to events no Rule matches; LevelMetadata when zero.
	Level Level
	// Keep adds keys to what every level keeps, and keeps the known
	// secrets it names exactly (a URL key named here keeps its query).
	Keep []string
	// Drop removes keys at every level. The span processor also leaves
	// them out of the fields they would fill, and out of what it takes
	// from W3C Baggage: a dropped enduser.id leaves HumanOriginID empty.
	Drop []string
	// Rules override Level, and add to Keep and Drop, for some events:
	// the first Rule that matches an event applies to it.
	Rules []Rule
}

// Rule is a Policy for some events: those of its Types, from its Nodes.
type Rule struct {
	// Types matches events of these types; any type when empty.
	Types []EventType
	// Nodes matches events whose NodeID is one of these: a tool's events,
	// since a tool is a node and every call inside it inherits its NodeID
	// (see package processor). Any node when empty.
	Nodes []string
	// Level is the level of the events the Rule matches.
	Level Level
	// Keep and Drop add to the Policy's for these events.
	Keep, Drop []string
}

// Drops reports whether the Policy's Drop (not a Rule's) names key.
func (p *Policy) Drops(key string) bool {
	s := newKeySet(p.Drop)
	return s.has(key)
}

// clone returns a deep copy of p.
func (p Policy) clone() Policy {
	c := Policy{Level: p.Level, Keep: slices.Clone(p.Keep), Drop: slices.Clone(p.Drop)}
	for _, r := range p.Rules {
		c.Rules = append(c.Rules, Rule{
			Types: slices.Clone(r.Types), Nodes: slices.Clone(r.Nodes), Level: r.Level,
			Keep: slices.Clone(r.Keep), Drop: slices.Clone(r.Drop),
		})
	}
	return c
}

// WithPolicy sets what of every event's attributes the Generator keeps (see
// Policy). Without it, a Generator keeps LevelMetadata with no Keep, Drop or
// Rules.
func WithPolicy(p Policy) Option {
	return optionFunc(func(c config) config {
		c.privacy = p.clone()
		return c
	})
}

// Policy returns the Generator's policy (a copy).
func (g *Generator) Policy() Policy {
	if g.invalid() {
		return Policy{}
	}
	return g.cfg.privacy.clone()
}

// Attribute keys the Generator writes itself, and removes from what
// callers give it (every key starting with "otelaudit.", in any case, is
// reserved).
const (
	// AttrRedacted lists, as a string slice, the attributes (and
	// "action" and "resource", for the fields) from which the Policy
	// removed or cut a known secret: at most 16 entries, the last then saying how many more
	// there were ("12 more"); keys longer than 128 bytes are cut.
	AttrRedacted = "otelaudit.redacted"
	// AttrTruncated lists, as a string slice, what was cut from an event
	// larger than the event size cap (see WithMaxEventSize): each entry
	// names a field or attribute, its size and what was kept of it.
	AttrTruncated = "otelaudit.truncated"
)

// maxNotes bounds the entries of AttrRedacted and AttrTruncated.
const maxNotes = 16

// keySet is a set of keys, some of them prefixes (from "prefix*").
type keySet struct {
	exact    map[string]struct{}
	prefixes []string
}

func newKeySet(keys ...[]string) keySet {
	var s keySet
	for _, ks := range keys {
		for _, k := range ks {
			if p, ok := strings.CutSuffix(k, "*"); ok {
				s.prefixes = append(s.prefixes, p)
				continue
			}
			if s.exact == nil {
				s.exact = make(map[string]struct{})
			}
			s.exact[k] = struct{}{}
		}
	}
	return s
}

func (s *keySet) empty() bool { return len(s.exact) == 0 && len(s.prefixes) == 0 }

func (s *keySet) hasExact(k string) bool {
	_, ok := s.exact[k]
	return ok
}

func (s *keySet) has(k string) bool {
	if s.hasExact(k) {
		return true
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// attrRule is a level with its Keep and Drop, compiled, and the verdicts
// it gave keys it was asked about.
type attrRule struct {
	full       bool
	keep, drop keySet
	// verdicts remembers judge's answers: a runtime's spans carry the same
	// few dozen keys over and over, and a key no list names costs a walk
	// over the secret patterns. Direct-mapped by keyHash, lock-free: a
	// slot holds the newest key that hashed to it; a miss only costs the
	// judgement (and the entry, 48 bytes).
	verdicts *[keyTableSize]atomic.Pointer[verdictEntry]
}

type verdictEntry struct {
	key string
	v   verdict
}

// maxCachedKey bounds the keys whose verdicts are remembered: a longer key
// is no convention's, and is judged each time.
const maxCachedKey = 64

// verdict is judge(key), remembered.
func (r *attrRule) verdict(key string) verdict {
	if len(key) > maxCachedKey || r.verdicts == nil {
		return r.judge(key)
	}
	slot := &r.verdicts[keyHash(key)]
	if e := slot.Load(); e != nil && e.key == key {
		return e.v
	}
	v := r.judge(key)
	slot.Store(&verdictEntry{key: strings.Clone(key), v: v})
	return v
}

// rule is a Rule compiled.
type rule struct {
	types map[EventType]struct{}
	nodes map[string]struct{}
	attrRule
}

// compiledPolicy is what a Generator applies to every event: its Policy
// and its pseudonyms, compiled once.
type compiledPolicy struct {
	def    attrRule
	rules  []rule
	pseudo *pseudonyms // nil without WithPseudonyms
	src    sourceFilter
}

func compilePolicy(p *Policy, ps *pseudonyms) *compiledPolicy {
	c := &compiledPolicy{
		def: attrRule{full: p.Level == LevelFull, keep: newKeySet(p.Keep), drop: newKeySet(p.Drop),
			verdicts: new([keyTableSize]atomic.Pointer[verdictEntry])},
		pseudo: ps,
	}
	for _, r := range p.Rules {
		cr := rule{attrRule: attrRule{full: r.Level == LevelFull, keep: newKeySet(p.Keep, r.Keep), drop: newKeySet(p.Drop, r.Drop),
			verdicts: new([keyTableSize]atomic.Pointer[verdictEntry])}}
		if len(r.Types) > 0 {
			cr.types = make(map[EventType]struct{}, len(r.Types))
			for _, t := range r.Types {
				cr.types[t] = struct{}{}
			}
		}
		if len(r.Nodes) > 0 {
			cr.nodes = make(map[string]struct{}, len(r.Nodes))
			for _, n := range r.Nodes {
				cr.nodes[n] = struct{}{}
			}
		}
		c.rules = append(c.rules, cr)
	}
	return c
}

// ruleFor returns the rule that applies to e.
func (c *compiledPolicy) ruleFor(e *Event) *attrRule {
	for i := range c.rules {
		r := &c.rules[i]
		if r.types != nil {
			if _, ok := r.types[e.Type]; !ok {
				continue
			}
		}
		if r.nodes != nil {
			if _, ok := r.nodes[e.NodeID]; !ok {
				continue
			}
		}
		return &r.attrRule
	}
	return &c.def
}

// verdict is what a rule does with one attribute.
type verdict uint8

const (
	keepAttr   verdict = iota
	dropAttr           // dropped by Drop
	levelAttr          // not kept at this level (unless pseudonymized)
	redactAttr         // a secret (or a reserved key): removed, and noted
	cutURLAttr         // a URL: kept without user info, query and fragment
)

func (r *attrRule) judge(key string) verdict {
	c := classify(key)
	switch {
	case c&classReserved != 0:
		return redactAttr
	case !r.drop.empty() && r.drop.has(key):
		return dropAttr
	case c&classSecret != 0:
		if r.keep.hasExact(key) {
			return keepAttr
		}
		return redactAttr
	case c&classURL != 0:
		if r.keep.hasExact(key) {
			return keepAttr
		}
		return cutURLAttr
	case r.full || c&classSafe != 0 || r.keep.has(key):
		return keepAttr
	}
	return levelAttr
}

// applied says what apply changed.
type applied struct {
	redacted bool // a secret was removed or cut: Stats.Redacted
}

// apply makes e what the policy keeps of it: its Source (see source), its
// fields and its attributes. A new attribute slice, when one is needed, is
// built in *scratch (reused across calls by its owner); e's own slice is
// never written to.
func (c *compiledPolicy) apply(e *Event, scratch *[]attribute.KeyValue) applied {
	srcCut := false
	if s := c.source(e.Source); s != e.Source {
		e.Source, srcCut = s, true
	}
	res := c.applyEvent(e, scratch)
	res.redacted = res.redacted || srcCut
	return res
}

// applyEvent is apply but for the Source.
func (c *compiledPolicy) applyEvent(e *Event, scratch *[]attribute.KeyValue) applied {
	var res applied
	var notes noteList
	note := func(what string) {
		res.redacted = true
		notes.add(what)
	}
	// The fields are no attributes, but a runtime may put a URL in them
	// (audit.resource, a span named after its request): its secrets go
	// as a URL key's do.
	if a, cut := redact.Text(e.Action); cut {
		e.Action = a
		note("action")
	}
	if redact.HasURLSecret(e.Resource) && redact.IsURL(e.Resource) {
		if r, cut := redact.URL(e.Resource); cut {
			e.Resource = r
			note("resource")
		}
	}
	// The rule by the clear type and node, before they may become
	// pseudonyms.
	r := c.ruleFor(e)
	if c.pseudo != nil {
		c.pseudo.fields(e)
	}
	attrs := e.Attributes
	// Most events keep every attribute as it is: look for the first that
	// changes before copying anything, remembering what was judged.
	first := -1
	var v verdict
	for i := range attrs {
		if v = r.verdict(string(attrs[i].Key)); v != keepAttr || c.pseudo.hasAttr(attrs[i].Key) {
			first = i
			break
		}
	}
	if first < 0 {
		if !res.redacted {
			return res
		}
		first = len(attrs)
	}
	out := append((*scratch)[:0], attrs[:first]...)
	for i := first; i < len(attrs); i++ {
		kv := attrs[i]
		if i > first {
			v = r.verdict(string(kv.Key))
		}
		switch v {
		case dropAttr:
			continue
		case levelAttr:
			// An attribute named for a pseudonym is wanted, as one.
			if !c.pseudo.hasAttr(kv.Key) {
				continue
			}
		case redactAttr:
			note(string(kv.Key))
			continue
		case cutURLAttr:
			switch kv.Value.Type() {
			case attribute.STRING:
				if u, cut := redact.URL(kv.Value.AsString()); cut {
					kv.Value = attribute.StringValue(u)
					note(string(kv.Key))
				}
			case attribute.STRINGSLICE:
				// A captured header's values, or a URL key given as
				// several.
				s, cut := kv.Value.AsStringSlice(), false
				for j := range s {
					if u, c := redact.URL(s[j]); c {
						s[j], cut = u, true
					}
				}
				if cut {
					kv.Value = attribute.StringSliceValue(s)
					note(string(kv.Key))
				}
			default:
				// A URL key of another type is nothing the conventions
				// define: it cannot be cut, so it goes.
				note(string(kv.Key))
				continue
			}
		}
		if c.pseudo.hasAttr(kv.Key) {
			kv.Value = c.pseudo.value(kv.Value)
		}
		out = append(out, kv)
	}
	if res.redacted {
		out = append(out, attribute.StringSlice(AttrRedacted, notes.list()))
	}
	*scratch = out
	e.Attributes = out
	return res
}

// noteList collects the entries of AttrRedacted or AttrTruncated: at most
// maxNotes, the last saying how many more there were.
type noteList struct {
	items []string
	n     int
}

func (l *noteList) add(s string) {
	l.n++
	if len(l.items) < maxNotes {
		l.items = append(l.items, shortKey(s))
	}
}

func (l *noteList) list() []string {
	if l.n > len(l.items) {
		l.items[maxNotes-1] = strconv.Itoa(l.n-(maxNotes-1)) + " more"
	}
	return l.items
}

// maxNoteKey bounds a key quoted in a note: a hostile megabyte key must
// not make the note as large.
const maxNoteKey = 128

// shortKey cuts k to maxNoteKey bytes, on a rune boundary, marking the cut.
func shortKey(k string) string {
	if len(k) <= maxNoteKey {
		return k
	}
	return cutString(k, maxNoteKey-len("…")) + "…"
}
