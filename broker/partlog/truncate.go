package partlog

import (
	"errors"
	"fmt"
	"io"
)

// TruncateTo removes every batch that holds an offset >= offset, for a
// follower that diverged from its leader (truncation by leader epoch). When
// offset falls inside a batch the whole batch goes, so the new log end may
// be below offset. Producer state and the leader epoch cache are rebuilt
// for the shorter log. offset must be >= LogStartOffset; offset >= the log
// end is a no-op. It returns the new log end.
func (l *Log) TruncateTo(offset int64) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if l.writeErr != nil {
		return l.logEnd, l.writeErr
	}
	if offset >= l.logEnd {
		return l.logEnd, nil
	}
	if offset < l.logStart {
		return l.logEnd, fmt.Errorf("%w: truncate to %d below log start %d", ErrOffsetOutOfRange, offset, l.logStart)
	}
	if offset < l.segs[0].base {
		return l.logEnd, fmt.Errorf("%w: truncate to %d below local log start %d", ErrOffsetNotLocal, offset, l.segs[0].base)
	}
	i := l.findSegment(offset)
	s := l.segs[i]
	pos, found, err := findBatch(segView{s: s, start: s.lookup(offset), limit: s.size}, offset)
	if err != nil {
		return l.logEnd, err
	}
	if !found {
		pos = s.size
	}
	for _, later := range l.segs[i+1:] {
		if err := later.removeFiles(); err != nil {
			l.writeErr = fmt.Errorf("partlog: truncate: %w", err)
			return l.logEnd, l.writeErr
		}
		later.release()
	}
	l.segs = l.segs[:i+1]
	if err := s.log.Truncate(pos); err != nil {
		l.writeErr = fmt.Errorf("partlog: truncate segment %d to %d: %w", s.base, pos, err)
		return l.logEnd, l.writeErr
	}
	if err := l.rebuildSegmentTail(s, pos); err != nil {
		l.writeErr = err
		return l.logEnd, err
	}
	l.logEnd = s.next
	if l.logEnd < l.logStart {
		// The batch straddling the log start went too: restart empty there.
		_ = s.removeFiles()
		s.release()
		l.segs = l.segs[:i]
		ns, err := createSegment(l.fs, l.dir, l.logStart)
		if err != nil {
			l.writeErr = fmt.Errorf("partlog: truncate: %w", err)
			return l.logEnd, l.writeErr
		}
		l.segs = append(l.segs, ns)
		l.dirDirty = true
		l.logEnd = l.logStart
	}
	l.truncGen++
	l.dur.mu.Lock()
	l.dur.durableEnd = min(l.dur.durableEnd, l.logEnd)
	l.dur.mu.Unlock()

	l.producers = make(map[int64]*producerState)
	for _, seg := range l.segs {
		sc := newScanner(seg.log, 0, seg.size, false, 64<<10)
		for {
			h, _, err := sc.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				l.writeErr = fmt.Errorf("partlog: rebuild producers after truncate: %w", err)
				return l.logEnd, l.writeErr
			}
			if h.LastOffset() >= l.logStart {
				l.recordProducer(h)
			}
		}
	}
	if l.epochs.truncateFromEnd(l.logEnd) {
		if err := l.persistEpochs(); err != nil {
			l.writeErr = err
			return l.logEnd, err
		}
	}
	return l.logEnd, nil
}

// rebuildSegmentTail recomputes s's in-memory state after its file was cut
// to size bytes: index entries past the cut are dropped and the bytes after
// the last remaining entry are walked again. Caller holds mu.
func (l *Log) rebuildSegmentTail(s *segment, size int64) error {
	s.size = size
	s.synced = min(s.synced, size)
	s.indexFlushed = false
	k := 0
	for k < len(s.index) && int64(s.index[k].pos) < size {
		k++
	}
	s.index = s.index[:k]
	from := int64(0)
	if k > 0 {
		from = int64(s.index[k-1].pos)
	}
	// Time entries are rebuilt from the walk; keep only those wholly before it.
	fromOff := s.base
	if k > 0 {
		fromOff = s.base + int64(s.index[k-1].rel)
	}
	t := 0
	for t < len(s.tindex) && s.base+int64(s.tindex[t].rel) < fromOff {
		t++
	}
	s.tindex = s.tindex[:t]
	s.maxTs, s.maxTsOffset = -1, -1
	if t > 0 {
		s.maxTs, s.maxTsOffset = s.tindex[t-1].ts, s.base+int64(s.tindex[t-1].rel)
	}
	s.next = fromOff
	s.bytesSinceIndex = 0
	sc := newScanner(s.log, from, size, false, 64<<10)
	for {
		h, at, err := sc.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("partlog: rescan segment %d: %w", s.base, err)
		}
		// The entry at `from` is already indexed; noteBatch will not add it
		// again because bytesSinceIndex starts at 0.
		s.noteBatch(h, at, l.cfg.IndexIntervalBytes, l.now())
	}
}
