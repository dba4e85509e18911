package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// checkBolt runs bbolt's own consistency check (Tx.Check): every page
// reachable once, none both reachable and free, none unaccounted for, keys
// in order within each page and between a branch and its children (a
// branch key bit-flipped sends lookups astray while a full walk still sees
// every entry). Check skips inline buckets: walkBucket checks their order.
//
// Tx.Check reads pages on a goroutine of its own, which no guard reaches: a
// fault there would end the process. By the time it runs, Verify's guarded
// walk has read every leaf key and value, every page header on the way and
// the freelist, through the map, without a fault, and refused nested
// buckets, whose pages only Check would read (see walkBucket). What the
// walk did not read is the keys of branch pages, which Check compares:
// checkBranches reads those pages from the file, not the map, and refuses
// any element whose key lies outside its page. Both run under wmu, so that no commit
// changes the tree meanwhile (Tx.Check on a read transaction also reads the
// freelist, which a commit would change under it).
func (s *Store) checkBolt() (err error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	defer guard()(&err)
	return s.db.View(func(tx *bolt.Tx) error {
		if err := checkBranches(f, tx); err != nil {
			return err
		}
		var errs []error
		for e := range tx.Check() {
			// Drained to the end: Check's goroutine waits on every send.
			if len(errs) < maxCheckErrors {
				errs = append(errs, e)
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("%w: bbolt's consistency check: %w", ErrCorrupt, errors.Join(errs...))
		}
		return nil
	})
}

// walkBucket calls fn with every key and value of b, in the order they are
// stored, and refuses what bbolt's Tx.Check would not catch, or would read
// on its own goroutine, unguarded:
//
//   - keys not in strictly ascending order. Tx.Check skips inline buckets
//     (those small enough to live in their parent's page), so in them
//     nothing else sees it; and a walk, which sees every entry whatever
//     the order, would pass entries that lookups, which binary-search,
//     miss: an index swapped out of order hides events from
//     EventsByTrace, while every sum over it matches.
//   - a bucket nested in b, which no store has: its pages are read by
//     nothing here, and first by Tx.Check, where a root page past the
//     file would end the process.
//
// Every bucket of the store is walked with it (the events by the chain's
// own Seq order) before checkBolt runs Tx.Check.
func walkBucket(b *bolt.Bucket, name []byte, fn func(k, v []byte) error) error {
	var last []byte
	return b.ForEach(func(k, v []byte) error {
		switch {
		case v == nil:
			return fmt.Errorf("%w: a bucket %q inside the %s bucket", ErrCorrupt, k, name)
		case last != nil && bytes.Compare(k, last) <= 0:
			return fmt.Errorf("%w: keys of the %s bucket out of order (%x after %x)", ErrCorrupt, name, k, last)
		}
		last = k
		return fn(k, v)
	})
}

// maxCheckErrors is how many of bbolt's findings an error quotes.
const maxCheckErrors = 3

// Page layout of bbolt v1.5.0 (internal/common/page.go): a header of id
// (8), flags (2), count (2), overflow (4); then count elements of 16 bytes.
// A branch element is pos (4), ksize (4), child page id (8), its key pos
// bytes after the element's own start.
const (
	branchPageFlag    = 0x01
	pageElementSize   = 16
	maxBranchDepth    = 64
	branchPosOffset   = 0
	branchKsizeOffset = 4
	branchPgidOffset  = 8
)

// checkBranches walks the branch pages of every bucket's tree, checking
// that every branch element and its key lie within its page, and every
// child page below the high water mark, referenced once. A page's type
// comes from its header, read through the map by Tx.Page on this, guarded,
// goroutine (leaf pages need nothing more: Verify's walk read them whole);
// branch pages are read from the file.
func checkBranches(f *os.File, tx *bolt.Tx) error {
	w := branchWalker{f: f, tx: tx, pageSize: int64(tx.DB().Info().PageSize), seen: map[uint64]bool{}}
	w.hwm = uint64(tx.Size()) / uint64(w.pageSize)
	roots := []uint64{uint64(tx.Cursor().Bucket().Root())}
	err := tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
		roots = append(roots, uint64(b.Root()))
		return nil
	})
	if err != nil {
		return err
	}
	for _, root := range roots {
		if root == 0 {
			continue // an inline bucket: its one page is in its parent's value
		}
		if err := w.page(root, 0); err != nil {
			return fmt.Errorf("%w: bbolt page %d: %w", ErrCorrupt, root, err)
		}
	}
	return nil
}

type branchWalker struct {
	f        *os.File
	tx       *bolt.Tx
	pageSize int64
	hwm      uint64
	seen     map[uint64]bool
	buf      []byte
}

// page checks page id and, if it is a branch page, its elements and
// children.
func (w *branchWalker) page(id uint64, depth int) error {
	switch {
	case depth > maxBranchDepth:
		return fmt.Errorf("branch pages nested more than %d deep", maxBranchDepth)
	case id < 2 || id >= w.hwm:
		return fmt.Errorf("child page %d outside pages 2 to %d", id, w.hwm-1)
	case w.seen[id]:
		return fmt.Errorf("page %d referenced twice", id)
	}
	w.seen[id] = true
	info, err := w.tx.Page(int(id))
	switch {
	case err != nil:
		return err
	case info == nil:
		return fmt.Errorf("page %d past the high water mark", id)
	case info.Type == "leaf":
		// Its elements were read in full by Verify's walk; Tx.Check marks
		// every page its overflow count spans, one map entry each.
		if uint64(info.OverflowCount) >= w.hwm-id {
			return fmt.Errorf("page %d overflows past the high water mark", id)
		}
		return nil
	case info.Type != "branch":
		return fmt.Errorf("page %d of type %s where a branch or leaf page belongs", id, info.Type)
	}
	var hdr [pageElementSize]byte
	if _, err := w.f.ReadAt(hdr[:], int64(id)*w.pageSize); err != nil {
		return err
	}
	ne := binary.NativeEndian
	pid, flags, count, overflow := ne.Uint64(hdr[0:]), ne.Uint16(hdr[8:]), int64(ne.Uint16(hdr[10:])), uint64(ne.Uint32(hdr[12:]))
	switch {
	case pid != id:
		return fmt.Errorf("page %d says it is page %d", id, pid)
	case flags != branchPageFlag:
		return fmt.Errorf("page %d of type %#x in the file, a branch page in the map", id, flags)
	case overflow >= w.hwm-id:
		return fmt.Errorf("page %d overflows past the high water mark", id)
	}
	span := int64(overflow+1) * w.pageSize
	if pageElementSize+count*pageElementSize > span {
		return fmt.Errorf("branch page %d: %d elements do not fit", id, count)
	}
	if int64(cap(w.buf)) < span {
		w.buf = make([]byte, span)
	}
	p := w.buf[:span]
	if _, err := w.f.ReadAt(p, int64(id)*w.pageSize); err != nil {
		return err
	}
	children := make([]uint64, 0, count)
	for i := range count {
		at := pageElementSize + i*pageElementSize
		e := p[at : at+pageElementSize]
		pos, ksize := int64(ne.Uint32(e[branchPosOffset:])), int64(ne.Uint32(e[branchKsizeOffset:]))
		if at+pos+ksize > span {
			return fmt.Errorf("branch page %d: the key of element %d lies outside the page", id, i)
		}
		children = append(children, ne.Uint64(e[branchPgidOffset:]))
	}
	for _, c := range children {
		if err := w.page(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}
