package otelaudit_test

import (
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// AppendJSON writes an event in the JSON form the auditz handler and the
// CLI speak: every attribute kept in order with its kind, duplicates too,
// and a byte that is not valid UTF-8 kept distinct (\udcff). Appending a
// newline to each, in one buffer reused for every event, writes JSON
// Lines. The hashes are zero here: a Generator fills them in.
func ExampleEvent_AppendJSON() {
	e := otelaudit.Event{
		Seq:      3,
		Type:     otelaudit.TrustVerification,
		Time:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		AgentID:  "billing-agent",
		Resource: "payments://invoices/42",
		Outcome:  otelaudit.Success,
		Duration: 1500 * time.Microsecond,
		Attributes: []attribute.KeyValue{
			attribute.String("approved_by", "alice"),
			attribute.String("approved_by", "bob"),
			attribute.Int("amount", 120),
			attribute.String("memo", "<b>\xff"),
		},
	}
	var b []byte
	b = append(e.AppendJSON(b[:0]), '\n')
	fmt.Printf("%s", b)
	// For a browser, <, > and & are escaped.
	html := string(e.AppendJSONHTML(nil))
	fmt.Println(strings.Contains(html, `"value":"\u003cb\u003e\udcff"`))
	// Output:
	// {"seq":3,"type":"trust_verification","time":"2026-01-02T03:04:05Z","agent_id":"billing-agent","resource":"payments://invoices/42","outcome":"success","duration_ms":1.5,"attributes":[{"key":"approved_by","type":"string","value":"alice"},{"key":"approved_by","type":"string","value":"bob"},{"key":"amount","type":"int64","value":120},{"key":"memo","type":"string","value":"<b>\udcff"}],"hash":"0000000000000000000000000000000000000000000000000000000000000000","prev_hash":"0000000000000000000000000000000000000000000000000000000000000000"}
	// true
}
