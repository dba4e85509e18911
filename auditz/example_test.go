package auditz_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/auditz"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Mount the handler on an admin mux under a prefix, let only requests with
// the operators' token through, and ask it what happened in a trace.
func ExampleNewHandler() {
	audit := otelaudit.NewGenerator()
	id := trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	_, _ = audit.Record(context.Background(), otelaudit.Event{
		Type: otelaudit.TrustDenied, TraceID: id, AgentID: "billing", Resource: "payments", Outcome: otelaudit.Denied,
	})

	admin := http.NewServeMux()
	admin.Handle("/debug/audit/", http.StripPrefix("/debug/audit", auditz.NewHandler(audit,
		auditz.WithAuth(func(r *http.Request) bool { return r.Header.Get("X-Admin-Token") == "s3cret" }),
		auditz.WithMaxLimit(500),
	)))
	srv := httptest.NewServer(admin)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/debug/audit/api/trace/"+id.String(), nil)
	req.Header.Set("X-Admin-Token", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var trail struct {
		TraceID string `json:"trace_id"`
		Events  []struct {
			Seq     uint64 `json:"seq"`
			Type    string `json:"type"`
			AgentID string `json:"agent_id"`
			Outcome string `json:"outcome"`
		} `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&trail); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, trail.TraceID)
	for _, e := range trail.Events {
		fmt.Println(e.Seq, e.Type, e.AgentID, e.Outcome)
	}

	// Without the token: refused.
	resp, err = http.Get(srv.URL + "/debug/audit/api/stats")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// 200 OK 4bf92f3577b34da6a3ce929d0e0e4736
	// 1 trust_denied billing denied
	// 403 Forbidden
}
