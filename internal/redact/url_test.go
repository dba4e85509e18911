package redact

import (
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

func FuzzURL(f *testing.F) {
	f.Add("https://u:p@h:1/p?q=1#f")
	f.Add("x@y?z#w")
	f.Fuzz(func(t *testing.T, s string) {
		got, _ := URL(s)
		if strings.ContainsAny(got, "?#") {
			t.Fatalf("URL(%q) = %q keeps a query or fragment", s, got)
		}
		if i := strings.Index(got, "//"); i >= 0 {
			auth := got[i+2:]
			if j := strings.IndexByte(auth, '/'); j >= 0 {
				auth = auth[:j]
			}
			if strings.Contains(auth, "@") {
				t.Fatalf("URL(%q) = %q keeps user info", s, got)
			}
		} else if strings.Contains(got, "@") {
			t.Fatalf("URL(%q) = %q keeps an @", s, got)
		}
		if again, _ := URL(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}
