package auditz

import (
	"net/http"
	"path"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// handler checks every request (method, auth) before the mux sees it, so
// that refusals are uniform JSON whatever the path.
type handler struct {
	g   *otelaudit.Generator
	cfg config
	mux *http.ServeMux
}

// NewHandler returns a read-only http.Handler serving the audit trail of g:
// the JSON endpoints and the page described in the package documentation.
// It serves paths from its root: mount it under a prefix with
// http.StripPrefix, with a trailing slash on the pattern.
//
// A nil g gives a handler that answers every data request with 503 and
// ErrNoGenerator.
func NewHandler(g *otelaudit.Generator, opts ...Option) http.Handler {
	h := &handler{g: g, cfg: newConfig(opts), mux: http.NewServeMux()}
	h.mux.HandleFunc("/api/trace/{traceID}", h.needGenerator(h.serveTrace))
	h.mux.HandleFunc("/api/events", h.needGenerator(h.serveEvents))
	h.mux.HandleFunc("/api/problems", h.needGenerator(h.serveProblems))
	h.mux.HandleFunc("/api/stats", h.needGenerator(h.serveStats))
	h.mux.HandleFunc("/api/coverage/{traceID}", h.needGenerator(h.serveCoverage))
	h.mux.HandleFunc("/api/evidence/{traceID}", h.needGenerator(h.serveEvidence))
	h.mux.HandleFunc("/{$}", servePage)
	// Exact routes for the page's files, no /static/ subtree: a subtree
	// pattern makes the mux redirect /static to /static/, and under
	// http.StripPrefix that Location would leave the mount point.
	for _, name := range staticNames() {
		h.mux.HandleFunc("/"+name, func(w http.ResponseWriter, r *http.Request) { serveFile(w, r, name) })
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, ErrNotFound)
	})
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, ErrMethod)
		return
	}
	if h.cfg.auth != nil && !h.cfg.auth(r) {
		writeError(w, http.StatusForbidden, ErrForbidden)
		return
	}
	if !isCleanPath(r.URL.Path) {
		// The mux would redirect to the cleaned path, an absolute one that
		// drops the prefix http.StripPrefix removed. Nothing links to such
		// a path: refuse it rather than send the client off the mount.
		writeError(w, http.StatusNotFound, ErrNotFound)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *handler) needGenerator(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.g == nil {
			writeError(w, http.StatusServiceUnavailable, ErrNoGenerator)
			return
		}
		f(w, r)
	}
}

// isCleanPath reports whether the mux would serve p as it is, without
// redirecting to a cleaned form: p starts with "/" and has no "//", "." or
// ".." element (a trailing slash is kept, as the mux keeps it).
func isCleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if p[len(p)-1] == '/' && c != "/" {
		c += "/"
	}
	return c == p
}
