package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
)

// checkFile compares the file at path with bbolt's own meta pages before
// bbolt maps it: the page size, the high water mark (the number of pages
// the newest valid meta says the database has), the root and the freelist
// pages, and the freelist page's counts (see checkFreelist). bbolt maps at least 32 KiB and then as much as the meta says, and
// reads pages through the map without comparing them with the file's size:
// a file cut shorter than its meta faults on the first read past its end.
// Refusing it here, with the sizes, is what a truncated store gets.
//
// It reads the meta pages as bbolt v1.5.0 lays them out (db.go, and
// internal/common/meta.go and page.go): a 16-byte page header, then magic,
// version, page size, flags, root page and sequence, freelist page, high
// water mark, transaction ID, and an FNV-64a checksum of the fields before
// it, in the machine's byte order; meta 0 at offset 0 and meta 1 one page
// in, the newer valid one in use.
//
// An empty file is a new store (Open's caller decides whether it may be
// created); a missing file is for bbolt to create.
func checkFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	size := fi.Size()
	if size == 0 || !fi.Mode().IsRegular() {
		return nil
	}
	if size < 2*minPageSize {
		return fmt.Errorf("%w: %s: %d bytes, too short for a bbolt database", ErrNotStore, path, size)
	}
	m0, err0 := readMeta(f, 0)
	pageSize := 0
	if err0 == nil {
		pageSize = int(m0.pageSize)
	} else {
		// bbolt looks for meta 1 at every page size it supports.
		for ps := minPageSize; ps <= maxPageSize && int64(ps) < size-minPageSize; ps *= 2 {
			if m, err := readMeta(f, int64(ps)); err == nil {
				pageSize = int(m.pageSize)
				break
			}
		}
	}
	if pageSize == 0 {
		return fmt.Errorf("%w: %s: no valid bbolt meta page", ErrNotStore, path)
	}
	if pageSize < minPageSize || pageSize > maxPageSize || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("%w: %s: bbolt page size %d", ErrCorrupt, path, pageSize)
	}
	if err0 != nil {
		m0, err0 = readMeta(f, 0)
	}
	m1, err1 := readMeta(f, int64(pageSize))
	// As bbolt chooses: the meta with the higher transaction ID if it is
	// valid, else the other one.
	a, b, errA, errB := m0, m1, err0, err1
	if m1.txid > m0.txid {
		a, b, errA, errB = m1, m0, err1, err0
	}
	m := a
	if errA != nil {
		if errB != nil {
			return fmt.Errorf("%w: %s: no valid bbolt meta page", ErrNotStore, path)
		}
		m = b
	}
	if err := checkMetaHeaders(m0, err0, m1, err1); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	if int(m.pageSize) != pageSize {
		return fmt.Errorf("%w: %s: bbolt meta pages disagree on the page size (%d, %d)", ErrCorrupt, path, pageSize, m.pageSize)
	}
	pages := uint64(size) / uint64(pageSize)
	switch {
	case m.pgid < 4:
		return fmt.Errorf("%w: %s: bbolt meta says %d pages; a database has at least 4", ErrCorrupt, path, m.pgid)
	case m.pgid > pages:
		return fmt.Errorf("%w: %s is truncated: its bbolt meta says it has %d pages of %d bytes, the file has %d bytes (%d whole pages)", ErrCorrupt, path, m.pgid, pageSize, size, pages)
	case m.root < 2 || m.root >= m.pgid:
		return fmt.Errorf("%w: %s: bbolt root page %d outside pages 2 to %d", ErrCorrupt, path, m.root, m.pgid-1)
	case m.freelist == noFreelist:
		// A store always has one (this package never sets bbolt's
		// NoFreelistSync). Without it bbolt would rebuild the freelist
		// when it opens the file, walking every page of every bucket on a
		// goroutine of its own, where a page past the file would end the
		// process before Verify could look.
		return fmt.Errorf("%w: %s: bbolt meta has no freelist page, which a store always has", ErrCorrupt, path)
	case m.freelist < 2 || m.freelist >= m.pgid:
		return fmt.Errorf("%w: %s: bbolt freelist page %d outside pages 2 to %d", ErrCorrupt, path, m.freelist, m.pgid-1)
	}
	if err := checkFreelist(f, m, pageSize); err != nil {
		return fmt.Errorf("%w: %s: bbolt freelist page %d: %w", ErrCorrupt, path, m.freelist, err)
	}
	return nil
}

// checkMetaHeaders checks the page headers of the valid meta pages: page
// 0 and page 1, of the meta type. bbolt opens a file whose meta header is
// wrong, and its next commit rewrites that page whole, but Tx.Check (and so
// Verify) refuses it: refused here, such a file is refused by every kind of
// Open alike, instead of by a read-only Open only.
func checkMetaHeaders(m0 boltMeta, err0 error, m1 boltMeta, err1 error) error {
	for i, m := range [2]boltMeta{m0, m1} {
		if [2]error{err0, err1}[i] != nil {
			continue
		}
		if m.id != uint64(i) || m.flags != metaPageFlag {
			return fmt.Errorf("bbolt meta page %d has the header of page %d of type %#x", i, m.id, m.flags)
		}
	}
	return nil
}

// checkFreelist checks the freelist page against its page and the meta:
// bbolt allocates as many page IDs as its count says when it opens the
// file (a count of 2^40 asks for 8 TiB, and Go cannot survive failing to
// get them), Tx.Check marks every page the overflow count spans, and a
// commit writes to the pages listed, which Tx.Check compares with the pages
// in use but not with the meta pages or the high water mark: a meta page
// listed free would be written over. The count is the header's, or, at
// 0xFFFF, the first 8 bytes after it; the IDs follow, 8 bytes each, within
// the page and its overflow pages, each of a page from 2 to below the high
// water mark.
func checkFreelist(f *os.File, m boltMeta, pageSize int) error {
	var buf [pageHeaderSize + 8]byte
	if _, err := f.ReadAt(buf[:], int64(m.freelist)*int64(pageSize)); err != nil {
		return err
	}
	ne := binary.NativeEndian
	flags, count, overflow := ne.Uint16(buf[8:]), uint64(ne.Uint16(buf[10:])), uint64(ne.Uint32(buf[12:]))
	switch {
	case flags != freelistPageFlag:
		return fmt.Errorf("of type %#x, not a freelist page", flags)
	case overflow >= m.pgid-m.freelist:
		return fmt.Errorf("overflows past the high water mark (%d pages more)", overflow)
	}
	ids := count
	if count == 0xFFFF {
		count = ne.Uint64(buf[pageHeaderSize:])
		ids = count + 1
	}
	if span := (overflow + 1) * uint64(pageSize); count > span || pageHeaderSize+8*ids > span {
		return fmt.Errorf("counts %d free pages, more than its %d bytes hold", count, span)
	}
	off := int64(m.freelist)*int64(pageSize) + pageHeaderSize + 8*int64(ids-count)
	var chunk [4096]byte
	for left := count; left > 0; {
		n := min(left, uint64(len(chunk)/8))
		if _, err := f.ReadAt(chunk[:8*n], off); err != nil {
			return err
		}
		for i := range n {
			if id := ne.Uint64(chunk[8*i:]); id < 2 || id >= m.pgid {
				return fmt.Errorf("lists page %d as free, outside pages 2 to %d", id, m.pgid-1)
			}
		}
		left -= n
		off += int64(8 * n)
	}
	return nil
}

const (
	minPageSize = 1024
	maxPageSize = 1024 << 14 // the largest bbolt looks for
	// pageHeaderSize is bbolt's page header: id, flags, count, overflow.
	pageHeaderSize = 16
	// metaChecksummed is the part of a meta that its checksum covers.
	metaChecksummed = 56
	metaSize        = metaChecksummed + 8
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	noFreelist      = ^uint64(0)
	// freelistPageFlag and metaPageFlag are page types in a page header.
	freelistPageFlag = 0x10
	metaPageFlag     = 0x04
)

type boltMeta struct {
	// id and flags are the page header's: bbolt checks neither when it
	// opens the file, but Tx.Check does (see checkMetaHeaders).
	id                  uint64
	flags               uint16
	pageSize            uint32
	root, freelist      uint64
	pgid, txid          uint64
	magic, version, sum uint64
}

// readMeta reads the bbolt meta page at offset off and validates it as
// bbolt does: magic, version, checksum.
func readMeta(f *os.File, off int64) (boltMeta, error) {
	var buf [pageHeaderSize + metaSize]byte
	if _, err := f.ReadAt(buf[:], off); err != nil {
		return boltMeta{}, err
	}
	b := buf[pageHeaderSize:]
	ne := binary.NativeEndian
	m := boltMeta{
		id:       ne.Uint64(buf[0:]),
		flags:    ne.Uint16(buf[8:]),
		magic:    uint64(ne.Uint32(b[0:])),
		version:  uint64(ne.Uint32(b[4:])),
		pageSize: ne.Uint32(b[8:]),
		root:     ne.Uint64(b[16:]),
		freelist: ne.Uint64(b[32:]),
		pgid:     ne.Uint64(b[40:]),
		txid:     ne.Uint64(b[48:]),
		sum:      ne.Uint64(b[56:]),
	}
	h := fnv.New64a()
	h.Write(b[:metaChecksummed])
	switch {
	case m.magic != boltMagic:
		return m, errors.New("bad magic")
	case m.version != boltVersion:
		return m, errors.New("bad version")
	case m.sum != h.Sum64():
		return m, errors.New("bad checksum")
	}
	return m, nil
}
