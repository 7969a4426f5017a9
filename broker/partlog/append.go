package partlog

import (
	"encoding/binary"
	"fmt"
	"time"
)

// AppendResult reports where an appended batch landed.
type AppendResult struct {
	BaseOffset    int64 // offset of the first record (the original one for a duplicate)
	LastOffset    int64
	LogAppendTime int64 // ms; -1 because we keep CreateTime
	Duplicate     bool  // idempotent retry of a batch already in the log: not appended again
}

// Append stamps the base offset (the current log end) and leaderEpoch into
// batch, in place, and writes it to the active segment with one write
// syscall. The caller has validated the batch (ValidateBatch). Idempotent
// producers are checked first: an exact retry of one of the producer's last
// five batches returns its original offsets with Duplicate set; a stale
// epoch returns ErrInvalidProducerEpoch and a sequence gap
// ErrOutOfOrderSequence. Nothing is written on error. A failed write makes
// every later Append fail with the same error until the log is reopened.
func (l *Log) Append(batch []byte, leaderEpoch int32) (AppendResult, error) {
	if len(batch) < BatchHeaderSize {
		return AppendResult{}, fmt.Errorf("%w: %d bytes", ErrCorruptBatch, len(batch))
	}
	h := decodeHeader(batch)
	if h.Size() != len(batch) || h.LastOffsetDelta < 0 {
		return AppendResult{}, fmt.Errorf("%w: length field %d does not match %d bytes", ErrCorruptBatch, h.Length, len(batch))
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return AppendResult{}, ErrClosed
	}
	if l.writeErr != nil {
		return AppendResult{}, l.writeErr
	}
	dup, err := l.checkProducer(h)
	if err != nil {
		return AppendResult{}, err
	}
	if dup != nil {
		return AppendResult{BaseOffset: dup.firstOff, LastOffset: dup.lastOff, LogAppendTime: -1, Duplicate: true}, nil
	}

	now := l.now()
	base := l.logEnd
	last := base + int64(h.LastOffsetDelta)
	if l.shouldRoll(int64(len(batch)), last, now) {
		if err := l.roll(base); err != nil {
			return AppendResult{}, err
		}
	}

	binary.BigEndian.PutUint64(batch[offBaseOffset:], uint64(base))
	binary.BigEndian.PutUint32(batch[offLeaderEpoch:], uint32(leaderEpoch))
	h.BaseOffset, h.LeaderEpoch = base, leaderEpoch

	epochsChanged, err := l.writeRun(batch, []BatchHeader{h}, now)
	if err != nil {
		return AppendResult{}, err
	}
	if epochsChanged {
		if err := l.persistEpochs(); err != nil {
			l.writeErr = err
			return AppendResult{}, err
		}
	}
	return AppendResult{BaseOffset: base, LastOffset: last, LogAppendTime: -1}, nil
}

// writeRun writes data, the stamped batches hdrs laid end to end, at the
// end of the active segment with one write syscall, then updates the
// segment indexes, the log end, producer state and the in-memory epoch
// cache. It reports whether the epoch cache changed (the caller persists
// it). The caller holds mu and has rolled the segment if needed. A failed
// write is sticky.
func (l *Log) writeRun(data []byte, hdrs []BatchHeader, now time.Time) (epochsChanged bool, err error) {
	s := l.active()
	pos := s.size
	if _, err := s.log.WriteAt(data, pos); err != nil {
		l.writeErr = fmt.Errorf("partlog: write segment %d at %d: %w", s.base, pos, err)
		// Best effort: drop a partial write so the file stays clean.
		_ = s.log.Truncate(pos)
		return false, l.writeErr
	}
	for _, h := range hdrs {
		s.noteBatch(h, pos, l.cfg.IndexIntervalBytes, now)
		pos += int64(h.Size())
		l.recordProducer(h)
		if l.epochs.assign(h.LeaderEpoch, h.BaseOffset) {
			epochsChanged = true
		}
	}
	s.size = pos
	l.logEnd = hdrs[len(hdrs)-1].LastOffset() + 1
	l.lastAppend = now
	return epochsChanged, nil
}

// shouldRoll reports whether the active segment must be sealed before
// appending a batch of size bytes ending at offset last. Caller holds mu.
func (l *Log) shouldRoll(size, last int64, now time.Time) bool {
	s := l.active()
	if s.empty() {
		return false
	}
	if !s.canHold(size, last, l.cfg.SegmentBytes) {
		return true
	}
	return !s.firstAppend.IsZero() && now.Sub(s.firstAppend) >= time.Duration(l.cfg.SegmentMs)*time.Millisecond
}

// roll seals the active segment (writing its index files) and starts a new
// one at base. Its data is fsynced by the next WaitDurable. Caller holds mu.
func (l *Log) roll(base int64) error {
	old := l.active()
	if err := old.writeIndexes(false); err != nil {
		l.logger.Warn("partlog: write index on roll; it will be rebuilt on recovery", "segment", old.base, "err", err)
	}
	s, err := createSegment(l.fs, l.dir, base)
	if err != nil {
		l.writeErr = fmt.Errorf("partlog: roll: %w", err)
		return l.writeErr
	}
	l.segs = append(l.segs, s)
	l.dirDirty = true
	l.logger.Debug("partlog: rolled segment", "base", base, "previous", old.base, "previous_bytes", old.size)
	return nil
}
