// Package auditz serves a live view of an otelaudit Generator over HTTP, for
// debugging a running service: "what happened in trace X?" answered from
// the admin port, the way OTel's zpages shows live spans, except that the
// trail here can be looked up by trace ID.
//
// NewHandler returns an http.Handler to mount on an admin or debug port:
//
//	mux.Handle("/debug/audit/", http.StripPrefix("/debug/audit", auditz.NewHandler(g)))
//
// It answers GET and HEAD only (anything else is 405) and never changes the
// Generator. Its JSON endpoints are
//
//	GET /api/trace/{traceID}   the events of one trace, oldest first
//	GET /api/events            recent events, filtered by type, agent,
//	                           user, outcome, since, until; newest limit
//	GET /api/problems          traces whose recent events include an error,
//	                           a failure or a denial
//	GET /api/stats             the Generator's Stats
//
// and GET / is one HTML page (search by trace ID, a timeline of the trace,
// recent problems, stats) built from files embedded in the binary: it
// fetches nothing from the internet and needs no build step.
//
// Every response is bounded, in events and in bytes: no endpoint returns
// more than the handler's max limit of events (WithMaxLimit), and no
// answer with events builds more than WithMaxResponseBytes of JSON (the
// events past it are left out: a trace's newest, the event list's oldest;
// and the answer says "capped"). The work is
// bounded by the limit too: /api/trace and the type, agent and user
// filters of /api/events walk the Generator's index of that key newest
// first (oldest first for a trace) and decode only the events they return,
// reading the others' times and outcomes in place; the filters that no
// index answers (outcome, since, until alone) look at a window of recent
// events (WithScanWindow). since is inclusive and until exclusive, as in
// every query of the project. Errors are JSON objects {"error": "..."}
// with a 4xx or 5xx status.
//
// Events are in the JSON form the otelaudit CLI writes too
// (otelaudit.Event.AppendJSON): attributes as a list of {"key", "type",
// "value"}, every one kept in order, duplicates too, and bytes that are
// not valid UTF-8 marked as the escapes \udc80-\udcff so that distinct
// values stay distinct.
//
// On loopback, an address such as localhost:8080 keeps other machines out
// but not web pages in the operator's browser that rebind their DNS name to
// 127.0.0.1: check the Host header in WithAuth too.
//
// The page is static: it carries no event data, which its script fetches
// from the JSON endpoints and puts into the document as text nodes only, so
// attribute values recorded by a runtime, hostile or not, can never become
// markup. Every response sets X-Content-Type-Options: nosniff and a
// Content-Security-Policy that allows nothing but the handler's own files.
//
// An audit trail says who did what: mount the handler where only operators
// reach it, or give it WithAuth to decide per request.
package auditz
