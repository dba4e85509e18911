package processor

// OpenSpans is how many spans p remembers now, for tests of the bound and
// of the release at span end.
func OpenSpans(p *Processor) int { return p.open.len() }
