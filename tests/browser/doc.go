// Package browser holds the end-to-end test of the live debugging page: a
// real headless Chromium against a live quickstart server. It is its own
// module so that the library's dependencies stay small.
package browser
