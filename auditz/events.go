package auditz

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// serveEvents answers
// GET /api/events?type=&agent=&user=&outcome=&since=&until=&limit=: the
// newest limit events that pass the filters, oldest first, as
//
//	{"events": [...], "limit": n, "scanned": n, "more": bool, "capped": bool}
//
// "more" says that older events passed the filters too (or that the scan
// window ended before the limit was reached), "capped" that the answer
// stopped at the byte cap (WithMaxResponseBytes) before the limit: it then
// holds the newest of the events that fit, the older left out.
//
// since is inclusive and until exclusive (since <= time < until), as in
// every query of the project; both RFC 3339. outcome "" is not a filter,
// outcome=none selects events without one. user is the stored
// HumanOriginID: with pseudonyms, the pseudonym.
//
// type, agent and user walk the Generator's index of that key (the one
// with the fewest events) and decode only the events returned; with only
// outcome, since or until, the newest WithScanWindow events are looked at.
func (h *handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitParam(q, h.cfg.maxLimit)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	query := otelaudit.Query{
		Type:          otelaudit.EventType(q.Get("type")),
		AgentID:       q.Get("agent"),
		HumanOriginID: q.Get("user"),
		Limit:         limit,
	}
	if o := q.Get("outcome"); o != "" {
		query.Outcome = otelaudit.Outcome(o)
		if query.Outcome != otelaudit.NoOutcome && !query.Outcome.Valid() {
			writeError(w, http.StatusBadRequest, fmt.Errorf("%w: outcome %q is not one of success, failure, denied, error, none", ErrBadRequest, o))
			return
		}
	}
	if query.Since, err = timeParam(q, "since"); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if query.Until, err = timeParam(q, "until"); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if !query.Since.IsZero() && !query.Until.IsZero() && !query.Since.Before(query.Until) {
		writeError(w, http.StatusBadRequest, fmt.Errorf("%w: since is not before until (until is exclusive)", ErrBadRequest))
		return
	}
	indexed := query.Type != "" || query.AgentID != "" || query.HumanOriginID != ""
	filtered := query.Outcome != "" || !query.Since.IsZero() || !query.Until.IsZero()
	if !indexed && filtered {
		// No index answers these: a window of recent events bounds the
		// walk.
		query.MaxScan = h.cfg.scanWindow
	}
	res := h.g.Query(query)

	body := newBody(h.cfg.maxBytes)
	body.raw(`{"events":[`)
	body.newest(res.Events)
	body.raw(`],"limit":` + strconv.Itoa(limit) + `,"scanned":` + strconv.Itoa(res.Scanned) +
		`,"more":` + strconv.FormatBool(res.More) + `,"capped":` + strconv.FormatBool(body.capped) + `}`)
	body.write(w)
}
