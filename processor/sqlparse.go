package processor

import "strings"

// Bounds of parseSQL: only the first maxSQLScan bytes of a query are read
// (a statement names its operation and main table early; the rest may be
// megabytes of values), and an operation or a table name longer than
// maxSQLWord or maxSQLIdent bytes is not one.
const (
	maxSQLScan  = 4096
	maxSQLWord  = 32
	maxSQLIdent = 128
)

// parseSQL reads the operation (the first keyword, upper-cased) and the
// main table of a SQL statement, for database spans whose instrumentation
// gives only the query text (otelsql does). It returns words of the SQL
// grammar and identifiers, never literals: what it returns goes into
// Action and Resource, where query text must never be. Either is empty
// when the statement does not say plainly (a CTE, a statement it does not
// know, a table after maxSQLScan bytes).
func parseSQL(q string) (op, table string) {
	l := sqlLexer{s: q[:min(len(q), maxSQLScan)]}
	t := l.next()
	if t.kind != tokWord || len(t.text) > maxSQLWord || !keyword(t.text) {
		return "", ""
	}
	op = strings.ToUpper(t.text)
	switch op {
	case "SELECT", "DELETE":
		table = l.after("FROM")
	case "INSERT", "REPLACE", "UPSERT", "MERGE":
		table = l.after("INTO")
	case "UPDATE":
		table = l.updateTarget()
	case "CREATE", "DROP", "ALTER", "TRUNCATE":
		table = l.ddlTarget(op == "TRUNCATE")
	}
	return op, table
}

type tokKind uint8

const (
	tokEnd    tokKind = iota
	tokWord           // a keyword or an unquoted identifier
	tokQuoted         // a quoted identifier: "x", `x`, [x]
	tokDot
	tokOther // punctuation, numbers, string literals
)

type token struct {
	kind tokKind
	text string
}

// sqlLexer splits SQL into tokens, skipping comments and string literals
// and tracking parenthesis depth, so that a FROM in a subquery or inside
// a literal is not taken for the statement's own.
type sqlLexer struct {
	s     string
	i     int
	depth int
}

func (l *sqlLexer) next() token {
	for l.i < len(l.s) {
		c := l.s[l.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			l.i++
		case c == '-' && strings.HasPrefix(l.s[l.i:], "--"):
			l.skipTo("\n")
		case c == '/' && strings.HasPrefix(l.s[l.i:], "/*"):
			l.i += 2
			l.skipTo("*/")
		case c == '\'':
			l.i++
			l.skipTo("'")
			return token{kind: tokOther}
		case c == '"' || c == '`' || c == '[':
			end := string(c)
			if c == '[' {
				end = "]"
			}
			l.i++
			start := l.i
			j := strings.Index(l.s[start:], end)
			if j < 0 {
				// Unterminated (or cut at maxSQLScan): not a name.
				l.i = len(l.s)
				return token{kind: tokOther}
			}
			l.i = start + j + len(end)
			return token{kind: tokQuoted, text: l.s[start : start+j]}
		case isWordStart(c):
			start := l.i
			for l.i < len(l.s) && isWordByte(l.s[l.i]) {
				l.i++
			}
			return token{kind: tokWord, text: l.s[start:l.i]}
		case c == '.':
			l.i++
			return token{kind: tokDot}
		default:
			switch c {
			case '(':
				l.depth++
			case ')':
				l.depth--
			}
			l.i++
			for c >= '0' && c <= '9' && l.i < len(l.s) && isWordByte(l.s[l.i]) {
				l.i++
			}
			return token{kind: tokOther}
		}
	}
	return token{kind: tokEnd}
}

// skipTo moves past the next end, or to the end of the input.
func (l *sqlLexer) skipTo(end string) {
	if j := strings.Index(l.s[l.i:], end); j >= 0 {
		l.i += j + len(end)
		return
	}
	l.i = len(l.s)
}

// after returns the identifier after the first keyword kw at the
// statement's own level.
func (l *sqlLexer) after(kw string) string {
	for {
		t := l.next()
		switch {
		case t.kind == tokEnd:
			return ""
		case t.kind == tokWord && l.depth == 0 && strings.EqualFold(t.text, kw):
			return l.ident(l.next())
		}
	}
}

// updateTarget reads UPDATE [OR action] [ONLY] table.
func (l *sqlLexer) updateTarget() string {
	t := l.next()
	if t.kind == tokWord && strings.EqualFold(t.text, "OR") {
		l.next()
		t = l.next()
	}
	if t.kind == tokWord && strings.EqualFold(t.text, "ONLY") {
		t = l.next()
	}
	return l.ident(t)
}

// ddlTarget reads CREATE/DROP/ALTER [modifiers] TABLE|VIEW [IF [NOT]
// EXISTS] name, and TRUNCATE [TABLE] name; other objects name no table.
func (l *sqlLexer) ddlTarget(truncate bool) string {
	for {
		t := l.next()
		if t.kind != tokWord {
			if truncate {
				return l.ident(t)
			}
			return ""
		}
		switch strings.ToUpper(t.text) {
		case "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", "OR", "REPLACE", "VIRTUAL", "MATERIALIZED":
			continue
		case "TABLE", "VIEW":
			t = l.next()
			for t.kind == tokWord && (strings.EqualFold(t.text, "IF") || strings.EqualFold(t.text, "NOT") || strings.EqualFold(t.text, "EXISTS") || strings.EqualFold(t.text, "ONLY")) {
				t = l.next()
			}
			return l.ident(t)
		}
		if truncate {
			return l.ident(t)
		}
		return ""
	}
}

// ident reads a possibly qualified name (schema.table) starting at t.
func (l *sqlLexer) ident(t token) string {
	if t.kind != tokWord && t.kind != tokQuoted {
		return ""
	}
	name := t.text
	for {
		save, depth := l.i, l.depth
		if l.next().kind != tokDot {
			l.i, l.depth = save, depth
			break
		}
		part := l.next()
		if part.kind != tokWord && part.kind != tokQuoted {
			break
		}
		name += "." + part.text
	}
	if name == "" || len(name) > maxSQLIdent || strings.ContainsFunc(name, func(r rune) bool { return r == '\'' || r < ' ' }) {
		return ""
	}
	return name
}

func isWordStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isWordByte(c byte) bool {
	return isWordStart(c) || c >= '0' && c <= '9' || c == '$'
}

// keyword reports whether w can be a SQL keyword: ASCII letters and '_'.
func keyword(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}
