package auditz

import "net/http"

// statsResponse is otelaudit.Stats with JSON names.
type statsResponse struct {
	Recorded uint64 `json:"recorded"`
	Evicted  uint64 `json:"evicted"`
	Rejected uint64 `json:"rejected"`
	Cleared  uint64 `json:"cleared"`
	Len      int    `json:"len"`
	Capacity int    `json:"capacity"`
	LastSeq  uint64 `json:"last_seq"`
}

// serveStats answers GET /api/stats.
func (h *handler) serveStats(w http.ResponseWriter, _ *http.Request) {
	s := h.g.Stats()
	writeJSON(w, http.StatusOK, statsResponse{
		Recorded: s.Recorded, Evicted: s.Evicted, Rejected: s.Rejected, Cleared: s.Cleared,
		Len: s.Len, Capacity: s.Capacity, LastSeq: s.LastSeq,
	})
}
