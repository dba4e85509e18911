package processor

import (
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Semantic-convention keys of calls, as the ecosystem's instrumentations
// emit them (otelhttp and otelgrpc v0.72.0, otelsql v0.44.0, checked
// by running them), plus the older names still emitted by instrumentations
// that have not moved on (marked Legacy).
const (
	keyHTTPMethod          attribute.Key = "http.request.method"
	keyHTTPMethodOriginal  attribute.Key = "http.request.method.original"
	keyHTTPMethodLegacy    attribute.Key = "http.method"
	keyURLFull             attribute.Key = "url.full"
	keyHTTPURLLegacy       attribute.Key = "http.url"
	keyHTTPStatus          attribute.Key = "http.response.status_code"
	keyHTTPStatusLegacy    attribute.Key = "http.status_code"
	keyURLScheme           attribute.Key = "url.scheme"
	keyURLPath             attribute.Key = "url.path"
	keyHTTPRoute           attribute.Key = "http.route"
	keyServerAddress       attribute.Key = "server.address"
	keyServerPort          attribute.Key = "server.port"
	keyDBSystem            attribute.Key = "db.system.name"
	keyDBSystemLegacy      attribute.Key = "db.system"
	keyDBNamespace         attribute.Key = "db.namespace"
	keyDBNameLegacy        attribute.Key = "db.name"
	keyDBCollection        attribute.Key = "db.collection.name"
	keyDBTableLegacy       attribute.Key = "db.sql.table"
	keyDBOperation         attribute.Key = "db.operation.name"
	keyDBOperationLegacy   attribute.Key = "db.operation"
	keyDBQuerySummary      attribute.Key = "db.query.summary"
	keyDBQueryText         attribute.Key = "db.query.text"
	keyDBStatementLegacy   attribute.Key = "db.statement"
	keyRPCSystem           attribute.Key = "rpc.system.name"
	keyRPCSystemLegacy     attribute.Key = "rpc.system"
	keyRPCService          attribute.Key = "rpc.service"
	keyRPCMethod           attribute.Key = "rpc.method"
	keyRPCStatus           attribute.Key = "rpc.response.status_code"
	keyRPCGRPCStatusLegacy attribute.Key = "rpc.grpc.status_code"

	keyMessagingSystem        attribute.Key = "messaging.system"
	keyMessagingOperationName attribute.Key = "messaging.operation.name"
	keyMessagingOperationType attribute.Key = "messaging.operation.type"
	keyMessagingDestination   attribute.Key = "messaging.destination.name"
	keyGenAIProvider          attribute.Key = "gen_ai.provider.name"
	keyGenAISystemLegacy      attribute.Key = "gen_ai.system"
	keyGenAIRequestModel      attribute.Key = "gen_ai.request.model"
	keyGenAIResponseModel     attribute.Key = "gen_ai.response.model"
)

// otelsqlPrepare is the span name otelsql gives to preparing a statement:
// it carries the query text, but only the statement's execution (another
// span) touches the data.
const otelsqlPrepare = "sql.conn.prepare"

// droppedKV stands for a call attribute whose key the Policy drops:
// present, so it still classifies the span, but without a value to lend.
var droppedKV attribute.KeyValue

// loc is where a call attribute is in the scanned slice: index+1, 0 when
// absent, droppedLoc when its key is dropped. Small, so that the fields
// every scan zeroes stay small.
type loc uint16

const droppedLoc loc = 1<<16 - 1

// call locates the semantic-convention attributes of a call in the scanned
// slice. The scan only notes where they are; their values are read, and
// Action and Resource built, only for the spans that are calls.
type call struct {
	attrs []attribute.KeyValue

	method, methodOriginal, urlFull, httpStatus          loc
	urlScheme, urlPath, route, serverAddress, serverPort loc

	dbSystem, dbNamespace, dbCollection, dbOperation, dbSummary, dbQuery loc

	rpcSystem, rpcService, rpcMethod, rpcStatus loc

	msgSystem, msgOperation, msgOperationType, msgDestination loc

	aiOperation, aiProvider, aiModel, aiResponseModel loc
}

// at notes attribute i of c.attrs at l (dropped: present, no value). An
// attribute past the first 65,534 of a span is not located.
func (c *call) at(l *loc, i int, dropped bool) {
	switch {
	case dropped:
		*l = droppedLoc
	case i < int(droppedLoc)-1:
		*l = loc(i + 1)
	}
}

// note locates attribute i, of key k, if it is a call's.
func (c *call) note(k attribute.Key, i int, dropped bool) {
	var l *loc
	switch k {
	case keyHTTPMethod, keyHTTPMethodLegacy:
		l = &c.method
	case keyHTTPMethodOriginal:
		l = &c.methodOriginal
	case keyURLFull, keyHTTPURLLegacy:
		l = &c.urlFull
	case keyHTTPStatus, keyHTTPStatusLegacy:
		l = &c.httpStatus
	case keyURLScheme:
		l = &c.urlScheme
	case keyURLPath:
		l = &c.urlPath
	case keyHTTPRoute:
		l = &c.route
	case keyServerAddress:
		l = &c.serverAddress
	case keyServerPort:
		l = &c.serverPort
	case keyDBSystem, keyDBSystemLegacy:
		l = &c.dbSystem
	case keyDBNamespace, keyDBNameLegacy:
		l = &c.dbNamespace
	case keyDBCollection, keyDBTableLegacy:
		l = &c.dbCollection
	case keyDBOperation, keyDBOperationLegacy:
		l = &c.dbOperation
	case keyDBQuerySummary:
		l = &c.dbSummary
	case keyDBQueryText, keyDBStatementLegacy:
		l = &c.dbQuery
	case keyRPCSystem, keyRPCSystemLegacy:
		l = &c.rpcSystem
	case keyRPCService:
		l = &c.rpcService
	case keyRPCMethod:
		l = &c.rpcMethod
	case keyRPCStatus, keyRPCGRPCStatusLegacy:
		l = &c.rpcStatus
	case keyMessagingSystem:
		l = &c.msgSystem
	case keyMessagingOperationName:
		l = &c.msgOperation
	case keyMessagingOperationType:
		l = &c.msgOperationType
	case keyMessagingDestination:
		l = &c.msgDestination
	case keyGenAIProvider, keyGenAISystemLegacy:
		l = &c.aiProvider
	case keyGenAIRequestModel:
		l = &c.aiModel
	case keyGenAIResponseModel:
		l = &c.aiResponseModel
	default:
		return
	}
	// A dropped key still says what the span is, but lends nothing to
	// Action or Resource.
	c.at(l, i, dropped)
}

// callKinds reports whether a span of this kind can be a call (see
// callKind): only such spans have their call attributes located.
func callKinds(kind trace.SpanKind, serverSpans bool) bool {
	return outbound(kind) || kind == trace.SpanKindServer && serverSpans
}

// kv is the attribute at l; nil when absent, droppedKV when dropped.
func (c *call) kv(l loc) *attribute.KeyValue {
	switch l {
	case 0:
		return nil
	case droppedLoc:
		return &droppedKV
	}
	return &c.attrs[l-1]
}

// class says which kind of call the attributes describe, if any. A span
// that has attributes of several is the most specific one: messaging and
// RPC are often carried over HTTP.
func (c *call) class() class {
	switch {
	case c.msgSystem != 0 || c.msgDestination != 0 || c.msgOperationType != 0:
		return classMessaging
	case c.rpcSystem != 0 || c.rpcMethod != 0 || c.rpcService != 0:
		return classRPC
	case c.dbSystem != 0 || c.dbQuery != 0 || c.dbOperation != 0 || c.dbSummary != 0 || c.dbCollection != 0:
		return classDB
	case c.method != 0 || c.urlFull != 0:
		return classHTTP
	}
	return classNone
}

// callKind reports whether a span of class c and this kind is a call the
// default rules audit. The conventions give every call its kind: HTTP,
// database and RPC calls are client spans (server spans only with
// WithServerSpans); messaging is producer, consumer or client. A span of
// another kind with such attributes is something else (a handler's inner
// span, a test fixture) and is not a call. GenAI model calls are named by
// gen_ai.operation.name alone, since a model may run in process (internal).
func callKind(c class, kind trace.SpanKind, serverSpans bool) bool {
	switch c {
	case classModel:
		return true
	case classMessaging:
		return outbound(kind)
	case classDB:
		return kind == trace.SpanKindClient
	}
	return kind == trace.SpanKindClient || kind == trace.SpanKindServer && serverSpans
}

// dbStatement reports whether a database span runs a statement (has an
// operation, a summary or a query), rather than the driver's bookkeeping:
// otelsql's sql.rows, sql.conn.reset_session, sql.conn.ping,
// sql.connector.connect, sql.conn.begin_tx, sql.tx.commit/rollback carry
// no query, and sql.conn.prepare (named) only prepares.
func (c *call) dbStatement(spanName string) bool {
	if c.dbOperation == 0 && c.dbSummary == 0 && c.dbQuery == 0 {
		return false
	}
	return spanName != otelsqlPrepare
}

// sval is a located attribute's string value; "" when absent or dropped.
func sval(kv *attribute.KeyValue) string {
	if kv == nil {
		return ""
	}
	switch kv.Value.Type() {
	case attribute.STRING:
		return kv.Value.AsString()
	case attribute.INVALID:
		return ""
	}
	return kv.Value.Emit()
}

// ival is a located attribute's integer value (an int, or a string of
// digits as some instrumentations send).
func ival(kv *attribute.KeyValue) (int64, bool) {
	if kv == nil {
		return 0, false
	}
	switch kv.Value.Type() {
	case attribute.INT64:
		return kv.Value.AsInt64(), true
	case attribute.STRING:
		n, err := strconv.ParseInt(kv.Value.AsString(), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// action is what a call did: the HTTP method, the database operation, the
// RPC method, the messaging operation, the GenAI operation. Empty when the
// attributes do not say (the span name is used then).
func (f *fields) callAction(s sdktrace.ReadOnlySpan) string {
	c := &f.call
	switch f.class {
	case classHTTP:
		m := sval(c.kv(c.method))
		if m == "_OTHER" {
			if o := sval(c.kv(c.methodOriginal)); o != "" {
				return o
			}
		}
		return m
	case classDB:
		if op := sval(c.kv(c.dbOperation)); op != "" {
			return op
		}
		if op, _ := cutWord(sval(c.kv(c.dbSummary))); op != "" {
			return op
		}
		op, _ := parseSQL(sval(c.kv(c.dbQuery)))
		return op
	case classRPC:
		m := sval(c.kv(c.rpcMethod))
		if c.rpcService == 0 {
			// rpc.method is fully qualified ("pkg.Service/Method")
			// since the RPC conventions of semconv 1.37.
			if i := strings.LastIndexByte(m, '/'); i >= 0 {
				return m[i+1:]
			}
		}
		return m
	case classMessaging:
		if op := sval(c.kv(c.msgOperation)); op != "" {
			return op
		}
		if op := sval(c.kv(c.msgOperationType)); op != "" {
			return op
		}
		switch s.SpanKind() {
		case trace.SpanKindProducer:
			return "send"
		case trace.SpanKindConsumer:
			return "process"
		}
	case classModel:
		return sval(c.kv(c.aiOperation))
	}
	return ""
}

// callResource is what a call touched, never with a query string, a
// fragment, user info or query text (see resource.go).
func (f *fields) callResource() string {
	c := &f.call
	switch f.class {
	case classHTTP:
		if u := sval(c.kv(c.urlFull)); u != "" {
			return urlResource(u)
		}
		path := sval(c.kv(c.route))
		if path == "" {
			path = sval(c.kv(c.urlPath))
		}
		return composeURL(sval(c.kv(c.urlScheme)), sval(c.kv(c.serverAddress)), sval(c.kv(c.serverPort)), path)
	case classDB:
		coll := sval(c.kv(c.dbCollection))
		if coll == "" {
			_, coll = cutWord(sval(c.kv(c.dbSummary)))
		}
		if coll == "" {
			_, coll = parseSQL(sval(c.kv(c.dbQuery)))
		}
		return locator(sval(c.kv(c.dbSystem)), "db", sval(c.kv(c.serverAddress)), sval(c.kv(c.serverPort)), sval(c.kv(c.dbNamespace)), coll)
	case classRPC:
		m := sval(c.kv(c.rpcMethod))
		if s := sval(c.kv(c.rpcService)); s != "" {
			return s + "/" + m
		}
		return m
	case classMessaging:
		return locator(sval(c.kv(c.msgSystem)), "messaging", sval(c.kv(c.serverAddress)), sval(c.kv(c.serverPort)), "", sval(c.kv(c.msgDestination)))
	case classModel:
		model := sval(c.kv(c.aiModel))
		if model == "" {
			model = sval(c.kv(c.aiResponseModel))
		}
		if p := sval(c.kv(c.aiProvider)); p != "" {
			if model == "" {
				return p
			}
			return p + "/" + model
		}
		return model
	}
	return ""
}

// callOutcome is what the call's own status says, for HTTP and RPC, whose
// statuses distinguish a refusal from a failure; empty otherwise (the span
// status decides then).
//
// HTTP: 1xx-3xx success, 401 and 403 denied, other 4xx failure, 5xx (and
// codes outside 100-599) error; no status code at all (a transport error)
// leaves it to the span status. RPC (gRPC codes, as names or numbers): OK
// success, PERMISSION_DENIED and UNAUTHENTICATED denied, anything else
// error.
func (f *fields) callOutcome() otelaudit.Outcome {
	c := &f.call
	switch f.class {
	case classHTTP:
		code, ok := ival(c.kv(c.httpStatus))
		switch {
		case !ok:
			return ""
		case code == 401 || code == 403:
			return otelaudit.Denied
		case code >= 100 && code < 400:
			return otelaudit.Success
		case code >= 400 && code < 500:
			return otelaudit.Failure
		}
		return otelaudit.Error
	case classRPC:
		if c.rpcStatus == 0 || c.rpcStatus == droppedLoc {
			return ""
		}
		switch s := sval(c.kv(c.rpcStatus)); s {
		case "OK", "0":
			return otelaudit.Success
		case "PERMISSION_DENIED", "7", "UNAUTHENTICATED", "16":
			return otelaudit.Denied
		}
		return otelaudit.Error
	}
	return ""
}

// isCall reports whether the span's attributes are those of a call, which
// then give its events' Action and Resource.
func (f *fields) isCall() bool { return f.class >= classHTTP }
