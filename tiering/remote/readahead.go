package remote

// maxTracked bounds the per-object sequential-read state.
const maxTracked = 4096

// readAhead notes a read of seg's log section [start, end) and, if it
// continues the previous read of the object (or starts the object), fetches
// the next ReadAheadChunks chunks in the background. Read-ahead takes its
// own small slot pool and is skipped when that is full, so it never delays
// a reader.
func (r *Reader) readAhead(seg Segment, start, end int64) {
	if r.cfg.ReadAheadChunks <= 0 {
		return
	}
	r.mu.Lock()
	prev, seen := r.lastEnd[seg.Object]
	if len(r.lastEnd) >= maxTracked && !seen {
		clear(r.lastEnd)
	}
	r.lastEnd[seg.Object] = end
	closed := r.closed
	r.mu.Unlock()
	if closed || !(start == 0 || seen && prev == start) {
		return
	}
	m, ok := r.metas.get(seg.Object)
	if !ok {
		return
	}
	cs := r.cfg.ChunkSize
	lastChunk := (m.footer.Log.Size - 1) / cs
	if end/cs+int64(r.cfg.ReadAheadChunks) > lastChunk {
		r.readAheadNext(seg)
	}
	for idx := end / cs; idx <= min(lastChunk, end/cs+int64(r.cfg.ReadAheadChunks)); idx++ {
		k := chunkKey{seg.Object, idx}
		if r.chunks.contains(k) {
			continue
		}
		select {
		case r.ahead <- struct{}{}:
		default:
			return
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() { <-r.ahead }()
			r.prefetch(seg, idx)
		}()
	}
}

// readAheadNext prefetches the footer, indexes and first chunk of the
// segment after seg, for a sequential reader about to cross into it.
func (r *Reader) readAheadNext(seg Segment) {
	next, ok := find(r.view.segments(partKey{seg.TopicID, seg.Partition}), seg.LastOffset+1)
	if !ok || r.chunks.contains(chunkKey{next.Object, 0}) {
		return
	}
	select {
	case r.ahead <- struct{}{}:
	default:
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() { <-r.ahead }()
		if _, err := r.meta(r.ctx, next); err != nil {
			if r.ctx.Err() == nil {
				r.logger.Debug("remote read-ahead failed", "object", next.Object, "err", err)
			}
			return
		}
		r.prefetch(next, 0)
	}()
}

// prefetch fetches one chunk into the cache unless it is there.
func (r *Reader) prefetch(seg Segment, idx int64) {
	f, fetched, err := r.chunks.open(r.ctx, r.ctx, chunkKey{seg.Object, idx}, r.chunkFetch(seg, idx), false)
	if err != nil {
		if r.ctx.Err() == nil {
			r.logger.Debug("remote read-ahead failed", "object", seg.Object, "chunk", idx, "err", err)
		}
		return
	}
	_ = f.Close()
	if fetched {
		r.m.readAhead.Inc()
	}
}
