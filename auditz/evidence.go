package auditz

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/evidence"
)

// Prover builds the evidence bundle of a trace of at most max
// events, failing with an error wrapping evidence.ErrTooLarge for a trace
// with more: a *store.Store is one (store.Store.EvidenceUpTo). The handler
// gives its max limit (WithMaxLimit) as max.
type Prover interface {
	EvidenceUpTo(id trace.TraceID, max int) (*evidence.Bundle, error)
}

// WithEvidence gives the handler the Generator's store (or any
// Prover), so that the page shows whether the events of the trace
// on screen are covered by a signed checkpoint and offers their evidence
// bundle for download, and the JSON API answers /api/coverage/{traceID}
// and /api/evidence/{traceID}. The store reads its own file, beside the
// Generator that writes it: only what is durable and signed is proved.
// A trace with more stored events than the max limit (see WithMaxLimit)
// gets no bundle here (413, and the coverage says why): otelaudit proof
// builds it from the file.
func WithEvidence(src Prover) Option {
	return optionFunc(func(c config) config {
		c.evidence = src
		return c
	})
}

// coverageResponse is the answer of /api/coverage/{traceID}: how many of
// the trace's events the Generator holds, how many of them the store's
// newest signed checkpoint covers, and that checkpoint. Covered is false
// with Reason when none can be proved (no signed checkpoint yet, events
// not durable yet, a store written without a key).
type coverageResponse struct {
	TraceID string `json:"trace_id"`
	// Available is false when the handler has no store to prove from
	// (see WithEvidence): the page then shows nothing.
	Available bool   `json:"available"`
	Held      int    `json:"held"`
	Proved    int    `json:"proved"`
	Covered   bool   `json:"covered"`
	Reason    string `json:"reason,omitempty"`
	Origin    string `json:"origin,omitempty"`
	Size      uint64 `json:"tree_size,omitempty"`
	Root      string `json:"root,omitempty"`
}

func (h *handler) evidenceTrace(w http.ResponseWriter, r *http.Request) (trace.TraceID, bool) {
	raw := r.PathValue("traceID")
	id, err := trace.TraceIDFromHex(strings.ToLower(raw))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("%w: trace ID %q is not 32 hex digits, not all zero: %w", ErrBadRequest, raw, err))
		return id, false
	}
	return id, true
}

// serveCoverage answers GET /api/coverage/{traceID}.
func (h *handler) serveCoverage(w http.ResponseWriter, r *http.Request) {
	id, ok := h.evidenceTrace(w, r)
	if !ok {
		return
	}
	if h.cfg.evidence == nil {
		writeJSON(w, http.StatusOK, coverageResponse{TraceID: id.String(), Reason: ErrNoEvidence.Error()})
		return
	}
	resp := coverageResponse{TraceID: id.String(), Available: true, Held: len(h.g.EventsByTrace(id))}
	b, err := h.cfg.evidence.EvidenceUpTo(id, h.cfg.maxLimit)
	if err != nil {
		resp.Reason = h.noBundle(err).Error()
		writeJSON(w, http.StatusOK, resp)
		return
	}
	resp.Proved = len(b.Events)
	resp.Covered = resp.Proved >= resp.Held
	if !resp.Covered {
		resp.Reason = fmt.Sprintf("%d of the trace's events are not durable and signed yet", resp.Held-resp.Proved)
	}
	if cp, err := parseNote(b.Checkpoint); err == nil {
		resp.Origin, resp.Size, resp.Root = cp.Origin, cp.Size, cp.Root.String()
	}
	writeJSON(w, http.StatusOK, resp)
}

// serveEvidence answers GET /api/evidence/{traceID} with the bundle, as
// a download; 404 when no event of the trace is stored or no signed
// checkpoint covers them.
func (h *handler) serveEvidence(w http.ResponseWriter, r *http.Request) {
	id, ok := h.evidenceTrace(w, r)
	if !ok {
		return
	}
	if h.cfg.evidence == nil {
		writeError(w, http.StatusNotFound, ErrNoEvidence)
		return
	}
	b, err := h.cfg.evidence.EvidenceUpTo(id, h.cfg.maxLimit)
	if errors.Is(err, evidence.ErrTooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, h.noBundle(err))
		return
	}
	if err != nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("%w: %w", ErrNotFound, err))
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="evidence-%s.json"`, id))
	writeJSON(w, http.StatusOK, b)
}

// noBundle says why the source gave no bundle, in the words an answer
// carries.
func (h *handler) noBundle(err error) error {
	if errors.Is(err, evidence.ErrTooLarge) {
		return fmt.Errorf("the trace has more than %d stored events, the most one bundle from this page holds: build its bundle with otelaudit proof --db", h.cfg.maxLimit)
	}
	return err
}
