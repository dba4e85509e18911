package redact

import (
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://api.example:8443/v1/items?token=secret#frag", "https://api.example:8443/v1/items"},
		{"http://user:pass@host.example/x?q=1", "http://host.example/x"},
		{"http://[::1]:8080/a?b", "http://[::1]:8080/a"},
		{"https://api.example", "https://api.example"},
		{"https://api.example/?", "https://api.example/"},
		{"/relative/path?x=1", "/relative/path"},
		{"http://us er:p%zz@host/x?k=v", "http://host/x"},
		{"host.example:80/x?y", "host.example:80/x"},
		{"ftp://a@b@c/x#y", "ftp://c/x"},
		{"https://host/p@th/x", "https://host/p@th/x"},
		{"https://k:s@host", "https://host"},
		{"//k@host/p?q", "//host/p"},
		{"/search?api_key=abc", "/search"},
		{"", ""},
		{"https://h/%zz?x", "https://h/%zz"},
		// A path has no user info: its '@' is data (npm's scoped
		// packages, Medium's users).
		{"/npm/@types/node?token=x", "/npm/@types/node"},
		{"/@alice", "/@alice"},
		{"/a//b@c/d?e", "/a//b@c/d"},
		{"HTTPS://u:p@h/x", "HTTPS://h/x"},
		{"svn+ssh://u@h/r", "svn+ssh://h/r"},
		{"1x://u@h/r", "h/r"},
	}
	for _, tt := range tests {
		got, cut := URL(tt.in)
		if got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if cut != (got != tt.in) {
			t.Errorf("URL(%q) reports cut=%v for %q", tt.in, cut, got)
		}
		if HasURLSecret(tt.in) != cut && cut {
			t.Errorf("HasURLSecret(%q) = false, but URL cuts it", tt.in)
		}
		if again, c := URL(got); again != got || c {
			t.Errorf("URL is not idempotent on %q: %q", got, again)
		}
	}
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GET /v1/charge?api_key=abc", "GET /v1/charge"},
		{"fetch https://u:p@h/x?t=1  then\thttps://h/y#f done", "fetch https://h/x  then\thttps://h/y done"},
		{"approve? alice@example.com", "approve? alice@example.com"},
		{"", ""},
		{"/only?x", "/only"},
		{" lead /a?b trail ", " lead /a trail "},
		{"GET\u00a0/v1/charge?api_key=abc\u3000x", "GET\u00a0/v1/charge\u3000x"},
		{`call "/v1/charge?api_key=abc" api.example/v1?token=t and/or? a@b.example`, `call "/v1/charge api.example/v1 and/or a@b.example`},
	}
	for _, tt := range tests {
		got, cut := Text(tt.in)
		if got != tt.want || cut != (got != tt.in) {
			t.Errorf("Text(%q) = %q, %v, want %q", tt.in, got, cut, tt.want)
		}
	}
}

func FuzzURL(f *testing.F) {
	f.Add("https://u:p@h:1/p?q=1#f")
	f.Add("x@y?z#w")
	f.Fuzz(func(t *testing.T, s string) {
		got, _ := URL(s)
		if strings.ContainsAny(got, "?#") {
			t.Fatalf("URL(%q) = %q keeps a query or fragment", s, got)
		}
		if i := authority(got); i >= 0 {
			auth := got[i:]
			if j := strings.IndexByte(auth, '/'); j >= 0 {
				auth = auth[:j]
			}
			if strings.Contains(auth, "@") {
				t.Fatalf("URL(%q) = %q keeps user info", s, got)
			}
		} else if !strings.HasPrefix(got, "/") && strings.Contains(got, "@") {
			t.Fatalf("URL(%q) = %q keeps an @", s, got)
		}
		if u, err := url.Parse(s); err == nil && u.User != nil && strings.HasPrefix(s, u.Scheme+"://") {
			if p, ok := u.User.Password(); ok && len(p) > 3 && strings.Contains(got, ":"+p+"@") {
				t.Fatalf("URL(%q) = %q keeps the password net/url finds", s, got)
			}
		}
		if again, _ := URL(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}

func FuzzText(f *testing.F) {
	f.Add("GET /a?b=1 https://u:p@h/x#f")
	f.Add("\t/x?y  z")
	f.Add("x\u00a0/p?q")
	f.Fuzz(func(t *testing.T, s string) {
		got, cut := Text(s)
		if cut != (got != s) {
			t.Fatalf("Text(%q) = %q reports cut=%v", s, got, cut)
		}
		for _, w := range strings.Fields(got) {
			if IsURL(w) && strings.ContainsAny(w, "?#") {
				t.Fatalf("Text(%q) = %q keeps a query or fragment in %q", s, got, w)
			}
		}
		if again, c := Text(got); again != got || c {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}
