package auditz

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strconv"
)

// The page is static files compiled into the binary: no build step, nothing
// fetched from elsewhere, and no event data in the HTML. The script fetches
// the data from the JSON endpoints and inserts it as text, which is what
// makes hostile attribute values harmless.
//
//go:embed static
var staticFiles embed.FS

// contentTypes are set explicitly rather than sniffed or taken from the
// system's MIME table, which differs between machines: with nosniff, a
// wrong type would stop the browser from running the script.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

func servePage(w http.ResponseWriter, r *http.Request) {
	serveFile(w, r, "static/index.html")
}

// staticNames lists the embedded files the page loads, as "static/NAME";
// the page itself is served at / only.
func staticNames() []string {
	entries, err := fs.ReadDir(staticFiles, "static")
	if err != nil {
		panic("auditz: embedded static files: " + err.Error()) // fixed at build time
	}
	var names []string
	for _, e := range entries {
		if name := "static/" + e.Name(); !e.IsDir() && name != "static/index.html" {
			names = append(names, name)
		}
	}
	return names
}

func serveFile(w http.ResponseWriter, r *http.Request, name string) {
	b, err := fs.ReadFile(staticFiles, name)
	ct, known := contentTypes[path.Ext(name)]
	if err != nil || !known {
		writeError(w, http.StatusNotFound, ErrNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	// Set explicitly so that HEAD, which writes no body, tells the length
	// too.
	h.Set("Content-Length", strconv.Itoa(len(b)))
	// The files change only with the binary; a short cache spares reloads
	// without keeping an old page after an upgrade for long.
	h.Set("Cache-Control", "max-age=60")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}
