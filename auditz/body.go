package auditz

import (
	"net/http"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// body builds a JSON answer that holds events, up to a cap on its bytes:
// the events that would pass it are left out, and capped says so. The
// answer stays valid JSON whatever is left out.
type body struct {
	b      []byte
	max    int
	capped bool
}

func newBody(max int) *body { return &body{b: make([]byte, 0, min(max, 64<<10)), max: max} }

func (b *body) raw(s string) { b.b = append(b.b, s...) }

// events appends es, comma-separated, as long as they fit: the oldest
// (first) are kept.
func (b *body) events(es []otelaudit.Event) {
	for i := range es {
		n := len(b.b)
		if i > 0 {
			b.b = append(b.b, ',')
		}
		b.b = es[i].AppendJSONHTML(b.b)
		if len(b.b) > b.max {
			b.b = b.b[:n]
			b.capped = true
			return
		}
	}
}

// newest appends es, comma-separated, keeping the newest (last) of them
// that fit: an answer that promises the newest events leaves out the
// older ones when the cap stops it. Each event is encoded once, newest
// first, and the pieces are written oldest first; they take what the cap
// allows and one event more.
func (b *body) newest(es []otelaudit.Event) {
	room := b.max - len(b.b)
	var pieces [][]byte
	for i := len(es) - 1; i >= 0; i-- {
		p := es[i].AppendJSONHTML(nil)
		if room -= len(p) + 1; room < 0 {
			b.capped = true
			break
		}
		pieces = append(pieces, p)
	}
	for i := len(pieces) - 1; i >= 0; i-- {
		if i < len(pieces)-1 {
			b.b = append(b.b, ',')
		}
		b.b = append(b.b, pieces[i]...)
	}
}

func (b *body) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(b.b, '\n'))
}
