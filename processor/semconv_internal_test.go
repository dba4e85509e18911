package processor

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseSQL(t *testing.T) {
	tests := []struct {
		query, op, table string
	}{
		{"SELECT name FROM items WHERE id = ?", "SELECT", "items"},
		{"select * from main.items i join other o on i.id = o.id", "SELECT", "main.items"},
		{"  /* app=shop */ -- a comment\n SELECT 1 FROM \"Order Lines\"", "SELECT", "Order Lines"},
		{"SELECT 'FROM secrets' AS x, \"y\" FROM t", "SELECT", "t"},
		{"SELECT (SELECT max(v) FROM inner_t) FROM outer_t", "SELECT", "outer_t"},
		{"SELECT * FROM (SELECT * FROM t) AS sub", "SELECT", ""},
		{"SELECT 1", "SELECT", ""},
		{"INSERT INTO users (name, pw) VALUES ('alice', 'hunter2')", "INSERT", "users"},
		{"insert or replace into `kv` values (1, 'x')", "INSERT", "kv"},
		{"REPLACE INTO [dbo].[t] VALUES (1)", "REPLACE", "dbo.t"},
		{"UPDATE accounts SET balance = 0 WHERE owner = 'bob'", "UPDATE", "accounts"},
		{"UPDATE OR IGNORE accounts SET x = 1", "UPDATE", "accounts"},
		{"UPDATE ONLY public.accounts SET x = 1", "UPDATE", "public.accounts"},
		{"DELETE FROM sessions WHERE token = 'abc'", "DELETE", "sessions"},
		{"CREATE TABLE items (id INTEGER, name TEXT)", "CREATE", "items"},
		{"CREATE TEMP TABLE IF NOT EXISTS scratch (x)", "CREATE", "scratch"},
		{"DROP TABLE IF EXISTS old_items", "DROP", "old_items"},
		{"ALTER TABLE items ADD COLUMN price", "ALTER", "items"},
		{"TRUNCATE TABLE logs", "TRUNCATE", "logs"},
		{"TRUNCATE logs", "TRUNCATE", "logs"},
		{"CREATE INDEX idx ON items (name)", "CREATE", ""},
		{"WITH x AS (SELECT 1) SELECT * FROM x", "WITH", ""},
		{"'not sql'", "", ""},
		{"", "", ""},
		{"SELECT * FROM 'literal'", "SELECT", ""},
		{"SELECT * FROM " + strings.Repeat("x", maxSQLIdent+1), "SELECT", ""},
		{"SELECT " + strings.Repeat("a, ", maxSQLScan) + " FROM late", "SELECT", ""},
		{"SELECT * FROM \"unterminated", "SELECT", ""},
		{"SELECT * FROM \"it's\"", "SELECT", ""},
		{strings.Repeat("S", maxSQLWord+1) + " x", "", ""},
	}
	for _, tt := range tests {
		op, table := parseSQL(tt.query)
		assert.Equal(t, tt.op, op, tt.query)
		assert.Equal(t, tt.table, table, tt.query)
	}
}

// FuzzParseSQL: whatever the query, parseSQL returns a bounded keyword
// and a bounded name, and never the content of a string literal.
func FuzzParseSQL(f *testing.F) {
	for _, q := range []string{
		"SELECT a FROM b", "INSERT INTO t VALUES ('x')", "UPDATE t SET a='b'", "/* c */ DELETE FROM x",
		"CREATE TABLE IF NOT EXISTS \"a\".\"b\" (x)", "SELECT 'FROM s' FROM t", "SELECT * FROM [a", "--\n",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		op, table := parseSQL(q)
		if len(op) > maxSQLWord || strings.Trim(op, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != "" {
			t.Fatalf("operation %q of %q", op, q)
		}
		if len(table) > maxSQLIdent || strings.Contains(table, "'") {
			t.Fatalf("table %q of %q", table, q)
		}
	})
}

func TestURLResource(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.example:8443/v1/items?token=secret#frag", "https://api.example:8443/v1/items"},
		{"http://user:pass@host.example/x?q=1", "http://host.example/x"},
		{"http://[::1]:8080/a?b", "http://[::1]:8080/a"},
		{"https://api.example", "https://api.example"},
		{"https://api.example/?", "https://api.example/"},
		{"/relative/path?x=1", "/relative/path"},
		{"http://us er:p%zz@host/x?k=v", "http://host/x"}, // does not parse: cut by hand
		{"host.example:80/x?y", "host.example:80/x"},
		{"ftp://a@b@c/x#y", "ftp://c/x"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, urlResource(tt.in), tt.in)
	}
}

func TestLocator(t *testing.T) {
	assert.Equal(t, "sqlite:inventory/items", locator("sqlite", "db", "", "", "inventory", "items"))
	assert.Equal(t, "sqlite:items", locator("sqlite", "db", "", "", "", "items"))
	assert.Equal(t, "postgresql://db.internal:5432/shop/orders", locator("postgresql", "db", "db.internal", "5432", "shop", "orders"))
	assert.Equal(t, "db://[::1]/x", locator("", "db", "::1", "", "x", ""))
	assert.Equal(t, "kafka", locator("kafka", "messaging", "", "", "", ""))
	assert.Equal(t, "kafka://broker:9092", locator("kafka", "messaging", "broker", "9092", "", ""))
	assert.Equal(t, "http://[::1]:80/p", composeURL("http", "::1", "80", "/p?q"))
	assert.Equal(t, "//h/p", composeURL("", "h", "", "/p"))
	assert.Equal(t, "/p", composeURL("", "", "", "/p#f"))
}
