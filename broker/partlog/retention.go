package partlog

import (
	"fmt"
	"time"
)

// DeleteRecords advances the log start offset to offset (-1 means the log
// end), persisting it, and deletes the segments wholly below it. offset
// beyond the log end returns ErrOffsetOutOfRange. Moving backwards is a
// no-op that returns the current log start.
func (l *Log) DeleteRecords(offset int64) (newLogStart int64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if offset == -1 {
		offset = l.logEnd
	}
	if offset < 0 || offset > l.logEnd {
		return l.logStart, fmt.Errorf("%w: delete records to %d, log has [%d, %d]", ErrOffsetOutOfRange, offset, l.logStart, l.logEnd)
	}
	if offset <= l.logStart {
		return l.logStart, nil
	}
	if err := l.advanceLogStart(offset); err != nil {
		return l.logStart, err
	}
	a := l.active()
	if !a.empty() && a.next <= l.logStart {
		if l.writeErr != nil {
			return l.logStart, nil // cannot roll; the segment goes on the next pass
		}
		if err := l.roll(l.logEnd); err != nil {
			return l.logStart, err
		}
	}
	n := 0
	for n < len(l.segs)-1 && l.segs[n].next <= l.logStart {
		n++
	}
	_, err = l.dropOldest(n)
	return l.logStart, err
}

// ApplyRetention rolls the active segment if segment.ms has elapsed, then
// deletes the oldest sealed segments that are past retention.ms (by their
// largest timestamp) or that retention.bytes allows dropping while the log
// stays at or above the limit. The active segment is never deleted. It
// returns the number of bytes deleted. With RemoteStorage on it applies
// local.retention.* to uploaded segments only and leaves the log start alone
// (see applyLocalRetention).
func (l *Log) ApplyRetention(now time.Time) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	cfg := l.cfg
	if a := l.active(); !a.empty() && l.writeErr == nil && !a.firstAppend.IsZero() &&
		now.Sub(a.firstAppend) >= time.Duration(cfg.SegmentMs)*time.Millisecond {
		if err := l.roll(l.logEnd); err != nil {
			return 0, err
		}
	}
	if cfg.RemoteStorage {
		return l.applyLocalRetention(now)
	}
	sealed := len(l.segs) - 1
	n := 0
	if cfg.RetentionMs >= 0 {
		limit := now.UnixMilli() - cfg.RetentionMs
		for n < sealed {
			s := l.segs[n]
			if !s.empty() && (s.maxTsOffset < 0 || s.maxTs >= limit) {
				break
			}
			n++
		}
	}
	if cfg.RetentionBytes >= 0 {
		var total int64
		for _, s := range l.segs[n:] {
			total += s.size
		}
		diff := total - cfg.RetentionBytes
		for n < sealed && diff-l.segs[n].size >= 0 {
			diff -= l.segs[n].size
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	if next := l.segs[n].base; next > l.logStart {
		if err := l.advanceLogStart(next); err != nil {
			return 0, err
		}
	}
	return l.dropOldest(n)
}

// advanceLogStart moves the log start forward and persists it and the
// trimmed epoch cache. Caller holds mu.
func (l *Log) advanceLogStart(offset int64) error {
	l.logStart = offset
	if err := l.persistLogStart(); err != nil {
		return err
	}
	if l.epochs.truncateFromStart(offset) {
		return l.persistEpochs()
	}
	return nil
}

// dropOldest deletes the first n segments. Readers holding one keep reading
// the unlinked file until they release it. Caller holds mu.
func (l *Log) dropOldest(n int) (int64, error) {
	var bytes int64
	var first error
	for _, s := range l.segs[:n] {
		bytes += s.size
		if err := s.removeFiles(); err != nil && first == nil {
			first = fmt.Errorf("partlog: delete segment %d: %w", s.base, err)
		}
		l.logger.Debug("partlog: deleted segment", "base", s.base, "bytes", s.size)
		s.release()
	}
	l.segs = append(l.segs[:0:0], l.segs[n:]...)
	return bytes, first
}
