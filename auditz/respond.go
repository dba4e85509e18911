package auditz

import (
	"encoding/json"
	"net/http"
)

// contentSecurityPolicy allows the page its own script, style and API and
// nothing else: no inline script (so injected markup could not run even if
// it got in), no other origin, no framing, no plugins.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// setSecurityHeaders is applied to every response, errors included: an
// error page is a page too.
func setSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value handed here is built from types encoding/json always
		// accepts (jsonValue removes the floats it refuses); reaching this is
		// a bug, answered as one rather than with half a body.
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: "auditz: encode response: " + err.Error()})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	// Live data: a cached answer would show a trail that has moved on.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, errorBody{Error: err.Error()})
}
