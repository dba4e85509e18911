package exporter

import "github.com/otelaudit/otelaudit-go/otelaudit"

// Trail is what a Stream follows: an audit trail that grows at its end. A
// *store.Store is one; FollowGenerator makes one of a Generator.
type Trail interface {
	// EventsAfter returns events with Seq greater than after, oldest
	// first, at most limit of them. Events no longer there are skipped.
	EventsAfter(after uint64, limit int) ([]otelaudit.Event, error)
	// LastSeq returns the Seq of the newest event.
	LastSeq() (uint64, error)
}

// CursorStore keeps where a Stream got to, so that a restarted process
// resumes there. A *store.Store is one.
type CursorStore interface {
	Cursor(name string) (uint64, error)
	SetCursor(name string, seq uint64) error
}

// FollowGenerator returns g as a Trail. A Stream that follows a Generator
// without a store counts as Dropped the events evicted before it exported
// them: its queue is the Generator's capacity. With a store attached,
// follow the store instead, which never drops.
func FollowGenerator(g *otelaudit.Generator) Trail { return generatorTrail{g} }

type generatorTrail struct{ g *otelaudit.Generator }

func (s generatorTrail) EventsAfter(after uint64, limit int) ([]otelaudit.Event, error) {
	if s.g == nil {
		return nil, otelaudit.ErrNilGenerator
	}
	return s.g.EventsAfter(after, limit), nil
}

func (s generatorTrail) AppendEncodedAfter(dst *otelaudit.EncodedEvents, after uint64, limit int) (int, error) {
	if s.g == nil {
		return 0, otelaudit.ErrNilGenerator
	}
	return s.g.AppendEncodedAfter(dst, after, limit), nil
}

func (s generatorTrail) LastSeq() (uint64, error) {
	if s.g == nil {
		return 0, otelaudit.ErrNilGenerator
	}
	return s.g.Stats().LastSeq, nil
}
