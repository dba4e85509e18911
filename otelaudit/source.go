package otelaudit

import (
	"crypto/sha256"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
)

// Source is the OTel resource and instrumentation scope an event was observed
// under. Its fields are unexported so that a Source can be shared by every
// event from the same tracer without any of them being able to change it:
// one pointer per event instead of a copy of the scope.
type Source struct {
	resource *resource.Resource
	scope    instrumentation.Scope
	// enc is the Source's encoding (see MarshalBinary), made once by
	// NewSource: the Generator weighs it against its budget and hashes
	// it, and a Source is immutable.
	enc []byte
}

// NewSource returns the Source for res and scope. A nil res means the
// resource is unknown.
func NewSource(res *resource.Resource, scope instrumentation.Scope) *Source {
	s := &Source{resource: res, scope: scope}
	s.enc = s.marshal()
	return s
}

// encoding returns the Source's encoding: the one NewSource made, or a new
// one for a Source not made by it (a zero Source).
func (s *Source) encoding() []byte {
	if s.enc != nil {
		return s.enc
	}
	return s.marshal()
}

// Resource returns the OTel resource, or nil when unknown. A nil Source has
// no resource.
func (s *Source) Resource() *resource.Resource {
	if s == nil {
		return nil
	}
	return s.resource
}

// Scope returns the instrumentation scope; the zero Scope for a nil Source.
func (s *Source) Scope() instrumentation.Scope {
	if s == nil {
		return instrumentation.Scope{}
	}
	return s.scope
}

// sourceEncodingVersion starts every encoded Source (see MarshalBinary).
const sourceEncodingVersion = 1

// MarshalBinary encodes the Source deterministically, so that it can be
// stored and hashed:
//
//	version (1) | 1 if the resource is known, else 0 |
//	resource schema URL | resource attribute count | attributes |
//	scope name | scope version | scope schema URL |
//	scope attribute count | attributes
//
// strings and values as in an event's encoding; attributes are in the
// sorted order of their attribute.Set, so equal Sources encode equally. A
// nil Source encodes as nil.
func (s *Source) MarshalBinary() ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	return append([]byte(nil), s.encoding()...), nil
}

func (s *Source) marshal() []byte {
	b := []byte{sourceEncodingVersion, 0}
	if s.resource != nil {
		b[1] = 1
		b = appendString(b, s.resource.SchemaURL())
		b = appendSet(b, s.resource.Set())
	} else {
		b = appendString(b, "")
		b = appendUvarint(b, 0)
	}
	b = appendString(b, s.scope.Name)
	b = appendString(b, s.scope.Version)
	b = appendString(b, s.scope.SchemaURL)
	return appendSet(b, &s.scope.Attributes)
}

func appendSet(b []byte, set *attribute.Set) []byte {
	b = appendUvarint(b, uint64(set.Len()))
	for it := set.Iter(); it.Next(); {
		kv := it.Attribute()
		b = appendString(b, string(kv.Key))
		b = appendValue(b, &kv.Value)
	}
	return b
}

// UnmarshalSource decodes a Source encoded by MarshalBinary; empty data is
// the nil Source. Malformed data is refused with an error wrapping
// ErrMalformed.
func UnmarshalSource(data []byte) (*Source, error) {
	if len(data) == 0 {
		return nil, nil
	}
	if data[0] != sourceEncodingVersion {
		return nil, fmt.Errorf("%w: source version %d, this build reads %d", ErrMalformed, data[0], sourceEncodingVersion)
	}
	d := decoder{s: string(data), off: 1}
	known := d.boolean()
	schema := d.str("resource schema URL")
	resAttrs := d.set("resource attribute")
	var scope instrumentation.Scope
	scope.Name = d.str("scope name")
	scope.Version = d.str("scope version")
	scope.SchemaURL = d.str("scope schema URL")
	scopeAttrs := d.set("scope attribute")
	switch {
	case d.err != nil:
		return nil, d.err
	case d.off != len(d.s):
		return nil, fmt.Errorf("%w: %d trailing bytes after source", ErrMalformed, len(d.s)-d.off)
	case !known && (schema != "" || len(resAttrs) > 0):
		return nil, fmt.Errorf("%w: attributes of an unknown resource", ErrMalformed)
	}
	if len(scopeAttrs) > 0 {
		scope.Attributes = attribute.NewSet(scopeAttrs...)
	}
	src := &Source{scope: scope}
	if known {
		src.resource = resource.NewWithAttributes(schema, resAttrs...)
	}
	src.enc = src.marshal()
	return src, nil
}

// set reads attributes written by appendSet, refusing keys out of order:
// a set is sorted and has no duplicates, so any other order is not
// canonical.
func (d *decoder) set(what string) []attribute.KeyValue {
	n := d.count(2, what+" count")
	if n == 0 {
		return nil
	}
	kvs := make([]attribute.KeyValue, n)
	for i := range kvs {
		kvs[i].Key = attribute.Key(d.str(what + " key"))
		if i > 0 && kvs[i].Key <= kvs[i-1].Key {
			d.fail(what + " keys out of order")
		}
		kvs[i].Value = d.value(0)
	}
	return kvs
}

// Digest returns the SHA-256 of the Source's encoding, the part of an
// event's chain hash that covers its resource and scope; the zero Hash for
// a nil Source.
func (s *Source) Digest() Hash {
	if s == nil {
		return Hash{}
	}
	return sha256.Sum256(s.encoding())
}
