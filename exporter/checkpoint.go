package exporter

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// A Stream that follows a store ships the store's milestone checkpoints
// (see otelaudit.WithCheckpointInterval) beside the events, so that copies
// of the signed trail's checkpoints exist off the machine by default: each
// goes, once the events it covers went, as one more item of the same
// batch (or, kept after them, as Generator.Checkpoint may ask, as soon as
// the Stream finds it), a span (NewStream) or a log record (NewLogStream) of type
// CheckpointType, named audit.otelaudit.checkpoint, whose attributes hold
// the C2SP signed note (AttrCheckpointNote: what a witness, or otelaudit
// consistency --from, reads) and, for queries, its tree size, root and
// origin. audit.event.seq is the Seq of the event the checkpoint ends with.
// WithoutCheckpoints turns it off.
const (
	CheckpointType        otelaudit.EventType = "otelaudit.checkpoint"
	AttrCheckpointNote                        = "otelaudit.checkpoint.note"
	AttrCheckpointSize                        = "otelaudit.checkpoint.size"
	AttrCheckpointRoot                        = "otelaudit.checkpoint.root"
	AttrCheckpointOrigin                      = "otelaudit.checkpoint.origin"
	checkpointActionShip                      = "checkpoint of the trail"
	checkpointResourceFmt                     = "otelaudit://"
)

// checkpointTrail is a Trail that keeps checkpoints: a *store.Store.
type checkpointTrail interface {
	CheckpointsAfter(after, upTo uint64) ([]otelaudit.Checkpoint, error)
}

// CheckpointEvent returns the item a Stream ships for c: an event of type
// CheckpointType carrying its signed note.
func CheckpointEvent(c otelaudit.Checkpoint) otelaudit.Event {
	return otelaudit.Event{
		Seq:      c.Seq,
		Type:     CheckpointType,
		Time:     c.Time,
		Action:   checkpointActionShip,
		Resource: checkpointResourceFmt + c.Origin,
		Attributes: []attribute.KeyValue{
			attribute.String(AttrCheckpointNote, string(c.Note())),
			attribute.Int64(AttrCheckpointSize, int64(c.Size)),
			attribute.String(AttrCheckpointRoot, c.Root.String()),
			attribute.String(AttrCheckpointOrigin, c.Origin),
		},
	}
}
