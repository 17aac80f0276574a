// Package spool is a bounded on-disk FIFO of byte records, so that events
// produced while the broker is unreachable survive the outage and a restart.
//
// Layout: append-only segment files (000…001.seg, 000…002.seg, …) and a small
// "head" file holding the read position (segment and offset). A record is a
// 4-byte big-endian length, a 4-byte CRC-32C of the data, then the data.
// Append fsyncs each record before it returns, so an acknowledged Append is
// on disk. Ack rewrites the head file without fsync: losing that update in a
// crash only means the record is delivered again, which the at-least-once
// contract allows (subscribers dedupe by event id).
//
// After a crash the last record of the last segment may be torn; Open drops
// it (and logs that it did) instead of failing.
//
// A Spool is safe for one appender and one reader in different goroutines.
package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ErrFull is returned by Append when the record does not fit in the
// configured maximum; the caller must count and report it.
var ErrFull = errors.New("spool full")

// ErrEmpty is returned by Ack when there is no record to acknowledge.
var ErrEmpty = errors.New("spool empty")

const (
	headerSize  = 8
	segExt      = ".seg"
	headFile    = "head"
	minSegBytes = 4 << 10
	maxSegBytes = 8 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Option tunes Open.
type Option func(*Spool)

// WithLogger sets where recovery and clean-up problems are reported.
// It defaults to slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Spool) { s.log = l } }

// withSegmentSize sets the size at which a new segment file is started.
// It defaults to maxBytes/8, clamped to 4 KiB..8 MiB. Disk use may exceed
// maxBytes by up to one segment, because acknowledged records are reclaimed a
// segment at a time.
func withSegmentSize(n int64) Option { return func(s *Spool) { s.segMax = n } }

type segment struct {
	id   uint64
	size int64 // bytes of valid records in the file
}

// Spool is a bounded on-disk FIFO. Use Open to create one.
type Spool struct {
	dir      string
	maxBytes int64
	segMax   int64
	log      *slog.Logger

	mu      sync.Mutex
	segs    []segment // oldest first; the last one is appended to
	w       *os.File  // append handle of segs[len-1]
	r       *os.File  // read handle of segs[0]; nil until needed
	readOff int64     // offset of the head record in segs[0]
	count   int       // records not yet acknowledged
	used    int64     // bytes (with headers) of records not yet acknowledged
	closed  bool
}

// Open opens or creates the spool in dir, holding at most maxBytes of
// unacknowledged records (headers included). Records left by a previous run
// and not acknowledged are delivered again.
func Open(dir string, maxBytes int64, opts ...Option) (*Spool, error) {
	if maxBytes <= headerSize {
		return nil, fmt.Errorf("spool %s: max bytes %d is too small, use at least a few KiB", dir, maxBytes)
	}
	s := &Spool{dir: dir, maxBytes: maxBytes, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	if s.segMax <= 0 {
		s.segMax = min(max(maxBytes/8, minSegBytes), maxSegBytes)
	}
	s.log = s.log.With("spool", dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: create directory %s: %w (check spool_dir and its permissions)", dir, err)
	}
	if err := s.recover(); err != nil {
		_ = s.closeFiles() // the recovery error is the one to report
		return nil, err
	}
	return s, nil
}

func segName(id uint64) string { return fmt.Sprintf("%020d%s", id, segExt) }

func (s *Spool) segPath(id uint64) string { return filepath.Join(s.dir, segName(id)) }

// recover lists the segments, validates every record, drops a torn tail and
// positions the reader at the persisted head.
func (s *Spool) recover() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: read directory %s: %w", s.dir, err)
	}
	var ids []uint64
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, segExt) {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSuffix(name, segExt), 10, 64)
		if err != nil {
			s.log.Warn("spool: ignoring unexpected file", "file", name)
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)

	headSeg, headOff, ok := s.readHead()
	if !ok && len(ids) > 0 {
		headSeg, headOff = ids[0], 0
	}
	if len(ids) > 0 && !slices.Contains(ids, headSeg) {
		// The head segment was fully read and removed; start at the next one.
		headOff = 0
		if headSeg < ids[0] {
			headSeg = ids[0]
		}
	}
	for _, id := range ids {
		if id < headSeg {
			// Fully acknowledged before a crash interrupted its removal.
			if err := os.Remove(s.segPath(id)); err != nil {
				return fmt.Errorf("spool: remove acknowledged segment %s: %w", s.segPath(id), err)
			}
			continue
		}
		last := id == ids[len(ids)-1]
		size, n, used, err := s.scan(id, last, headSeg, headOff)
		if err != nil {
			return err
		}
		if id == headSeg {
			headOff = min(headOff, size)
			// headOff must be a record boundary; scan counted from the first
			// boundary at or after it.
			s.readOff = s.firstBoundary(id, headOff)
		}
		s.segs = append(s.segs, segment{id: id, size: size})
		s.count += n
		s.used += used
	}
	if len(s.segs) == 0 {
		id := uint64(1)
		if len(ids) > 0 {
			id = ids[len(ids)-1] + 1
		}
		if headSeg >= id {
			id = headSeg + 1
		}
		s.segs = []segment{{id: id}}
		s.readOff = 0
	}
	w, err := os.OpenFile(s.segPath(s.segs[len(s.segs)-1].id), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool: open segment for append: %w", err)
	}
	s.w = w
	s.syncDir()
	if s.count > 0 {
		s.log.Info("spool: records left from a previous run will be delivered", "records", s.count, "bytes", s.used)
	}
	return nil
}

// readHead returns the persisted read position.
func (s *Spool) readHead() (seg uint64, off int64, ok bool) {
	b, err := os.ReadFile(filepath.Join(s.dir, headFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, false
	}
	if err == nil {
		var n int
		n, err = fmt.Sscanf(string(b), "%d %d\n", &seg, &off)
		if err == nil && (n != 2 || off < 0) {
			err = errors.New("malformed")
		}
	}
	if err != nil {
		// Starting from the oldest segment re-delivers records: allowed.
		s.log.Warn("spool: unreadable head position, delivering from the oldest record", "err", err)
		return 0, 0, false
	}
	return seg, off, true
}

// scan validates segment id record by record and returns its valid size, and
// the count and bytes of records at or after headOff (when id is headSeg; all
// of them when id is after it). A bad record ends the segment: the file is
// truncated there, which is expected for the tail of the last segment after
// a crash and logged louder otherwise.
func (s *Spool) scan(id uint64, last bool, headSeg uint64, headOff int64) (size int64, n int, used int64, err error) {
	path := s.segPath(id)
	f, err := os.OpenFile(path, os.O_RDWR, 0o600)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("spool: open segment %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("spool: stat segment %s: %w", path, err)
	}
	var off int64
	var reason string
	for off < st.Size() {
		data, rerr := readRecordAt(f, off, st.Size())
		if rerr != nil {
			reason = rerr.Error()
			break
		}
		rec := headerSize + int64(len(data))
		if id > headSeg || off >= headOff {
			n++
			used += rec
		}
		off += rec
	}
	if off < st.Size() {
		lost := st.Size() - off
		if last {
			s.log.Warn("spool: dropping a torn record at the end (interrupted write)", "segment", path, "offset", off, "bytes", lost, "reason", reason)
		} else {
			s.log.Error("spool: corrupt segment, records after the damage are lost", "segment", path, "offset", off, "bytes", lost, "reason", reason)
		}
		if err := f.Truncate(off); err != nil {
			return 0, 0, 0, fmt.Errorf("spool: truncate damaged segment %s: %w", path, err)
		}
	}
	return off, n, used, nil
}

// firstBoundary returns the first record start at or after off in segment id
// (which has been validated by scan).
func (s *Spool) firstBoundary(id uint64, off int64) int64 {
	if off == 0 {
		return 0
	}
	f, err := os.Open(s.segPath(id))
	if err != nil {
		return 0
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	var pos int64
	for pos < off && pos < st.Size() {
		data, err := readRecordAt(f, pos, st.Size())
		if err != nil {
			break
		}
		pos += headerSize + int64(len(data))
	}
	return pos
}

// readRecordAt reads and checks the record at off of a file of size bytes.
func readRecordAt(f *os.File, off, size int64) ([]byte, error) {
	var hdr [headerSize]byte
	if size-off < headerSize {
		return nil, errors.New("truncated header")
	}
	if _, err := f.ReadAt(hdr[:], off); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	l := int64(binary.BigEndian.Uint32(hdr[:4]))
	if l > size-off-headerSize {
		return nil, errors.New("truncated data")
	}
	data := make([]byte, l)
	if _, err := f.ReadAt(data, off+headerSize); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read data: %w", err)
	}
	if crc32.Checksum(data, crcTable) != binary.BigEndian.Uint32(hdr[4:]) {
		return nil, errors.New("checksum mismatch")
	}
	return data, nil
}

// Append adds a record at the tail and returns once it is on disk. It
// returns an error wrapping ErrFull when the record does not fit.
func (s *Spool) Append(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("spool: append after close")
	}
	rec := int64(headerSize + len(b))
	if s.used+rec > s.maxBytes || len(b) > int(^uint32(0)) {
		return fmt.Errorf("spool %s: %w: %d bytes pending of %d, record of %d bytes (raise the spool size or restore the broker)", s.dir, ErrFull, s.used, s.maxBytes, rec)
	}
	tail := &s.segs[len(s.segs)-1]
	if tail.size >= s.segMax {
		if err := s.roll(); err != nil {
			return err
		}
		tail = &s.segs[len(s.segs)-1]
	}
	buf := make([]byte, rec)
	binary.BigEndian.PutUint32(buf[:4], uint32(len(b)))
	binary.BigEndian.PutUint32(buf[4:8], crc32.Checksum(b, crcTable))
	copy(buf[headerSize:], b)
	if _, err := s.w.Write(buf); err != nil {
		// Cut a partial record so that the next Append starts on a boundary.
		_ = s.w.Truncate(tail.size)
		return fmt.Errorf("spool: write %s: %w", s.w.Name(), err)
	}
	if err := s.w.Sync(); err != nil {
		_ = s.w.Truncate(tail.size)
		return fmt.Errorf("spool: fsync %s: %w", s.w.Name(), err)
	}
	tail.size += rec
	s.count++
	s.used += rec
	return nil
}

// roll starts a new tail segment.
func (s *Spool) roll() error {
	id := s.segs[len(s.segs)-1].id + 1
	w, err := os.OpenFile(s.segPath(id), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("spool: create segment: %w", err)
	}
	if err := s.w.Close(); err != nil {
		s.log.Warn("spool: close segment", "err", err)
	}
	s.w = w
	s.segs = append(s.segs, segment{id: id})
	s.syncDir()
	return nil
}

// syncDir makes a new segment's directory entry durable, so that fsynced
// records in it are not lost with the entry after a power cut.
func (s *Spool) syncDir() {
	d, err := os.Open(s.dir)
	if err != nil {
		s.log.Warn("spool: open directory for fsync", "err", err)
		return
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		s.log.Warn("spool: fsync directory", "err", err)
	}
}

// Peek returns a copy of the head record, or ok=false when the spool is empty.
func (s *Spool) Peek() (data []byte, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false, errors.New("spool: peek after close")
	}
	if s.count == 0 {
		return nil, false, nil
	}
	s.skipFinished()
	r, err := s.reader()
	if err != nil {
		return nil, false, err
	}
	data, err = readRecordAt(r, s.readOff, s.segs[0].size)
	if err != nil {
		return nil, false, fmt.Errorf("spool: head record of %s at %d: %w", r.Name(), s.readOff, err)
	}
	return data, true, nil
}

// reader returns the read handle of the head segment.
func (s *Spool) reader() (*os.File, error) {
	if s.r == nil {
		r, err := os.Open(s.segPath(s.segs[0].id))
		if err != nil {
			return nil, fmt.Errorf("spool: open segment for reading: %w", err)
		}
		s.r = r
	}
	return s.r, nil
}

// skipFinished removes head segments that have been read to the end.
func (s *Spool) skipFinished() {
	for len(s.segs) > 1 && s.readOff >= s.segs[0].size {
		if s.r != nil {
			_ = s.r.Close()
			s.r = nil
		}
		old := s.segs[0].id
		s.segs = s.segs[1:]
		s.readOff = 0
		s.writeHead()
		if err := os.Remove(s.segPath(old)); err != nil {
			s.log.Warn("spool: remove finished segment", "segment", s.segPath(old), "err", err)
		}
	}
}

// Ack removes the head record after it was delivered.
func (s *Spool) Ack() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("spool: ack after close")
	}
	if s.count == 0 {
		return ErrEmpty
	}
	s.skipFinished()
	r, err := s.reader()
	if err != nil {
		return err
	}
	var hdr [headerSize]byte
	if _, err := r.ReadAt(hdr[:], s.readOff); err != nil {
		return fmt.Errorf("spool: read head record header: %w", err)
	}
	rec := headerSize + int64(binary.BigEndian.Uint32(hdr[:4]))
	s.readOff += rec
	s.count--
	s.used -= rec
	s.writeHead()
	s.skipFinished()
	return nil
}

// writeHead persists the read position; see the package doc for why it is
// not fsynced.
func (s *Spool) writeHead() {
	tmp := filepath.Join(s.dir, headFile+".tmp")
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d %d\n", s.segs[0].id, s.readOff)
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		s.log.Warn("spool: persist read position (records may be delivered again after a restart)", "err", err)
		return
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, headFile)); err != nil {
		s.log.Warn("spool: persist read position (records may be delivered again after a restart)", "err", err)
	}
}

// Len returns the number of records not yet acknowledged.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Bytes returns the bytes (headers included) of records not yet acknowledged.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// Close releases the files. Records not acknowledged stay on disk.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.closeFiles()
}

func (s *Spool) closeFiles() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
		s.r = nil
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
		s.w = nil
	}
	return errors.Join(errs...)
}
