package auditz

import (
	"github.com/otelaudit/otelaudit-go/internal/jsonform"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// jsonEvent is the wire shape of an otelaudit.Event, shared with the CLI.
type jsonEvent = jsonform.Event

func toJSONEvents(events []otelaudit.Event) []jsonEvent {
	out := make([]jsonEvent, len(events))
	for i := range events {
		out[i] = jsonform.FromEvent(&events[i])
	}
	return out
}
