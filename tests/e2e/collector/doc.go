// Command collector is the OpenTelemetry Collector the end-to-end tests
// send to: built from the official Collector modules, with the OTLP
// receiver, the Collector's file exporter (collector-contrib's
// fileexporter, at the release that goes with these modules) for log
// records, and one exporter of its own, jsonlines, which appends every
// batch of spans it is given to a file as one line of OTLP JSON. The
// OTLP/HTTP exporter and collector-contrib's file_storage extension are
// there for the README's audit configuration, which a test runs.
//
// The file exporter is what a user configures to keep audit records in a
// file; the tests read what it writes. It is configured with rotation,
// under which it writes each batch straight to the file; without rotation
// it buffers up to flush_interval in memory, and a SIGKILL loses batches
// the client was told were delivered (the kill and restart test fails
// that way).
//
// The tests judge delivery by that file, so the exporter acknowledges an
// export only once its line is written: there is no sending queue and no
// retry between the receiver's answer to the client and the file. An export
// the client saw succeed is in the file even when the collector is
// SIGKILLed right after, which is what lets the tests kill and restart it
// and still demand that nothing acknowledged is missing.
//
// Run it as any collector:
//
//	collector --config config.yaml
//
// with a config such as
//
//	receivers:
//	  otlp:
//	    protocols:
//	      grpc:
//	        endpoint: 127.0.0.1:4317
//	exporters:
//	  jsonlines:
//	    path: spans.jsonl
//	  file:
//	    path: logs.jsonl
//	    rotation: {max_megabytes: 1024}
//	service:
//	  telemetry:
//	    logs: {level: warn}
//	    metrics: {level: none}
//	  pipelines:
//	    traces: {receivers: [otlp], exporters: [jsonlines]}
//	    logs: {receivers: [otlp], exporters: [file]}
package main
