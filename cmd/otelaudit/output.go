package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// tableTime is how the tables write times: UTC, RFC 3339 to the
// millisecond, so rows from different machines line up and sort as text.
const tableTime = "2006-01-02T15:04:05.000Z07:00"

// maxCell bounds a table cell, in runes: one long resource URL should not
// push every other column off the screen. --json prints values in full.
const maxCell = 60

// empty stands in for an empty cell, so the columns stay readable.
const empty = "-"

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// writeEventTable writes events as an aligned table, one row each.
func writeEventTable(w io.Writer, events []otelaudit.Event) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "SEQ\tTIME\tTYPE\tOUTCOME\tAGENT\tNODE/ACTION\tRESOURCE\tDURATION")
	for i := range events {
		e := &events[i]
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			e.Seq,
			e.Time.UTC().Format(tableTime),
			cell(string(e.Type)),
			cell(string(e.Outcome)),
			cell(e.AgentID),
			cell(nodeAction(e)),
			cell(e.Resource),
			duration(e.Duration))
	}
	return tw.Flush()
}

func nodeAction(e *otelaudit.Event) string {
	switch {
	case e.NodeID != "" && e.Action != "":
		return e.NodeID + "/" + e.Action
	case e.NodeID != "":
		return e.NodeID
	}
	return e.Action
}

// cell makes s safe and short for a table cell. Values come from the
// audited runtime, so they may hold tabs, newlines or terminal escape
// sequences: those are shown quoted and escaped, never written raw.
func cell(s string) string {
	if s == "" {
		return empty
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			s = strconv.Quote(s)
			break
		}
	}
	if utf8.RuneCountInString(s) > maxCell {
		r := []rune(s)
		s = string(r[:maxCell-1]) + "…"
	}
	return s
}

// duration writes d to a useful precision: microseconds below a second,
// milliseconds above.
func duration(d time.Duration) string {
	switch {
	case d == 0:
		return empty
	case d < time.Millisecond:
		return d.String()
	case d < time.Second:
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// writeEventJSON writes events as JSON Lines, one object per event, for jq
// and other line-oriented tools, in the JSON form the auditz handler
// serves (Event.AppendJSON).
func writeEventJSON(w io.Writer, events []otelaudit.Event) error {
	var b []byte
	for i := range events {
		b = append(events[i].AppendJSON(b[:0]), '\n')
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("event %d: %w", events[i].Seq, err)
		}
	}
	return nil
}

// newJSONEncoder returns an encoder that leaves <, > and & alone: the
// output is read in terminals and by jq, not embedded in HTML.
func newJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// plural returns "1 event", "2 events".
func plural(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatUint(n, 10) + " " + noun + "s"
}

// seqRange describes the Seqs from first to last.
func seqRange(first, last uint64) string {
	if first == last {
		return "seq " + strconv.FormatUint(first, 10)
	}
	return fmt.Sprintf("seq %d to %d", first, last)
}
