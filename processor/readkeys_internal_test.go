package processor

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// TestReadKeysAreTheKeysRead: readKeys, the keys a Policy's Drop keeps from
// the processor, are exactly the attribute.Key constants the processor
// declares to read (every one but those of limits.go, which it writes)
// and the audit.* keys that become fields (consumed). A key added to the
// classifier without readKeys would slip past Drop.
func TestReadKeysAreTheKeysRead(t *testing.T) {
	want := map[string]bool{}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := gotoken.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "limits.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if sel, ok := spec.Type.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Key" {
				return true
			}
			for _, v := range spec.Values {
				lit, ok := v.(*ast.BasicLit)
				require.True(t, ok, "%s: a key constant is a string literal", name)
				s, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				want[s] = true
			}
			return true
		})
	}
	require.Greater(t, len(want), 40, "the key constants were found")
	for _, k := range []attribute.Key{otelaudit.KeyEventType, otelaudit.KeyEventSeq, otelaudit.KeyOutcome, otelaudit.KeyAgentID,
		otelaudit.KeyHumanOriginID, otelaudit.KeyWorkflowID, otelaudit.KeyNodeID, otelaudit.KeyAction, otelaudit.KeyResource} {
		if kv := k.String(string(otelaudit.Success)); consumed(&kv) {
			want[string(k)] = true
		}
	}
	got := map[string]bool{}
	for _, k := range readKeys {
		got[string(k)] = true
	}
	assert.Equal(t, want, got)
}
