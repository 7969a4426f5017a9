package partlog

import (
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Log is the local log of one partition. All methods are safe for
// concurrent use. One mutex guards the segment list and bookkeeping; file
// reads and fsyncs run outside it.
type Log struct {
	dir    string
	fs     fsys
	logger *slog.Logger
	now    func() time.Time

	mu        sync.Mutex
	cfg       Config
	segs      []*segment // ascending base offsets; last is active
	logStart  int64
	logEnd    int64
	producers map[int64]*producerState
	epochs    epochCache
	writeErr  error // sticky: first failed write or fsync
	closed    bool
	dirDirty  bool  // a segment file was created since the last dir fsync
	truncGen  int64 // bumped by TruncateTo so an in-flight fsync round cannot overstate durability

	uploaded   int64     // last offset known to be in remote storage (MarkUploaded), -1 if none
	lastAppend time.Time // when the last batch was appended (or the log was opened)

	dur    durability
	fsyncs atomic.Int64 // fsync rounds performed (for tests and metrics)
}

// Open opens (creating if needed) the log in dir and recovers it.
func Open(dir string, cfg Config, logger *slog.Logger) (*Log, error) {
	return openFS(osFS{}, dir, cfg, logger, time.Now)
}

func openFS(fsy fsys, dir string, cfg Config, logger *slog.Logger, now func() time.Time) (*Log, error) {
	if logger == nil {
		logger = slog.Default()
	}
	l := &Log{
		dir:       dir,
		fs:        fsy,
		logger:    logger.With("dir", dir),
		now:       now,
		cfg:       cfg.withDefaults(),
		producers: make(map[int64]*producerState),
		uploaded:  -1,
	}
	if err := fsy.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("partlog: create %s: %w", dir, err)
	}
	if err := l.recover(); err != nil {
		l.closeFiles()
		return nil, fmt.Errorf("partlog: recover %s: %w", dir, err)
	}
	l.dur.init(l.logEnd)
	return l, nil
}

// SetConfig replaces the configuration; it applies to later appends and
// retention passes.
func (l *Log) SetConfig(cfg Config) {
	l.mu.Lock()
	l.cfg = cfg.withDefaults()
	l.mu.Unlock()
}

// LogStartOffset is the first offset that can be read.
func (l *Log) LogStartOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logStart
}

// LogEndOffset is the offset the next appended record will get.
func (l *Log) LogEndOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logEnd
}

// Size is the number of log bytes on disk (segment files, not indexes).
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// FsyncCount reports how many fsync rounds WaitDurable has run.
func (l *Log) FsyncCount() int64 { return l.fsyncs.Load() }

func (l *Log) active() *segment { return l.segs[len(l.segs)-1] }

// findSegment returns the index of the segment that holds offset: the last
// one whose base is <= offset. Caller holds mu.
func (l *Log) findSegment(offset int64) int {
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset })
	return max(i-1, 0)
}

// Close flushes indexes, fsyncs outstanding data and closes the files.
// Later calls return ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	var first error
	if l.writeErr == nil {
		for _, s := range l.segs {
			if !s.indexFlushed {
				if err := s.writeIndexes(false); err != nil && first == nil {
					first = err
				}
			}
			if s.synced < s.size {
				if err := s.log.Sync(); err != nil && first == nil {
					first = fmt.Errorf("partlog: sync segment %d: %w", s.base, err)
				}
			}
		}
		if err := l.fs.SyncDir(l.dir); err != nil && first == nil {
			first = fmt.Errorf("partlog: sync dir: %w", err)
		}
	}
	l.closeFiles()
	l.mu.Unlock()
	l.dur.fail(ErrClosed)
	return first
}

// closeFiles drops the log's references on its segments. Caller holds mu.
func (l *Log) closeFiles() {
	for _, s := range l.segs {
		s.release()
	}
	l.segs = nil
}

// Remove closes the log and deletes its directory (topic deletion).
func (l *Log) Remove() error {
	if err := l.Close(); err != nil && err != ErrClosed {
		l.logger.Warn("partlog: close before remove", "err", err)
	}
	if err := l.fs.RemoveAll(l.dir); err != nil {
		return fmt.Errorf("partlog: remove %s: %w", l.dir, err)
	}
	return nil
}
