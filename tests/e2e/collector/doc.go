// Command collector is the OpenTelemetry Collector the end-to-end tests
// send to: built from the official Collector modules, with the OTLP
// receiver and one exporter of its own, jsonlines, which appends every
// batch of spans it is given to a file as one line of OTLP JSON.
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
//	service:
//	  telemetry:
//	    logs: {level: warn}
//	    metrics: {level: none}
//	  pipelines:
//	    traces: {receivers: [otlp], exporters: [jsonlines]}
package main
