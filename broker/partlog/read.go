package partlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// segView is a segment pinned for reading outside the lock, with the
// readable length captured under it.
type segView struct {
	s     *segment
	start int64 // where to begin walking
	limit int64 // bytes readable
}

func releaseViews(vs []segView) {
	for _, v := range vs {
		v.s.release()
	}
}

// Read returns whole stored batches starting with the one that contains
// offset, at most maxBytes in total except that the first batch is always
// returned whole (KIP-74). It may continue into later segments. offset ==
// LogEndOffset returns (nil, nil); offsets outside [LogStartOffset,
// LogEndOffset] return ErrOffsetOutOfRange. File reads run without the log
// lock, so appends are not blocked.
func (l *Log) Read(offset int64, maxBytes int) ([]byte, error) {
	views, err := l.pinForRead(offset, maxBytes)
	if err != nil || views == nil {
		return nil, err
	}
	defer releaseViews(views)

	var out []byte
	for i, v := range views {
		pos := v.start
		if i == 0 {
			p, found, err := findBatch(v, offset)
			if err != nil {
				return nil, err
			}
			if !found {
				continue // offset falls after this segment's data: next segment
			}
			pos = p
		}
		data, full, err := readWhole(v, pos, maxBytes-len(out), len(out) == 0)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = data
		} else {
			out = append(out, data...)
		}
		if !full || len(out) >= maxBytes {
			break
		}
	}
	return out, nil
}

// pinForRead checks offset and pins the segments a read may touch.
func (l *Log) pinForRead(offset int64, maxBytes int) ([]segView, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	if offset == l.logEnd {
		return nil, nil
	}
	if offset < l.logStart || offset > l.logEnd {
		return nil, fmt.Errorf("%w: offset %d, log has [%d, %d)", ErrOffsetOutOfRange, offset, l.logStart, l.logEnd)
	}
	if offset < l.segs[0].base {
		return nil, fmt.Errorf("%w: offset %d, local log starts at %d", ErrOffsetNotLocal, offset, l.segs[0].base)
	}
	i := l.findSegment(offset)
	var views []segView
	var later int64
	for j := i; j < len(l.segs); j++ {
		s := l.segs[j]
		v := segView{s: s, limit: s.size}
		if j == i {
			v.start = s.lookup(offset)
		} else {
			if later >= int64(maxBytes) {
				break
			}
			later += s.size
		}
		s.acquire()
		views = append(views, v)
	}
	return views, nil
}

// findBatch walks headers from v.start to the first batch whose last offset
// is >= offset.
func findBatch(v segView, offset int64) (int64, bool, error) {
	sc := newScanner(v.s.log, v.start, v.limit, false, 16<<10)
	for {
		h, pos, err := sc.next()
		if errors.Is(err, io.EOF) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("partlog: read segment %d: %w", v.s.base, err)
		}
		if h.LastOffset() >= offset {
			return pos, true, nil
		}
	}
}

// readWhole reads whole batches from pos, up to room bytes (at least the
// first batch when first is set). full reports that it stopped at the end
// of the segment rather than for lack of room.
func readWhole(v segView, pos int64, room int, first bool) ([]byte, bool, error) {
	avail := v.limit - pos
	n := min(int64(max(room, 0)), avail)
	if first {
		var lb [batchLogOverhead]byte
		if _, err := v.s.log.ReadAt(lb[:], pos); err != nil {
			return nil, false, fmt.Errorf("partlog: read segment %d at %d: %w", v.s.base, pos, err)
		}
		size := int64(int32(binary.BigEndian.Uint32(lb[offBatchLength:]))) + batchLogOverhead
		if size > avail || size < BatchHeaderSize {
			return nil, false, fmt.Errorf("partlog: segment %d: bad batch length at %d", v.s.base, pos)
		}
		n = max(n, size)
	}
	if n < BatchHeaderSize {
		return nil, n == avail, nil
	}
	buf := make([]byte, n)
	if _, err := v.s.log.ReadAt(buf, pos); err != nil && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("partlog: read segment %d at %d: %w", v.s.base, pos, err)
	}
	// Cut at the last whole batch.
	end := 0
	for end+batchLogOverhead <= len(buf) {
		size := int(int32(binary.BigEndian.Uint32(buf[end+offBatchLength:]))) + batchLogOverhead
		if size < BatchHeaderSize || end+size > len(buf) {
			break
		}
		end += size
	}
	return buf[:end], end == len(buf) && n == avail, nil
}

// OffsetForTimestamp finds the first batch whose maxTimestamp is >= ts and
// returns its base offset (never below the log start) and that max
// timestamp. ok is false when no batch is that recent. Special timestamps
// (-1 latest, -2 earliest) are the caller's business.
func (l *Log) OffsetForTimestamp(ts int64) (offset, timestamp int64, ok bool, err error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, 0, false, ErrClosed
	}
	logStart := l.logStart
	var views []segView
	for _, s := range l.segs {
		if s.maxTsOffset < 0 || s.maxTs < ts || s.next <= logStart {
			continue
		}
		start := s.timeLookup(ts)
		if logStart > s.base {
			start = max(start, s.lookup(logStart))
		}
		s.acquire()
		views = append(views, segView{s: s, start: start, limit: s.size})
	}
	l.mu.Unlock()
	defer releaseViews(views)

	for _, v := range views {
		sc := newScanner(v.s.log, v.start, v.limit, false, 16<<10)
		for {
			h, _, err := sc.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return 0, 0, false, fmt.Errorf("partlog: read segment %d: %w", v.s.base, err)
			}
			if h.MaxTimestamp >= ts && h.LastOffset() >= logStart {
				return max(h.BaseOffset, logStart), h.MaxTimestamp, true, nil
			}
		}
	}
	return 0, 0, false, nil
}

// MaxTimestamp returns the largest batch maxTimestamp in the log and the
// last offset of the (first) batch holding it, for ListOffsets -3. (-1, -1)
// for an empty log.
func (l *Log) MaxTimestamp() (offset, timestamp int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	offset, timestamp = -1, -1
	for _, s := range l.segs {
		if s.maxTsOffset >= 0 && s.maxTsOffset >= l.logStart && (offset < 0 || s.maxTs > timestamp) {
			offset, timestamp = s.maxTsOffset, s.maxTs
		}
	}
	return offset, timestamp
}
