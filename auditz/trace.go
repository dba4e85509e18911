package auditz

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// serveTrace answers GET /api/trace/{traceID}[?limit=n]:
//
//	{"trace_id", "total": n, "truncated": bool, "capped": bool, "events": [...]}
//
// Total is how many events the trace has; Events holds the oldest of them
// up to the limit, and Truncated says when that is not all; Capped that
// the answer stopped at the byte cap (WithMaxResponseBytes) before the
// limit. The oldest events are the ones kept when a trace is cut: a trail
// is read from its start, and the workflow's own start event is the root
// of the timeline. Only the events returned are decoded, however long the
// trace.
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
	res := h.g.Query(otelaudit.Query{TraceID: id, Oldest: true, Limit: limit})
	body := newBody(h.cfg.maxBytes)
	body.raw(`{"trace_id":"` + id.String() + `","total":` + strconv.Itoa(res.Total) + `,"truncated":` + strconv.FormatBool(res.More) + `,"events":[`)
	body.events(res.Events)
	body.raw(`],"capped":` + strconv.FormatBool(body.capped) + `}`)
	body.write(w)
}
