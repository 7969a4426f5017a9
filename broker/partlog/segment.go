package partlog

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

const (
	logExt       = ".log"
	indexExt     = ".index"
	timeIndexExt = ".timeindex"

	indexEntrySize     = 8
	timeIndexEntrySize = 12
)

type indexEntry struct {
	rel uint32 // batch base offset - segment base
	pos uint32 // file position of the batch
}

type timeEntry struct {
	ts  int64  // max timestamp of all batches up to this one
	rel uint32 // last offset of the batch holding ts - segment base
}

// segment is one <base>.log file plus its in-memory indexes. Fields other
// than base/log/refs are guarded by Log.mu.
type segment struct {
	base int64
	dir  string
	fs   fsys
	log  file
	refs atomic.Int32 // the Log holds one; readers and syncers take more

	size            int64 // valid bytes in the log file
	synced          int64 // bytes known to be fsynced
	next            int64 // offset after the last batch (base when empty)
	index           []indexEntry
	tindex          []timeEntry
	bytesSinceIndex int
	maxTs           int64 // largest batch maxTimestamp, -1 if none
	maxTsOffset     int64 // last offset of the batch holding maxTs
	firstAppend     time.Time
	indexFlushed    bool // index files match the in-memory index
}

func segPath(dir string, base int64, ext string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, ext))
}

// parseSegName returns the base offset of a "<base>.log" name.
func parseSegName(name string) (int64, bool) {
	stem, ok := strings.CutSuffix(name, logExt)
	if !ok || len(stem) != 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(stem, 10, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}

func newSegmentStruct(fsy fsys, dir string, base int64, f file) *segment {
	s := &segment{base: base, dir: dir, fs: fsy, log: f, next: base, maxTs: -1, maxTsOffset: -1}
	s.refs.Store(1)
	return s
}

// createSegment creates an empty segment file (replacing any stale one).
func createSegment(fsy fsys, dir string, base int64) (*segment, error) {
	f, err := fsy.OpenFile(segPath(dir, base, logExt), os.O_RDWR|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return nil, fmt.Errorf("create segment %d: %w", base, err)
	}
	return newSegmentStruct(fsy, dir, base, f), nil
}

func (s *segment) acquire() { s.refs.Add(1) }

// release drops a reference and closes the file when it was the last one.
func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.log.Close()
	}
}

func (s *segment) empty() bool { return s.size == 0 }

// noteBatch updates the in-memory indexes for a batch written at pos.
func (s *segment) noteBatch(h BatchHeader, pos int64, interval int, now time.Time) {
	if s.firstAppend.IsZero() {
		s.firstAppend = now
	}
	if s.bytesSinceIndex > interval {
		s.index = append(s.index, indexEntry{rel: uint32(h.BaseOffset - s.base), pos: uint32(pos)})
		s.bytesSinceIndex = 0
		s.noteTime(h)
		s.addTimeEntry()
	} else {
		s.noteTime(h)
	}
	s.bytesSinceIndex += h.Size()
	s.next = h.LastOffset() + 1
	s.indexFlushed = false
}

func (s *segment) noteTime(h BatchHeader) {
	if h.MaxTimestamp > s.maxTs || s.maxTsOffset < 0 {
		s.maxTs = h.MaxTimestamp
		s.maxTsOffset = h.LastOffset()
	}
}

// addTimeEntry records the current max timestamp if it grew.
func (s *segment) addTimeEntry() {
	if s.maxTsOffset < 0 {
		return
	}
	if n := len(s.tindex); n > 0 && s.tindex[n-1].ts >= s.maxTs {
		return
	}
	s.tindex = append(s.tindex, timeEntry{ts: s.maxTs, rel: uint32(s.maxTsOffset - s.base)})
}

// lookup returns the file position of the last indexed batch whose base
// offset is <= offset (0 if none).
func (s *segment) lookup(offset int64) int64 {
	rel := offset - s.base
	if rel <= 0 {
		return 0
	}
	i := sort.Search(len(s.index), func(i int) bool { return int64(s.index[i].rel) > rel })
	if i == 0 {
		return 0
	}
	return int64(s.index[i-1].pos)
}

// timeLookup returns a file position from which to scan for the first batch
// whose maxTimestamp >= ts: all batches before it have smaller timestamps.
func (s *segment) timeLookup(ts int64) int64 {
	i := sort.Search(len(s.tindex), func(i int) bool { return s.tindex[i].ts >= ts })
	if i == 0 {
		return 0
	}
	return s.lookup(s.base + int64(s.tindex[i-1].rel))
}

// writeIndexes writes the index files from the in-memory indexes, adding a
// final time index entry for the segment's max timestamp.
func (s *segment) writeIndexes(sync bool) error {
	s.addTimeEntry()
	ib := make([]byte, 0, len(s.index)*indexEntrySize)
	for _, e := range s.index {
		ib = binary.BigEndian.AppendUint32(ib, e.rel)
		ib = binary.BigEndian.AppendUint32(ib, e.pos)
	}
	tb := make([]byte, 0, len(s.tindex)*timeIndexEntrySize)
	for _, e := range s.tindex {
		tb = binary.BigEndian.AppendUint64(tb, uint64(e.ts))
		tb = binary.BigEndian.AppendUint32(tb, e.rel)
	}
	for _, w := range []struct {
		ext  string
		data []byte
	}{{indexExt, ib}, {timeIndexExt, tb}} {
		if err := s.writeFile(w.ext, w.data, sync); err != nil {
			return err
		}
	}
	s.indexFlushed = true
	return nil
}

func (s *segment) writeFile(ext string, data []byte, sync bool) error {
	name := segPath(s.dir, s.base, ext)
	f, err := s.fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("sync %s: %w", name, err)
		}
	}
	return f.Close()
}

// loadIndexes reads and checks the index files of a sealed segment of the
// given size. It returns false when they are missing or inconsistent.
func (s *segment) loadIndexes() bool {
	ib, err := readWholeFile(s.fs, segPath(s.dir, s.base, indexExt))
	if err != nil || ib == nil || len(ib)%indexEntrySize != 0 {
		return false
	}
	tb, err := readWholeFile(s.fs, segPath(s.dir, s.base, timeIndexExt))
	if err != nil || tb == nil || len(tb)%timeIndexEntrySize != 0 {
		return false
	}
	index := make([]indexEntry, 0, len(ib)/indexEntrySize)
	for i := 0; i < len(ib); i += indexEntrySize {
		e := indexEntry{rel: binary.BigEndian.Uint32(ib[i:]), pos: binary.BigEndian.Uint32(ib[i+4:])}
		if int64(e.pos) >= s.size || e.pos == 0 {
			return false
		}
		if n := len(index); n > 0 && (e.rel <= index[n-1].rel || e.pos <= index[n-1].pos) {
			return false
		}
		index = append(index, e)
	}
	tindex := make([]timeEntry, 0, len(tb)/timeIndexEntrySize)
	for i := 0; i < len(tb); i += timeIndexEntrySize {
		e := timeEntry{ts: int64(binary.BigEndian.Uint64(tb[i:])), rel: binary.BigEndian.Uint32(tb[i+8:])}
		if n := len(tindex); n > 0 && (e.ts <= tindex[n-1].ts || e.rel < tindex[n-1].rel) {
			return false
		}
		tindex = append(tindex, e)
	}
	s.index, s.tindex = index, tindex
	if n := len(tindex); n > 0 {
		s.maxTs = tindex[n-1].ts
		s.maxTsOffset = s.base + int64(tindex[n-1].rel)
	}
	return true
}

// resetIndexes clears the in-memory indexes before a rebuild.
func (s *segment) resetIndexes() {
	s.index, s.tindex = nil, nil
	s.bytesSinceIndex = 0
	s.maxTs, s.maxTsOffset = -1, -1
	s.next = s.base
}

// removeFiles unlinks the segment's files. Open handles (readers) keep
// working until released.
func (s *segment) removeFiles() error {
	var first error
	for _, ext := range []string{logExt, indexExt, timeIndexExt} {
		if err := s.fs.Remove(segPath(s.dir, s.base, ext)); err != nil && !os.IsNotExist(err) && first == nil {
			first = err
		}
	}
	return first
}

// canHold reports whether a batch of size bytes whose last offset is last
// fits the segment without overflowing positions or relative offsets.
func (s *segment) canHold(size int64, last int64, segBytes int64) bool {
	if s.empty() {
		return true
	}
	return s.size+size <= segBytes && last-s.base <= math.MaxUint32 && s.size+size <= math.MaxUint32
}
