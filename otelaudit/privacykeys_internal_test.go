package otelaudit

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecretFamiliesListed: the families secretPattern matches are the
// ones SecretPatterns and the README's table tell of: each is named in the
// pattern, and the README gives it as "`<family>*`" or names its root key
// in the row that covers "every key under those families".
func TestSecretFamiliesListed(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(b)
	for _, f := range secretFamilies {
		assert.Contains(t, SecretPatterns[2], f+"*")
		assert.True(t, strings.Contains(readme, "`"+f+"*`") || strings.Contains(readme, "`"+strings.TrimSuffix(f, ".")+"`"),
			"the README lists the family %s", f)
	}
}
