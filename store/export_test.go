package store

import "time"

// WithClock makes retention read now from fn; tests only.
func WithClock(fn func() time.Time) Option {
	return optionFunc(func(c config) config {
		c.now = fn
		return c
	})
}

// WithoutTree makes Write keep no Merkle tree (no tiles, no tree state):
// the benchmarks' "before" beside it. A store written so does not verify.
func WithoutTree() Option {
	return optionFunc(func(c config) config {
		c.noTree = true
		return c
	})
}

// WithoutReadChecks makes reads return what is stored without checking it
// against the tree Open verified: the benchmarks' anchor beside the checks.
func WithoutReadChecks() Option {
	return optionFunc(func(c config) config {
		c.unchecked = true
		return c
	})
}

// BoltTxStats returns bbolt's totals over the store's write transactions:
// time spent spilling nodes to pages, and writing them (fdatasync
// included); benchmarks only.
func BoltTxStats(s *Store) (spill, write time.Duration) {
	st := s.db.Stats().TxStats
	return st.GetSpillTime(), st.GetWriteTime()
}
