package jsonstr

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzAppendString: every string gives valid JSON; valid UTF-8 reads back
// as itself; and two different byte strings never give the same JSON.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "\xff", "\xfe", "\xed\xa0\x80", "é\u2028\"\\\x00<>&", "\U0001F600\xf0\x9f"} {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ja, jb := Append(nil, a), Append(nil, b)
		if !json.Valid(ja) {
			t.Fatalf("invalid JSON for %q: %s", a, ja)
		}
		if a != b && string(ja) == string(jb) {
			t.Fatalf("%q and %q both give %s", a, b, ja)
		}
		if utf8.ValidString(a) {
			var back string
			if err := json.Unmarshal(ja, &back); err != nil || back != a {
				t.Fatalf("%q came back as %q (%v)", a, back, err)
			}
		}
		if h := AppendHTML(nil, a); !json.Valid(h) {
			t.Fatalf("invalid JSON for %q: %s", a, h)
		}
	})
}
