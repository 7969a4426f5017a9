package upload

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-io/strata/objstore"
)

// Uploader runs one loop per tracked partition. Methods are safe for
// concurrent use.
type Uploader struct {
	cfg      Config
	bucket   objstore.Bucket
	manifest Manifest
	logger   *slog.Logger
	m        *metrics
	sem      chan struct{} // upload slots
	busySem  chan struct{} // the one upload slot while produce is busy

	ctx    context.Context
	cancel context.CancelFunc

	lastAppend   atomic.Int64 // unix nanos of the last seen append
	flushing     atomic.Int32 // Flush calls running
	activityDone chan struct{}
	sweepDone    chan struct{}

	mu     sync.Mutex
	parts  map[partKey]*tracked
	closed bool
}

// tracked is one partition's loop.
type tracked struct {
	p      Partition
	cancel context.CancelFunc
	done   chan struct{}
	kick   chan struct{} // wakes the loop (Flush); buffered 1
}

// New returns an Uploader writing to bucket and committing to manifest.
// Close stops it.
func New(cfg Config, bucket objstore.Bucket, manifest Manifest, logger *slog.Logger) *Uploader {
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &Uploader{
		cfg:      cfg,
		bucket:   bucket,
		manifest: manifest,
		logger:   logger,
		sem:      make(chan struct{}, cfg.Concurrency),
		busySem:  make(chan struct{}, 1),
		ctx:      ctx,
		cancel:   cancel,
		parts:    make(map[partKey]*tracked),

		activityDone: make(chan struct{}),
		sweepDone:    make(chan struct{}),
	}
	u.m = newMetrics(cfg.Registerer, func() float64 { return float64(u.Backlog()) })
	go u.watchActivity(ctx)
	go u.sweepLoop(ctx)
	return u
}

// Track starts uploading p's sealed segments (the broker calls it when it
// becomes leader). Tracking an already tracked partition is a no-op.
func (u *Uploader) Track(p Partition) {
	u.mu.Lock()
	defer u.mu.Unlock()
	k := keyOf(p)
	if u.closed || u.parts[k] != nil {
		return
	}
	ctx, cancel := context.WithCancel(u.ctx)
	t := &tracked{p: p, cancel: cancel, done: make(chan struct{}), kick: make(chan struct{}, 1)}
	u.parts[k] = t
	go u.run(ctx, t)
}

// Untrack stops p's loop and waits for it (an in-flight upload is
// cancelled; its object, if any, is collected later).
func (u *Uploader) Untrack(p Partition) {
	u.mu.Lock()
	k := keyOf(p)
	t := u.parts[k]
	delete(u.parts, k)
	u.mu.Unlock()
	if t != nil {
		t.cancel()
		<-t.done
	}
}

// Close stops every loop and waits for them.
func (u *Uploader) Close() error {
	u.mu.Lock()
	u.closed = true
	parts := u.snapshot()
	u.parts = map[partKey]*tracked{}
	u.mu.Unlock()
	u.cancel()
	for _, t := range parts {
		<-t.done
	}
	<-u.activityDone
	<-u.sweepDone
	return nil
}

// snapshot lists the tracked partitions. Caller holds mu.
func (u *Uploader) snapshot() []*tracked {
	out := make([]*tracked, 0, len(u.parts))
	for _, t := range u.parts {
		out = append(out, t)
	}
	return out
}

func (u *Uploader) tracked() []*tracked {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.snapshot()
}

// Backlog is the number of local bytes of tracked, tiered partitions not
// yet uploaded (active segments included).
func (u *Uploader) Backlog() int64 {
	var n int64
	for _, t := range u.tracked() {
		l := t.p.Log()
		if l.Config().RemoteStorage {
			n += l.UnuploadedBytes()
		}
	}
	return n
}

// Accepting reports whether p may take more produce: false when remote
// storage is on and its un-uploaded bytes exceed Config.MaxLocalBacklogBytes
// (the store is unreachable or slow); the broker then answers with a
// retriable error until uploads catch up.
func (u *Uploader) Accepting(p Partition) bool {
	if u.cfg.MaxLocalBacklogBytes < 0 {
		return true
	}
	l := p.Log()
	return !l.Config().RemoteStorage || l.UnuploadedBytes() <= u.cfg.MaxLocalBacklogBytes
}

// Flush rolls the active segment of every tracked, tiered partition and
// waits until everything sealed up to that point is uploaded and committed
// (graceful shutdown). Segments holding offsets above a replicated
// partition's high watermark are not waited for. It returns early with ctx's error, naming the
// partitions still pending.
func (u *Uploader) Flush(ctx context.Context) error {
	type target struct {
		t    *tracked
		last int64
	}
	u.flushing.Add(1)
	defer u.flushing.Add(-1)
	var targets []target
	var rollErr error
	for _, t := range u.tracked() {
		l := t.p.Log()
		if !l.Config().RemoteStorage {
			continue
		}
		if err := l.Roll(); err != nil && rollErr == nil {
			rollErr = fmt.Errorf("upload: flush: roll %x/%d: %w", t.p.TopicID(), t.p.Partition(), err)
		}
		targets = append(targets, target{t, l.LogEndOffset() - 1})
		select {
		case t.kick <- struct{}{}:
		default:
		}
	}
	for {
		var pending []string
		for _, tg := range targets {
			l := tg.t.p.Log()
			if seg, ok := l.NextSealedSegment(l.UploadedOffset()); ok && seg.BaseOffset <= tg.last && committedThrough(tg.t.p, seg.LastOffset) {
				pending = append(pending, fmt.Sprintf("%x/%d", tg.t.p.TopicID(), tg.t.p.Partition()))
			}
		}
		if len(pending) == 0 {
			return rollErr
		}
		if err := sleep(ctx, min(u.cfg.PollInterval, 20*time.Millisecond)); err != nil {
			return fmt.Errorf("upload: flush: %d partitions not uploaded %v: %w", len(pending), pending, err)
		}
	}
}
