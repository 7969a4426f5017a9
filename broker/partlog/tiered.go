package partlog

import (
	"encoding/binary"
	"fmt"
	"sort"
	"time"
)

// SealedSegment describes a non-active local segment for the tiering
// uploader. Path is the segment's .log file; its first Size bytes are the
// record batches. The index slices are in the on-disk layout (big-endian
// (rel offset uint32, position uint32) and (timestamp int64, rel offset
// uint32) entries) and belong to the caller.
type SealedSegment struct {
	BaseOffset   int64
	LastOffset   int64
	MaxTimestamp int64 // -1 if no batch carries a timestamp
	LeaderEpoch  int32 // epoch of the segment's last batch, -1 if unknown
	Size         int64
	Path         string
	OffsetIndex  []byte
	TimeIndex    []byte
}

// Config returns the log's configuration with defaults applied.
func (l *Log) Config() Config {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg
}

// LocalLogStartOffset is the first offset held on local disk. It equals
// LogStartOffset unless remote storage holds older data.
func (l *Log) LocalLogStartOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.segs) == 0 {
		return l.logStart
	}
	return max(l.logStart, l.segs[0].base)
}

// SealedSegments returns every non-empty, non-active local segment, oldest
// first.
func (l *Log) SealedSegments() []SealedSegment {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []SealedSegment
	for _, s := range l.sealed() {
		if !s.empty() {
			out = append(out, l.describe(s))
		}
	}
	return out
}

// NextSealedSegment returns the oldest non-empty sealed segment holding an
// offset above after (its LastOffset > after), or false if none.
func (l *Log) NextSealedSegment(after int64) (SealedSegment, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.sealed() {
		if !s.empty() && s.next-1 > after {
			return l.describe(s), true
		}
	}
	return SealedSegment{}, false
}

// sealed returns the non-active segments. Caller holds mu.
func (l *Log) sealed() []*segment {
	if len(l.segs) == 0 {
		return nil
	}
	return l.segs[:len(l.segs)-1]
}

// describe builds the SealedSegment of s, encoding its indexes from memory
// (the same bytes roll wrote to the index files, without a disk read that a
// failed index write could have left stale). Caller holds mu.
func (l *Log) describe(s *segment) SealedSegment {
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
	return SealedSegment{
		BaseOffset:   s.base,
		LastOffset:   s.next - 1,
		MaxTimestamp: s.maxTs,
		LeaderEpoch:  l.epochAt(s.next - 1),
		Size:         s.size,
		Path:         segPath(l.dir, s.base, logExt),
		OffsetIndex:  ib,
		TimeIndex:    tb,
	}
}

// epochAt returns the leader epoch that wrote offset, -1 if unknown.
// Caller holds mu.
func (l *Log) epochAt(offset int64) int32 {
	c := l.epochs
	i := sort.Search(len(c), func(i int) bool { return c[i].start > offset })
	if i == 0 {
		return -1
	}
	return c[i-1].epoch
}

// MarkUploaded records that every offset up to lastOffset is committed to
// remote storage, so local retention may delete the segments holding them.
// It never moves backwards. The mark is not persisted: after a restart the
// uploader sets it again from the manifest.
func (l *Log) MarkUploaded(lastOffset int64) {
	l.mu.Lock()
	l.uploaded = max(l.uploaded, lastOffset)
	l.mu.Unlock()
}

// UploadedOffset is the last offset marked uploaded, -1 if none.
func (l *Log) UploadedOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.uploaded
}

// UnuploadedBytes is the number of local log bytes (active segment
// included) in segments not wholly marked uploaded: the tiering backlog.
func (l *Log) UnuploadedBytes() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, s := range l.segs {
		if s.next-1 > l.uploaded {
			n += s.size
		}
	}
	return n
}

// AdvanceLogStart moves the (global, persisted) log start forward to offset
// after remote retention deleted the data below it, and deletes the local
// segments wholly below it. It never moves backwards; offset beyond the log
// end returns ErrOffsetOutOfRange.
func (l *Log) AdvanceLogStart(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("%w: advance log start to %d", ErrOffsetOutOfRange, offset)
	}
	_, err := l.DeleteRecords(offset)
	return err
}

// Roll seals the active segment if it holds data, so it can be uploaded
// (idle partitions, graceful shutdown). An empty active segment is left
// alone.
func (l *Log) Roll() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rollLocked()
}

// RollIfIdle seals the active segment if it holds data and nothing was
// appended for at least idle. It reports whether it rolled.
func (l *Log) RollIfIdle(now time.Time, idle time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || len(l.segs) == 0 || l.active().empty() || now.Sub(l.lastAppend) < idle {
		return false, nil
	}
	if err := l.rollLocked(); err != nil {
		return false, err
	}
	return true, nil
}

// rollLocked seals a non-empty active segment. Caller holds mu.
func (l *Log) rollLocked() error {
	if l.closed {
		return ErrClosed
	}
	if l.writeErr != nil {
		return l.writeErr
	}
	if l.active().empty() {
		return nil
	}
	return l.roll(l.logEnd)
}

// ResetTo re-bases an empty log (a broker whose disk was wiped, rebuilding
// from object storage): the local log begins at nextOffset and the log
// start becomes logStart, everything below nextOffset being remote. Both
// are persisted. It fails if the log holds any data.
func (l *Log) ResetTo(logStart, nextOffset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.writeErr != nil {
		return l.writeErr
	}
	if logStart < 0 || nextOffset < logStart {
		return fmt.Errorf("%w: reset to log start %d, next offset %d", ErrOffsetOutOfRange, logStart, nextOffset)
	}
	if len(l.segs) != 1 || !l.active().empty() {
		return fmt.Errorf("partlog: reset to %d: log is not empty (offsets [%d, %d))", nextOffset, l.logStart, l.logEnd)
	}
	old := l.active()
	if old.base != nextOffset {
		if err := old.removeFiles(); err != nil {
			return fmt.Errorf("partlog: reset: remove segment %d: %w", old.base, err)
		}
		old.release()
		l.segs = nil
		s, err := createSegment(l.fs, l.dir, nextOffset)
		if err != nil {
			l.writeErr = fmt.Errorf("partlog: reset: %w", err)
			return l.writeErr
		}
		l.segs = []*segment{s}
		l.dirDirty = true
	}
	l.logEnd = nextOffset
	l.logStart = logStart
	l.producers = make(map[int64]*producerState)
	if len(l.epochs) > 0 {
		l.epochs = nil
		if err := l.persistEpochs(); err != nil {
			return err
		}
	}
	if err := l.persistLogStart(); err != nil {
		return err
	}
	l.dur.mu.Lock()
	l.dur.durableEnd = nextOffset
	l.dur.mu.Unlock()
	return nil
}

// applyLocalRetention is ApplyRetention for a tiered log: it deletes the
// oldest sealed segments that are wholly uploaded and past
// local.retention.ms (by max timestamp) or that local.retention.bytes allows
// dropping. The log start does not move: the data stays readable remotely.
// Caller holds mu.
func (l *Log) applyLocalRetention(now time.Time) (int64, error) {
	ms, bytes := l.cfg.localRetention()
	sealed := l.sealed()
	up := 0 // leading segments wholly uploaded
	for up < len(sealed) && sealed[up].next-1 <= l.uploaded {
		up++
	}
	n := 0
	if ms >= 0 {
		limit := now.UnixMilli() - ms
		for n < up {
			s := sealed[n]
			if !s.empty() && (s.maxTsOffset < 0 || s.maxTs >= limit) {
				break
			}
			n++
		}
	}
	if bytes >= 0 {
		var total int64
		for _, s := range l.segs[n:] {
			total += s.size
		}
		diff := total - bytes
		for n < up && diff-l.segs[n].size >= 0 {
			diff -= l.segs[n].size
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	// Persist the global log start so a restart does not mistake the first
	// remaining local segment for it.
	if err := l.persistLogStart(); err != nil {
		return 0, err
	}
	return l.dropOldest(n)
}
