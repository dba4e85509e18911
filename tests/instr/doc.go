// Package instr drives the processor with the ecosystem's own
// instrumentations, as a runtime's tools call out through them: otelhttp
// (client and handler), otelsql over the pure-Go SQLite driver, and
// otelgrpc (client and server, the gRPC health service), all on
// 127.0.0.1, under the samplers production services configure.
//
// It is its own module so that these dependencies stay out of the
// library's go.mod; .ci/run runs it.
package instr
