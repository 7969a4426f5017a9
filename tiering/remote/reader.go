package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/tiering/segment"
)

// Reader serves record batches of remote segments. It is safe for
// concurrent use.
type Reader struct {
	cfg      Config
	bucket   objstore.Bucket
	manifest Manifest
	logger   *slog.Logger
	m        *metrics

	ctx    context.Context // cancelled by Close; runs fetches and the watch
	cancel context.CancelFunc
	wg     sync.WaitGroup

	view   *view
	metas  *metaCache
	chunks *chunkCache
	pool   chan struct{} // cold-read slots
	pace   pacer
	ahead  chan struct{} // read-ahead slots

	mu         sync.Mutex
	started    bool
	closed     bool
	lastEnd    map[string]int64 // object -> log position where its last read ended
	walking    map[partKey]bool // partitions with a read-ahead walk into next segments
	corruptLog map[string]bool  // objects already logged as corrupt
}

// New returns a Reader; call Start to follow the manifest, Close to stop.
// The chunk cache directory is emptied. reg may be nil.
func New(cfg Config, bucket objstore.Bucket, manifest Manifest, logger *slog.Logger, reg prometheus.Registerer) (*Reader, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Reader{
		cfg: cfg, bucket: bucket, manifest: manifest, logger: logger, m: newMetrics(reg),
		view: newView(), pool: make(chan struct{}, cfg.MaxConcurrentReads),
		ahead:   make(chan struct{}, max(1, cfg.MaxConcurrentReads/2, cfg.ReadAheadChunks)),
		lastEnd: map[string]int64{}, walking: map[partKey]bool{}, corruptLog: map[string]bool{},
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.metas = newMetaCache(cfg.IndexCacheBytes, &r.wg)
	if r.chunks, err = newChunkCache(r.ctx, cfg.CacheDir, cfg.ChunkSize, cfg.CacheBytes, max(cfg.MemCacheBytes, 0), cfg.CacheWriteQueueBytes, r.m, &r.wg); err != nil {
		r.cancel()
		return nil, err
	}
	r.chunks.memOnly = r.busy
	return r, nil
}

// Start follows the manifest until ctx is done or the Reader is closed: the
// watch reports every committed segment, then each commit and deletion.
// Partitions are also listed on their first read, so reads right after
// Start see the whole manifest.
func (r *Reader) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return ErrClosed
	case r.started:
		return errors.New("remote: reader already started")
	}
	r.started = true
	wctx, cancel := context.WithCancel(r.ctx)
	stop := context.AfterFunc(ctx, cancel)
	r.view.relistAll()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer stop()
		defer cancel()
		for first := true; ; first = false {
			if !first {
				r.view.relistAll()
			}
			err := r.manifest.WatchManifest(wctx, r.view.apply)
			if wctx.Err() != nil {
				return
			}
			r.logger.Warn("remote manifest watch ended; restarting", "err", err)
			select {
			case <-time.After(time.Second):
			case <-wctx.Done():
				return
			}
		}
	}()
	return nil
}

// Close stops the watch and background fetches and waits for them. Reads
// in progress fail with ErrClosed or a context error.
func (r *Reader) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	return nil
}

// Segments returns the partition's known remote segments sorted by base
// offset (for the log start, the remote log end and ListOffsets). It does
// no I/O: it reflects the watch and the partition's last listing (by Read,
// OffsetForTimestamp or Sync).
func (r *Reader) Segments(topicID [16]byte, partition int32) []Segment {
	return slices.Clone(r.view.segments(partKey{topicID, partition}))
}

// Sync lists the partition's manifest once if no read has yet, so Segments
// reflects it even before the watch has reported it.
func (r *Reader) Sync(ctx context.Context, topicID [16]byte, partition int32) error {
	_, err := r.view.load(ctx, r.manifest, partKey{topicID, partition})
	if err != nil {
		return fmt.Errorf("remote: list segments of %x/%d: %w", topicID, partition, err)
	}
	return nil
}

// known reports whether seg is still in the manifest view.
func (r *Reader) known(seg Segment) bool {
	for _, s := range r.view.segments(partKey{seg.TopicID, seg.Partition}) {
		if s.Object == seg.Object {
			return true
		}
	}
	return false
}

// acquire takes a cold-read slot, waiting with ctx.
func (r *Reader) acquire(ctx context.Context) (func(), error) {
	if r.ctx.Err() != nil {
		return nil, ErrClosed
	}
	start := time.Now()
	select {
	case r.pool <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-r.ctx.Done():
		return nil, ErrClosed
	}
	r.m.readWait.Observe(time.Since(start).Seconds())
	r.m.readsInFlight.Inc()
	return func() {
		r.m.readsInFlight.Dec()
		<-r.pool
	}, nil
}

// Read returns whole record batches from the remote segment holding offset:
// the batch containing offset, then following batches while the total
// stays within maxBytes (the first batch is returned whole even if larger,
// KIP-74), continuing into the following remote segments unless reads are
// paced (see Config.Busy). If offset falls in a gap between segments the read
// starts at the next segment. ErrNotRemote if offset is below the first or
// above the last remote segment; ErrCorrupt (naming the object) if any check
// fails. Read waits for a slot in the cold-read pool.
func (r *Reader) Read(ctx context.Context, topicID [16]byte, partition int32, offset int64, maxBytes int) ([]byte, error) {
	return r.ReadInto(ctx, topicID, partition, offset, maxBytes, nil)
}

// ReadInto is Read filling buf's spare capacity (buf[:0] from a pool,
// say) when it has room, so the caller can reuse the memory once it is
// done with the result, which may alias buf. With too little room (or a
// nil buf) it allocates, as Read does.
func (r *Reader) ReadInto(ctx context.Context, topicID [16]byte, partition int32, offset int64, maxBytes int, buf []byte) ([]byte, error) {
	release, err := r.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	paced := r.busy()
	if paced {
		if err := r.pace.wait(ctx); err != nil {
			return nil, err
		}
		maxBytes = min(maxBytes, r.cfg.BusyMaxReadBytes)
	}
	segs, err := r.view.load(ctx, r.manifest, partKey{topicID, partition})
	if err != nil {
		return nil, fmt.Errorf("remote: list segments of %x/%d: %w", topicID, partition, err)
	}
	seg, ok := find(segs, offset)
	if !ok {
		return nil, fmt.Errorf("remote: %x/%d offset %d: %w", topicID, partition, offset, ErrNotRemote)
	}
	var data []byte
	var start int64
	for attempt := 0; ; attempt++ {
		data, start, err = r.readSegment(ctx, seg, offset, maxBytes, r.spanHint(segs, seg, maxBytes, paced), buf[:0:cap(buf)])
		if err == nil || !errors.Is(err, ErrCorrupt) || attempt > 0 {
			break
		}
		// The cached copy may be what is bad (local disk): drop it and read
		// the object again before declaring it corrupt.
		r.chunks.invalidateObject(seg.Object)
		r.metas.drop(seg.Object)
	}
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			r.reportCorrupt(seg.Object, err)
		}
		if errors.Is(err, objstore.ErrNotFound) && !r.known(seg) {
			// Remote retention deleted the segment (manifest first, object
			// second) while we read it.
			return nil, fmt.Errorf("remote: %x/%d offset %d: segment %q deleted: %w", topicID, partition, offset, seg.Object, ErrNotRemote)
		}
		return nil, err
	}
	r.readAhead(seg, start, start+int64(len(data)))
	if !paced {
		data = r.readFollowing(ctx, segs, seg, data, maxBytes)
	}
	if paced {
		r.pace.charge(len(data), r.cfg.BusyReadBytesPerSec)
	}
	r.m.servedBytes.Add(float64(len(data)))
	return data, nil
}

// readSegment reads from one segment; it returns the batches and their log
// position.
// hint is the buffer size to allocate (0: what this segment can give);
// buf, if not nil, is where the window starts (its spare capacity is used
// before allocating).
func (r *Reader) readSegment(ctx context.Context, seg Segment, offset int64, maxBytes, hint int, buf []byte) ([]byte, int64, error) {
	m, err := r.meta(ctx, seg)
	if err != nil {
		return nil, 0, err
	}
	f := m.footer
	pos, err := f.Lookup(m.index, max(offset, f.BaseOffset))
	if err != nil {
		return nil, 0, objectErr(seg.Object, err)
	}
	r.prefetchRequest(seg, f.Log.Size, pos, maxBytes)
	if hint <= 0 {
		hint = int(min(int64(max(maxBytes, 0)), f.Log.Size-pos)) + batchHeaderSize
	}
	w := &window{r: r, seg: seg, logSize: f.Log.Size, start: pos, hint: hint, buf: buf, track: true}
	defer w.done()
	var first batchHeader
	for {
		if pos >= f.Log.Size {
			return nil, 0, corruptErr(seg.Object, "offset %d not found in the log section, footer says last offset %d", offset, f.LastOffset)
		}
		if first, err = w.header(ctx, pos); err != nil {
			return nil, 0, err
		}
		if first.last >= offset {
			break
		}
		pos += first.total
	}
	start, end := pos, pos+first.total
	w.keep = true
	for end < f.Log.Size {
		h, err := w.header(ctx, end)
		if err != nil {
			return nil, 0, err
		}
		if end+h.total-start > int64(maxBytes) {
			break
		}
		end += h.total
	}
	data, err := w.ensure(ctx, start, end-start)
	if err != nil {
		return nil, 0, err
	}
	if err := w.verify(data, start, f.BaseOffset, f.LastOffset); err != nil {
		return nil, 0, err
	}
	if int64(len(w.buf)) > 2*int64(len(data)) {
		data = slices.Clone(data) // do not pin the rest of the window
	}
	return data, start, nil
}

// OffsetForTimestamp returns the base offset of the first remote batch
// whose max timestamp is >= ts (found is false if none is), using each
// segment's time index. The broker refines it to a record as for local
// data.
func (r *Reader) OffsetForTimestamp(ctx context.Context, topicID [16]byte, partition int32, ts int64) (int64, bool, error) {
	release, err := r.acquire(ctx)
	if err != nil {
		return 0, false, err
	}
	defer release()
	segs, err := r.view.load(ctx, r.manifest, partKey{topicID, partition})
	if err != nil {
		return 0, false, fmt.Errorf("remote: list segments of %x/%d: %w", topicID, partition, err)
	}
	for _, seg := range segs {
		if seg.MaxTimestamp < ts {
			continue
		}
		off, found, err := r.segmentOffsetForTimestamp(ctx, seg, ts)
		if err != nil {
			if errors.Is(err, ErrCorrupt) {
				r.reportCorrupt(seg.Object, err)
			}
			return 0, false, err
		}
		if found {
			return off, true, nil
		}
	}
	return 0, false, nil
}

func (r *Reader) segmentOffsetForTimestamp(ctx context.Context, seg Segment, ts int64) (int64, bool, error) {
	m, err := r.meta(ctx, seg)
	if err != nil {
		return 0, false, err
	}
	f := m.footer
	pos, err := f.TimeLookup(m.tindex, m.index, ts)
	if errors.Is(err, segment.ErrOutOfRange) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, objectErr(seg.Object, err)
	}
	w := &window{r: r, seg: seg, logSize: f.Log.Size, start: pos}
	for pos < f.Log.Size {
		h, err := w.header(ctx, pos)
		if err != nil {
			return 0, false, err
		}
		if h.maxTs >= ts {
			b, err := w.ensure(ctx, pos, h.total)
			if err != nil {
				return 0, false, err
			}
			if err := verifyBatches(seg.Object, b, pos, f.BaseOffset, f.LastOffset); err != nil {
				return 0, false, err
			}
			return h.base, true, nil
		}
		pos += h.total
	}
	return 0, false, nil
}

// readAt fills dst from the object at off through the chunk cache. keep,
// if not nil, gets each chunk buffer read from, with a reference of its
// own, and the log position of its first byte.
func (r *Reader) readAt(ctx context.Context, seg Segment, off int64, dst []byte, keep func(*chunkBuf, int64)) error {
	cs := r.cfg.ChunkSize
	n := int64(len(dst))
	for p := off; p < off+n; {
		idx := p / cs
		cstart := idx * cs
		k := min(off+n, cstart+cs) - p
		v, _, err := r.chunks.open(ctx, r.ctx, chunkKey{seg.Object, idx}, r.chunkFetch(seg, idx), true)
		if err != nil {
			return err
		}
		err = v.readAt(dst[p-off:p-off+k], p-cstart)
		if keep != nil && err == nil {
			v.buf.retain(1)
			keep(v.buf, cstart)
		}
		v.close()
		if err != nil {
			return corruptErr(seg.Object, "cached chunk %d: %v", idx, err)
		}
		p += k
	}
	return nil
}

// chunkFetch returns the fetch of chunk idx of seg's object with one ranged
// GET, read straight into a pooled buffer of the chunk's size (with room
// for the padding of a direct write to the disk cache).
func (r *Reader) chunkFetch(seg Segment, idx int64) fetchFunc {
	return func(ctx context.Context) (*chunkBuf, error) {
		off := idx * r.cfg.ChunkSize
		want := min(r.cfg.ChunkSize, seg.Size-off)
		if want <= 0 {
			return nil, corruptErr(seg.Object, "chunk %d past the object's %d bytes", idx, seg.Size)
		}
		buf := r.chunks.bufs.get(int(want))
		if _, err := r.getRangeInto(ctx, "chunk", seg.Object, off, buf.data); err != nil {
			buf.release()
			return nil, err
		}
		return buf, nil
	}
}

// getRange reads a whole range into memory with one GET.
func (r *Reader) getRange(ctx context.Context, kind, object string, off, n int64) ([]byte, error) {
	return r.getRangeInto(ctx, kind, object, off, make([]byte, n))
}

// getRangeInto fills buf from object at off with one GET.
func (r *Reader) getRangeInto(ctx context.Context, kind, object string, off int64, buf []byte) ([]byte, error) {
	n := int64(len(buf))
	start := time.Now()
	body, err := r.bucket.GetRange(ctx, object, off, n)
	if err != nil {
		r.m.getErrors.WithLabelValues(kind).Inc()
		return nil, fmt.Errorf("remote: get %q [%d,+%d): %w", object, off, n, err)
	}
	defer body.Close()
	got, err := io.ReadFull(body, buf)
	r.m.remoteBytes.Add(float64(got))
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return nil, corruptErr(object, "ranged get at %d returned %d bytes, want %d (object shorter than the manifest says)", off, got, n)
	}
	if err == nil { // the body must end where the range does
		var one [1]byte
		if extra, _ := body.Read(one[:]); extra > 0 {
			return nil, corruptErr(object, "ranged get at %d returned more than the %d bytes asked for", off, n)
		}
	}
	if err != nil {
		r.m.getErrors.WithLabelValues(kind).Inc()
		return nil, fmt.Errorf("remote: get %q [%d,+%d): %w", object, off, n, err)
	}
	r.m.getDuration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	return buf, nil
}

// reportCorrupt counts a corrupt read and logs the object the first time.
func (r *Reader) reportCorrupt(object string, err error) {
	r.m.corrupt.Inc()
	r.mu.Lock()
	first := !r.corruptLog[object]
	if first {
		if len(r.corruptLog) >= 10000 {
			clear(r.corruptLog)
		}
		r.corruptLog[object] = true
	}
	r.mu.Unlock()
	if first {
		r.logger.Error("remote segment object is corrupt; refusing to serve it", "object", object, "err", err)
	}
}
