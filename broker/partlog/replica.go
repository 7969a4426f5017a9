package partlog

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrReplicaOutOfOrder: batches given to AppendReplica do not continue the
// log (base offset is not the log end or the previous batch's last offset
// + 1) or carry a leader epoch older than one already in the log.
var ErrReplicaOutOfOrder = errors.New("partlog: replicated batches out of order")

// LatestEpoch is the newest leader epoch in the epoch cache, -1 if none.
func (l *Log) LatestEpoch() int32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.epochs.latest()
}

// AppendReplica appends one or more whole record batches (concatenated, as
// a Fetch response carries them) exactly as the leader stored them: base
// offsets and leader epochs are kept, not stamped. Every batch must pass
// ValidateBatch, the first must start at LogEndOffset, each next one at the
// previous last offset + 1, and leader epochs must not decrease (also with
// respect to the log's latest epoch); otherwise nothing is written and the
// error wraps ErrCorruptBatch or ErrReplicaOutOfOrder. The batches are
// written with one write syscall per segment they land in; segments roll as
// in Append. Indexes, the leader epoch cache (persisted when it changes) and
// idempotent-producer state are updated so the replica can take over as
// leader. It returns the last offset appended (LogEndOffset-1); an empty
// input appends nothing.
func (l *Log) AppendReplica(batches []byte) (lastOffset int64, err error) {
	parts, err := SplitBatches(batches)
	if err != nil {
		return 0, err
	}
	hdrs := make([]BatchHeader, len(parts))
	for i, b := range parts {
		h, err := ValidateBatch(b)
		if err != nil {
			return 0, fmt.Errorf("replica batch %d: %w", i, err)
		}
		hdrs[i] = h
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if l.writeErr != nil {
		return 0, l.writeErr
	}
	if len(hdrs) == 0 {
		return l.logEnd - 1, nil
	}
	if err := checkReplicaOrder(hdrs, l.logEnd, l.epochs.latest()); err != nil {
		return 0, err
	}

	now := l.now()
	epochsChanged := false
	start, startPos, run := 0, 0, int64(0) // pending run: hdrs[start:i], bytes from startPos
	pos := 0
	flush := func(end int) error {
		if end == start {
			return nil
		}
		changed, err := l.writeRun(batches[startPos:pos], hdrs[start:end], now)
		epochsChanged = epochsChanged || changed
		return err
	}
	for i, h := range hdrs {
		size := int64(h.Size())
		if l.rollBefore(run, size, h.LastOffset(), now) {
			if err := flush(i); err != nil {
				return 0, err
			}
			if err := l.roll(h.BaseOffset); err != nil {
				return 0, err
			}
			start, startPos, run = i, pos, 0
		}
		run += size
		pos += int(size)
	}
	if err := flush(len(hdrs)); err != nil {
		return 0, err
	}
	if epochsChanged {
		if err := l.persistEpochs(); err != nil {
			l.writeErr = err
			return 0, err
		}
	}
	return l.logEnd - 1, nil
}

// checkReplicaOrder checks that hdrs continue a log ending at logEnd whose
// latest leader epoch is latest.
func checkReplicaOrder(hdrs []BatchHeader, logEnd int64, latest int32) error {
	next, epoch := logEnd, latest
	for i, h := range hdrs {
		if h.BaseOffset != next {
			return fmt.Errorf("%w: batch %d starts at offset %d, expected %d", ErrReplicaOutOfOrder, i, h.BaseOffset, next)
		}
		if h.LeaderEpoch < epoch {
			return fmt.Errorf("%w: batch %d at offset %d has leader epoch %d, older than %d",
				ErrReplicaOutOfOrder, i, h.BaseOffset, h.LeaderEpoch, epoch)
		}
		next, epoch = h.LastOffset()+1, h.LeaderEpoch
	}
	return nil
}

// rollBefore reports whether the active segment must be sealed before a
// batch of size bytes ending at last is appended after pending bytes not
// yet written to it. Caller holds mu.
func (l *Log) rollBefore(pending, size, last int64, now time.Time) bool {
	if pending == 0 {
		return l.shouldRoll(size, last, now)
	}
	s := l.active()
	total := s.size + pending + size
	return total > l.cfg.SegmentBytes || total > math.MaxUint32 || last-s.base > math.MaxUint32
}
