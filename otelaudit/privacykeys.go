package otelaudit

import (
	"bytes"
	"strings"
)

// The two lists every Policy applies: the attributes known to be safe,
// which the default level keeps, and the attributes known to carry
// secrets, which no level keeps unless Policy.Keep names them exactly.
// They are the one definition of both: the span processor, Record and the
// README's tables all go by them (TestPrivacyTablesInREADME checks the
// README against them).

// keyClass says what a Policy knows about an attribute key.
type keyClass uint8

const (
	// classSafe: an identifier, method, status code, name or count of the
	// semantic conventions (or this project's audit.*): kept at every
	// level.
	classSafe keyClass = 1 << iota
	// classSecret: carries credentials, query literals or prompt content:
	// kept at no level unless Keep names the key exactly.
	classSecret
	// classURL: a URL whose user info, query string and fragment are
	// secrets and are cut away; the rest is kept like a safe key's.
	classURL
	// classReserved: the otelaudit.* keys the Generator writes itself
	// (see AttrRedacted, AttrTruncated): a caller's are removed.
	classReserved
)

// SafeKeys are the attribute keys LevelMetadata keeps, besides every key
// starting with NamePrefix, "audit." (this project's own, set for the
// trail on purpose), that is no known secret ("audit.password" is one).
// URL keys among them (URLKeys) lose their user info, query and fragment.
var SafeKeys = []string{
	// Who and which run.
	"gen_ai.agent.id", "gen_ai.agent.name", "gen_ai.agent.version", "agent.id",
	"gen_ai.conversation.id", "workflow.id", "workflow.name", "workflow.run_id",
	"node.id", "node.type", "tenant.id", "session.id",
	// GenAI operations, tools and models.
	"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.system",
	"gen_ai.request.model", "gen_ai.response.model", "gen_ai.response.id",
	"gen_ai.response.finish_reasons", "gen_ai.output.type", "gen_ai.data_source.id",
	"gen_ai.tool.name", "gen_ai.tool.call.id", "gen_ai.tool.type", "gen_ai.prompt.name",
	"gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
	"gen_ai.evaluation.name", "gen_ai.evaluation.score.label", "gen_ai.evaluation.score.value",
	// HTTP.
	"http.request.method", "http.request.method_original", "http.request.method.original",
	"http.response.status_code", "http.route", "http.request.resend_count",
	"http.request.body.size", "http.response.body.size",
	"url.scheme", "url.path", "url.template", "url.domain", "url.port", "url.full", "url.original",
	"server.address", "server.port", "network.protocol.name", "network.protocol.version",
	"network.transport", "user_agent.original",
	"http.method", "http.status_code", "http.url", "http.target", "http.scheme", "http.route.template",
	// Databases.
	"db.system.name", "db.system", "db.namespace", "db.name", "db.collection.name", "db.sql.table",
	"db.operation.name", "db.operation", "db.query.summary", "db.response.status_code",
	"db.operation.batch.size", "db.stored_procedure.name", "db.response.returned_rows",
	// RPC.
	"rpc.system.name", "rpc.system", "rpc.service", "rpc.method", "rpc.method_original",
	"rpc.response.status_code", "rpc.grpc.status_code",
	// Messaging.
	"messaging.system", "messaging.operation.name", "messaging.operation.type",
	"messaging.destination.name", "messaging.consumer.group.name", "messaging.message.id",
	"messaging.batch.message_count",
	// Errors.
	"error.type", "exception.type",
}

// URLKeys are the attributes that hold URLs: their user info, query string
// and fragment are secrets, cut away at every level unless Keep names the
// key; the rest is kept. The captured headers http.request.header.<name>
// and http.response.header.<name> whose <name> is referer, referrer,
// location or content-location are cut alike, each of their values.
var URLKeys = []string{"url.full", "url.original", "http.url", "http.target",
	// Paths and templates hold no query by the conventions; one a runtime
	// puts there is cut all the same.
	"url.path", "url.template", "http.route", "http.route.template"}

// SecretKeys are the attribute keys removed at every level unless Keep
// names them exactly. The patterns of SecretPatterns come on top. Both,
// and URLKeys, are matched whatever the case of a key: "DB.STATEMENT" is
// removed, "Url.Full" cut.
var SecretKeys = []string{
	// URL parts that are nothing but secrets.
	"url.query", "url.fragment",
	// Query text with its literals (db.query.summary is kept).
	"db.query.text", "db.statement",
	// Command lines, which carry the credentials given as flags
	// (process.executable.name and .path are kept).
	"process.command_args", "process.command_line",
	// GenAI content, current conventions.
	"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
	"gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.tool.definitions",
	"gen_ai.retrieval.documents", "gen_ai.retrieval.query.text", "gen_ai.evaluation.explanation",
	// GenAI content, deprecated conventions (gen_ai.event.content: the
	// attribute instrumentations wrote on the content events).
	"gen_ai.prompt", "gen_ai.completion", "gen_ai.event.content",
	// OpenLLMetry.
	"traceloop.entity.input", "traceloop.entity.output", "llm.prompts", "llm.completions",
	// OpenInference.
	"input.value", "output.value", "llm.input_messages", "llm.output_messages",
	"llm.choices", "llm.function_call", "llm.prompt_template.template",
	"llm.prompt_template.variables", "message.content", "message.contents",
	"message.function_call_arguments_json", "tool_call.function.arguments",
	"document.content", "retrieval.documents", "reranker.input_documents",
	"reranker.output_documents", "reranker.query", "embedding.embeddings", "embedding.text",
	"embedding.vector", "llm.tools", "tool.json_schema", "tool.parameters", "message.tool_calls",
	"image.url", "audio.url", "audio.transcript", "video.url", "evaluation.explanation", "annotation.explanation",
}

// SecretPatterns describe the secret keys that are families rather than
// names, as the README's table lists them. secretPattern implements them;
// the families of secretFamilies are listed from it.
var SecretPatterns = []string{
	"http.request.header.<name>, http.response.header.<name>, rpc.request.metadata.<name>, rpc.response.metadata.<name>, rpc.grpc.request.metadata.<name>, rpc.grpc.response.metadata.<name>: where <name> is authorization, proxy-authorization, cookie or set-cookie, or contains api-key, apikey, token, secret, password, passwd, credential or session (- and _ alike, any case)",
	"gen_ai.prompt.<n>.*, gen_ai.completion.<n>.* (OpenLLMetry; <n> a number)",
	"every key under one of the OpenInference and OpenLLMetry families followed by a dot (llm.input_messages.0.message.content, retrieval.documents.3.document.content, llm.prompts.0, llm.tools.0.tool.json_schema, ...): " +
		strings.Join(secretFamilies, "*, ") + "*",
	"any key whose last dot-separated part (in any case) ends with password, passwd, secret, api_key, api-key, apikey, token, private_key, private-key, privatekey, credential or credentials (client_secret, x_api_key, github_token, accessToken), or is authorization or cookie, alone or after _ or - (proxy_authorization, session_cookie)",
}

// builtinKeys classifies the exact keys of the lists above; keys not in it
// go through secretPattern.
var builtinKeys = func() *keyTable {
	m := map[string]keyClass{}
	for _, k := range SafeKeys {
		m[k] |= classSafe
	}
	for _, k := range URLKeys {
		m[k] |= classURL
	}
	for _, k := range SecretKeys {
		m[k] = classSecret
	}
	t := &keyTable{}
	for k, c := range m {
		t.put(k, c)
	}
	return t
}()

// keyTable is a fixed set of keys and their classes, looked up on every
// attribute of every event: an open-addressing table whose hash reads
// four bytes of the key and its length, instead of hashing all of it as a
// map does (the keys of the lists differ in those already), so that a
// lookup is a few loads and one string comparison.
type keyTable struct {
	slots [keyTableSize]struct {
		key   string
		class keyClass
	}
}

// keyTableSize is a power of two several times the number of keys in the
// lists, so that probe runs stay short.
const keyTableSize = 1024

func keyHash(k string) uint32 {
	n := uint32(len(k))
	if n == 0 {
		return 0
	}
	h := n*0x9e3779b1 ^ uint32(k[0])*0x85ebca6b ^ uint32(k[n-1])*0xc2b2ae35 ^ uint32(k[n/2])*0x27d4eb2f ^ uint32(k[n*3/4])*0x165667b1
	return (h ^ h>>15) & (keyTableSize - 1)
}

func (t *keyTable) put(k string, c keyClass) {
	for i := keyHash(k); ; i = (i + 1) & (keyTableSize - 1) {
		if t.slots[i].key == "" {
			t.slots[i].key, t.slots[i].class = k, c
			return
		}
	}
}

func (t *keyTable) get(k string) (keyClass, bool) {
	if k == "" {
		return 0, false
	}
	for i := keyHash(k); ; i = (i + 1) & (keyTableSize - 1) {
		switch t.slots[i].key {
		case k:
			return t.slots[i].class, true
		case "":
			return 0, false
		}
	}
}

// secretFamilies are the secret keys that start families of keys, flattened
// with a dot (OpenInference writes lists as llm.input_messages.0.message.role).
var secretFamilies = []string{
	"llm.input_messages.", "llm.output_messages.", "llm.prompts.", "llm.completions.", "llm.choices.",
	"llm.tools.", "llm.request.functions.",
	"retrieval.documents.", "reranker.input_documents.", "reranker.output_documents.",
	"message.contents.", "message_content.", "message.tool_calls.",
	"embedding.embeddings.",
	"db.query.parameter.", "db.operation.parameter.",
}

// secretFamiliesByLetter holds secretFamilies by their first letter, so
// that secretPattern, which runs for every key no list names, compares a
// key with the few families it can be in.
var secretFamiliesByLetter = func() (m [256][]string) {
	for _, f := range secretFamilies {
		m[f[0]] = append(m[f[0]], f)
	}
	return m
}()

// classify returns what the lists say of key. The secrets and URL keys
// are found whatever the case of key: OTel keys are case-sensitive, but
// "DB.STATEMENT" carries what db.statement does. The safe keys are
// matched exactly: another case is no key the lists know to be safe.
func classify(key string) keyClass {
	if c, ok := builtinKeys.get(key); ok {
		return c
	}
	switch {
	case strings.HasPrefix(key, reservedTypePrefix):
		return classReserved
	case secretPattern(key):
		return classSecret
	case urlHeader(key):
		return classURL
	}
	if hasUpperASCII(key) {
		lower := strings.ToLower(key)
		if strings.HasPrefix(lower, reservedTypePrefix) {
			return classReserved
		}
		if c, ok := builtinKeys.get(lower); ok && c&(classSecret|classURL) != 0 {
			return c &^ classSafe
		}
		if secretPattern(lower) {
			return classSecret
		}
		if urlHeader(lower) {
			return classURL
		}
	}
	if strings.HasPrefix(key, NamePrefix) {
		// This project's own, unless named as a secret.
		return classSafe
	}
	return 0
}

func hasUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// secretPattern reports whether key matches one of SecretPatterns. It
// runs for every attribute key no list names, so it looks only at the
// families that start with the key's first letter.
func secretPattern(key string) bool {
	if key == "" {
		return false
	}
	switch key[0] {
	case 'h':
		for _, p := range [...]string{"http.request.header.", "http.response.header."} {
			if name, ok := strings.CutPrefix(key, p); ok {
				return secretHeader(name)
			}
		}
	case 'r':
		if strings.HasPrefix(key, "rpc.") {
			for _, p := range [...]string{"rpc.request.metadata.", "rpc.response.metadata.",
				"rpc.grpc.request.metadata.", "rpc.grpc.response.metadata."} {
				if name, ok := strings.CutPrefix(key, p); ok {
					return secretHeader(name)
				}
			}
		}
	case 'g':
		for _, p := range [...]string{"gen_ai.prompt.", "gen_ai.completion."} {
			if rest, ok := strings.CutPrefix(key, p); ok && indexed(rest) {
				return true
			}
		}
	}
	for _, p := range secretFamiliesByLetter[key[0]] {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	last := key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		last = key[i+1:]
	}
	if len(last) < len("token") {
		return false
	}
	var buf [64]byte
	return secretLastPart(lowerASCII(buf[:0], last))
}

// secretEndings are the words that make a key's last part a secret when
// it ends with them, whatever precedes them: "x_api_key", "github_token",
// "accessToken", "clientSecret".
var secretEndings = [...]string{"password", "passwd", "secret", "api_key", "api-key", "apikey", "token",
	"private_key", "private-key", "privatekey", "credential", "credentials"}

// secretWords are the words that make a key's last part a secret when it
// is one of them or ends with '_' or '-' and one: "proxy_authorization",
// "session_cookie", but not "preauthorization".
var secretWords = [...]string{"authorization", "cookie"}

// secretLastPart reports whether a key's last part, in lower case, names a
// secret whatever comes before it.
func secretLastPart(last []byte) bool {
	for _, w := range secretEndings {
		if bytes.HasSuffix(last, []byte(w)) {
			return true
		}
	}
	for _, w := range secretWords {
		if n := len(last) - len(w); n >= 0 && string(last[n:]) == w && (n == 0 || last[n-1] == '_' || last[n-1] == '-') {
			return true
		}
	}
	return false
}

// indexed reports whether s starts with a number followed by the end or a
// dot: the <n> of gen_ai.prompt.<n>.content. (gen_ai.prompt.name is a name
// of the current conventions, safe.)
func indexed(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && (i == len(s) || s[i] == '.')
}

// urlHeaders are the captured headers whose values are URLs: cut as the
// URL keys are.
var urlHeaders = [...]string{"referer", "referrer", "location", "content-location"}

// urlHeader reports whether key is a captured header whose values are
// URLs (see urlHeaders).
func urlHeader(key string) bool {
	if key == "" || key[0] != 'h' {
		return false
	}
	for _, p := range [...]string{"http.request.header.", "http.response.header."} {
		if name, ok := strings.CutPrefix(key, p); ok {
			for _, h := range urlHeaders {
				if strings.EqualFold(name, h) {
					return true
				}
			}
		}
	}
	return false
}

// secretHeaderNames are the header (and gRPC metadata) names that are
// credentials themselves; secretHeaderParts those that name one in part.
var (
	secretHeaderNames = []string{"authorization", "proxy-authorization", "cookie", "set-cookie"}
	secretHeaderParts = []string{"api-key", "apikey", "token", "secret", "password", "passwd", "credential", "session"}
)

// secretHeader reports whether a captured header's name is a credential.
func secretHeader(name string) bool {
	var buf [64]byte
	n := lowerASCII(buf[:0], name)
	for i, c := range n {
		if c == '_' {
			n[i] = '-'
		}
	}
	for _, s := range secretHeaderNames {
		if string(n) == s {
			return true
		}
	}
	for _, s := range secretHeaderParts {
		if bytes.Contains(n, []byte(s)) {
			return true
		}
	}
	return false
}

// lowerASCII appends s in lower case to b, for lookups that do not
// allocate.
func lowerASCII(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}
