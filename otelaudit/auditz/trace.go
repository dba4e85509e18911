package auditz

import (
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// traceResponse is the answer of /api/trace/{traceID}. Total is how many
// events the trace has; Events holds the oldest of them up to the limit,
// and Truncated says when that is not all.
type traceResponse struct {
	TraceID   string      `json:"trace_id"`
	Total     int         `json:"total"`
	Truncated bool        `json:"truncated"`
	Events    []jsonEvent `json:"events"`
}

// serveTrace answers GET /api/trace/{traceID}[?limit=n]. The oldest events
// are the ones kept when a trace is cut: a trail is read from its start,
// and the workflow's own start event is the root of the timeline.
func (h *handler) serveTrace(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("traceID")
	// Accept upper case too: people paste IDs from tools that print it.
	id, err := trace.TraceIDFromHex(strings.ToLower(raw))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("%w: trace ID %q is not 32 hex digits, not all zero: %w", ErrBadRequest, raw, err))
		return
	}
	q := r.URL.Query()
	limit := h.cfg.maxLimit
	if q.Has("limit") {
		if limit, err = limitParam(q, h.cfg.maxLimit); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
	}
	// EventsByTrace decodes every held event of the trace before the limit
	// cuts them: the Generator has no limited index query yet.
	events := h.g.EventsByTrace(id)
	resp := traceResponse{TraceID: id.String(), Total: len(events)}
	if len(events) > limit {
		events, resp.Truncated = events[:limit], true
	}
	resp.Events = toJSONEvents(events)
	writeJSON(w, http.StatusOK, resp)
}
