package partlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const (
	logStartCheckpointName = "log-start-offset.checkpoint"
	scanChunk              = 1 << 20
)

// recover rebuilds the in-memory state from the files in l.dir. Caller is
// Open; no locking needed.
func (l *Log) recover() error {
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	var bases []int64
	for _, name := range names {
		if strings.HasSuffix(name, ".tmp") {
			_ = l.fs.Remove(filepath.Join(l.dir, name))
			continue
		}
		if base, ok := parseSegName(name); ok {
			bases = append(bases, base)
		}
	}
	slices.Sort(bases)

	ckptStart, ckptFound, err := l.loadLogStart()
	if err != nil {
		return err
	}
	if data, err := readWholeFile(l.fs, filepath.Join(l.dir, epochCheckpointName)); err != nil {
		return fmt.Errorf("read epoch checkpoint: %w", err)
	} else if data != nil {
		c, err := decodeEpochCache(data)
		if err != nil {
			l.logger.Warn("partlog: ignoring bad leader epoch checkpoint; rebuilding from batches", "err", err)
		} else {
			l.epochs = c
		}
	}

	for _, base := range bases {
		f, err := l.fs.OpenFile(segPath(l.dir, base, logExt), os.O_RDWR)
		if err != nil {
			return fmt.Errorf("open segment %d: %w", base, err)
		}
		s := newSegmentStruct(l.fs, l.dir, base, f)
		if s.size, err = f.Size(); err != nil {
			l.segs = append(l.segs, s)
			return fmt.Errorf("stat segment %d: %w", base, err)
		}
		l.segs = append(l.segs, s)
	}
	if err := l.recoverSegments(); err != nil {
		return err
	}

	if len(l.segs) == 0 {
		s, err := createSegment(l.fs, l.dir, max(ckptStart, 0))
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
	}
	l.logEnd = l.active().next
	l.logStart = max(ckptStart, l.segs[0].base)
	if l.cfg.RemoteStorage && ckptFound && ckptStart < l.segs[0].base {
		// Tiered log: segments below the local start live in object storage
		// and the persisted log start is the global one.
		l.logStart = ckptStart
	}
	if l.logStart > l.logEnd {
		l.logger.Warn("partlog: log start checkpoint is past the recovered log end; starting an empty log there",
			"log_start", l.logStart, "log_end", l.logEnd)
		for _, s := range l.segs {
			_ = s.removeFiles()
			s.release()
		}
		l.segs = nil
		s, err := createSegment(l.fs, l.dir, l.logStart)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
		l.logEnd = l.logStart
	}

	if err := l.rebuildProducersAndEpochs(); err != nil {
		return err
	}

	// Make everything recovered durable so WaitDurable starts from a clean
	// slate (cheap when the page cache was already written back).
	for _, s := range l.segs {
		if err := s.log.Sync(); err != nil {
			return fmt.Errorf("sync segment %d: %w", s.base, err)
		}
		s.synced = s.size
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	if a := l.active(); !a.empty() {
		a.firstAppend = l.now()
	}
	l.lastAppend = l.now()
	return nil
}

// recoverSegments validates each segment and truncates at the first torn
// batch, dropping any segments after it.
func (l *Log) recoverSegments() error {
	for i, s := range l.segs {
		last := i == len(l.segs)-1
		end, tornErr, err := l.recoverSegment(s, last)
		if err != nil {
			return err
		}
		if tornErr == nil {
			continue
		}
		l.logger.Warn("partlog: truncating torn segment tail",
			"segment", s.base, "valid_bytes", end, "file_bytes", s.size, "dropped_later_segments", len(l.segs)-1-i, "err", tornErr)
		if err := s.log.Truncate(end); err != nil {
			return fmt.Errorf("truncate segment %d: %w", s.base, err)
		}
		s.size = end
		for _, later := range l.segs[i+1:] {
			if err := later.removeFiles(); err != nil {
				return fmt.Errorf("remove segment %d: %w", later.base, err)
			}
			later.release()
		}
		l.segs = l.segs[:i+1]
		break
	}
	return nil
}

// recoverSegment fills s's in-memory indexes. Sealed segments trust their
// index files (re-validating the bytes past the last entry); the active
// segment, or a sealed one with bad indexes, is scanned in full with CRC
// checks. It returns the valid length and, if the segment has a torn tail,
// why.
func (l *Log) recoverSegment(s *segment, active bool) (int64, error, error) {
	if !active && s.loadIndexes() {
		from, expect := int64(0), s.base
		if n := len(s.index); n > 0 {
			from, expect = int64(s.index[n-1].pos), s.base+int64(s.index[n-1].rel)
		}
		end, tornErr, err := l.scanInto(s, from, expect)
		if err != nil {
			return 0, nil, err
		}
		if tornErr == nil {
			return end, nil, nil
		}
		l.logger.Warn("partlog: segment index inconsistent with data; rebuilding", "segment", s.base, "err", tornErr)
	}
	s.resetIndexes()
	end, tornErr, err := l.scanInto(s, 0, s.base)
	if err != nil {
		return 0, nil, err
	}
	if !active && tornErr == nil {
		if err := s.writeIndexes(false); err != nil {
			l.logger.Warn("partlog: rewrite segment index", "segment", s.base, "err", err)
		}
	}
	return end, tornErr, nil
}

// scanInto walks s from pos with CRC checks, noting each batch in the
// in-memory indexes. The first batch must have base offset expect. It
// returns the end of the valid data and the reason it stopped early, if any.
func (l *Log) scanInto(s *segment, pos int64, expect int64) (int64, error, error) {
	sc := newScanner(s.log, pos, s.size, true, scanChunk)
	first := true
	prevNext := int64(-1)
	for {
		h, at, err := sc.next()
		if errors.Is(err, io.EOF) {
			return at, nil, nil
		}
		if errors.Is(err, errTorn) {
			return at, err, nil
		}
		if err != nil {
			return 0, nil, fmt.Errorf("scan segment %d: %w", s.base, err)
		}
		if first && h.BaseOffset != expect && at > 0 {
			return at, fmt.Errorf("%w: index points at offset %d, batch has %d", errTorn, expect, h.BaseOffset), nil
		}
		if h.BaseOffset < s.base || h.LastOffset()-s.base > int64(^uint32(0)) || h.BaseOffset < prevNext {
			return at, fmt.Errorf("%w: batch offset %d out of order in segment %d", errTorn, h.BaseOffset, s.base), nil
		}
		first = false
		prevNext = h.LastOffset() + 1
		s.noteBatch(h, at, l.cfg.IndexIntervalBytes, l.now())
	}
}

// rebuildProducersAndEpochs walks every batch header once to rebuild the
// idempotent producer state and extend the leader epoch cache.
func (l *Log) rebuildProducersAndEpochs() error {
	changed := l.epochs.truncateFromEnd(l.logEnd)
	for _, s := range l.segs {
		sc := newScanner(s.log, 0, s.size, false, 64<<10)
		for {
			h, _, err := sc.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("rebuild producer state from segment %d: %w", s.base, err)
			}
			if h.LastOffset() < l.logStart {
				continue
			}
			l.recordProducer(h)
			if l.epochs.assign(h.LeaderEpoch, max(h.BaseOffset, l.logStart)) {
				changed = true
			}
		}
	}
	if l.epochs.truncateFromStart(l.logStart) {
		changed = true
	}
	if changed {
		return l.persistEpochs()
	}
	return nil
}

// loadLogStart reads the log start checkpoint; found is false when there is
// none (or it is unreadable).
func (l *Log) loadLogStart() (v int64, found bool, err error) {
	data, err := readWholeFile(l.fs, filepath.Join(l.dir, logStartCheckpointName))
	if err != nil {
		return 0, false, fmt.Errorf("read log start checkpoint: %w", err)
	}
	if data == nil {
		return 0, false, nil
	}
	v, err = strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil || v < 0 {
		l.logger.Warn("partlog: ignoring bad log start checkpoint", "content", string(data))
		return 0, false, nil
	}
	return v, true, nil
}

// persistLogStart writes the log start checkpoint atomically. Caller holds mu.
func (l *Log) persistLogStart() error {
	if err := writeFileAtomic(l.fs, l.dir, logStartCheckpointName, []byte(strconv.FormatInt(l.logStart, 10)+"\n")); err != nil {
		return fmt.Errorf("partlog: persist log start: %w", err)
	}
	return nil
}
