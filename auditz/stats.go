package auditz

import "net/http"

// statsResponse is otelaudit.Stats with JSON names.
type statsResponse struct {
	Recorded        uint64 `json:"recorded"`
	Evicted         uint64 `json:"evicted"`
	Rejected        uint64 `json:"rejected"`
	Cleared         uint64 `json:"cleared"`
	Len             int    `json:"len"`
	Capacity        int    `json:"capacity"`
	LastSeq         uint64 `json:"last_seq"`
	Durable         uint64 `json:"durable"`
	StoreErrors     uint64 `json:"store_errors"`
	Truncated       uint64 `json:"truncated"`
	Untracked       uint64 `json:"untracked"`
	Bytes           int64  `json:"bytes"`
	MaxBytes        int64  `json:"max_bytes"`
	EvictedForBytes uint64 `json:"evicted_for_bytes"`
	Cut             uint64 `json:"cut"`
	Redacted        uint64 `json:"redacted"`
}

// serveStats answers GET /api/stats.
func (h *handler) serveStats(w http.ResponseWriter, _ *http.Request) {
	s := h.g.Stats()
	writeJSON(w, http.StatusOK, statsResponse{
		Recorded: s.Recorded, Evicted: s.Evicted, Rejected: s.Rejected, Cleared: s.Cleared,
		Len: s.Len, Capacity: s.Capacity, LastSeq: s.LastSeq, Durable: s.Durable, StoreErrors: s.StoreErrors,
		Truncated: s.Truncated, Untracked: s.Untracked, Bytes: s.Bytes, MaxBytes: s.MaxBytes,
		EvictedForBytes: s.EvictedForBytes, Cut: s.Cut, Redacted: s.Redacted,
	})
}
