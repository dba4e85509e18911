package auditz

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/internal/jsonstr"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// problem summarizes one trace with errors, failures or denials among the
// recent events.
type problem struct {
	TraceID    string     `json:"trace_id"`
	WorkflowID jsonString `json:"workflow_id,omitempty"`
	AgentID    jsonString `json:"agent_id,omitempty"`
	// Events counts the trace's events in the scanned window, Problems
	// those of them that are problems, split into Errors, Failures and
	// Denials by outcome (an error-typed event without an outcome counts
	// as an error).
	Events   int `json:"events"`
	Problems int `json:"problems"`
	Errors   int `json:"errors"`
	Failures int `json:"failures"`
	Denials  int `json:"denials"`
	// LastType and LastTime are those of the trace's newest problem event.
	LastType jsonString `json:"last_type"`
	LastTime string     `json:"last_time"`

	lastSeq uint64
}

// problemsResponse is the answer of /api/problems: the problem traces,
// the one with the newest problem first.
type problemsResponse struct {
	Problems []problem `json:"problems"`
	Limit    int       `json:"limit"`
	Scanned  int       `json:"scanned"`
	More     bool      `json:"more"`
}

// isProblem says whether e is something an operator debugging the runtime
// wants to see first: a refused or failed action.
func isProblem(e *otelaudit.Event) bool {
	return e.Outcome.Failed() || e.Type.ImpliedOutcome() != ""
}

// serveProblems answers GET /api/problems?limit=n. There is no index of
// problems, so it looks at the scan window of newest events.
func (h *handler) serveProblems(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r.URL.Query(), h.cfg.maxLimit)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	events := h.g.Events(h.cfg.scanWindow)
	byTrace := map[trace.TraceID]*problem{}
	counts := map[trace.TraceID]int{}
	for i := range events {
		e := &events[i]
		if !e.TraceID.IsValid() {
			continue
		}
		counts[e.TraceID]++
		if !isProblem(e) {
			continue
		}
		p := byTrace[e.TraceID]
		if p == nil {
			p = &problem{TraceID: e.TraceID.String()}
			byTrace[e.TraceID] = p
		}
		p.Problems++
		o := e.Outcome
		if o == "" {
			o = e.Type.ImpliedOutcome()
		}
		switch o {
		case otelaudit.Denied:
			p.Denials++
		case otelaudit.Failure:
			p.Failures++
		default:
			p.Errors++
		}
		// Events come oldest first: the last one seen is the newest.
		p.lastSeq, p.LastType, p.LastTime = e.Seq, jsonString(e.Type), e.Time.UTC().Format(time.RFC3339Nano)
		if e.WorkflowID != "" {
			p.WorkflowID = jsonString(e.WorkflowID)
		}
		if e.AgentID != "" {
			p.AgentID = jsonString(e.AgentID)
		}
	}
	resp := problemsResponse{Limit: limit, Scanned: len(events), Problems: make([]problem, 0, min(limit, len(byTrace)))}
	all := make([]*problem, 0, len(byTrace))
	for id, p := range byTrace {
		p.Events = counts[id]
		all = append(all, p)
	}
	// Seq, not time: it is the order the trail received them, and unique.
	slices.SortFunc(all, func(a, b *problem) int { return cmp.Compare(b.lastSeq, a.lastSeq) })
	if len(all) > limit {
		all, resp.More = all[:limit], true
	}
	for _, p := range all {
		resp.Problems = append(resp.Problems, *p)
	}
	writeJSON(w, http.StatusOK, resp)
}

// jsonString is a string from the trail, written as the JSON form of
// events writes strings: bytes that are not valid UTF-8 stay distinct.
type jsonString string

func (s jsonString) MarshalJSON() ([]byte, error) {
	return jsonstr.AppendHTML(nil, string(s)), nil
}
