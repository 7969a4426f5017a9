package remote

// maxTracked bounds the per-object sequential-read state.
const maxTracked = 4096

// busyReadAheadChunks caps read-ahead while producers are busy.
const busyReadAheadChunks = 2

// sequential reports whether a read of seg's log section starting at pos
// continues the previous read of the object (or starts the object).
func (r *Reader) sequential(seg Segment, pos int64) bool {
	if pos == 0 {
		return true
	}
	r.mu.Lock()
	prev, seen := r.lastEnd[seg.Object]
	r.mu.Unlock()
	return seen && prev == pos
}

// prefetchRequest starts background GETs of the chunks after the first
// one that a read of up to maxBytes from pos will need, so the chunks of
// one large fetch come in parallel instead of one after another. The read
// itself fetches (or joins the fetch of) the first chunk.
func (r *Reader) prefetchRequest(seg Segment, logSize, pos int64, maxBytes int) {
	if r.cfg.ReadAheadChunks <= 0 || maxBytes <= 0 || !r.sequential(seg, pos) {
		return
	}
	cs := r.cfg.ChunkSize
	end := min(logSize, pos+int64(maxBytes))
	for idx := pos/cs + 1; idx <= (end-1)/cs; idx++ {
		if !r.startPrefetch(seg, idx) {
			return
		}
	}
}

// readAhead notes a read of seg's log section [start, end) and, if it
// continues the previous read of the object (or starts the object), fetches
// the next ReadAheadChunks chunks in the background, continuing into the
// following segment when this one ends first. Read-ahead takes its own
// small slot pool and is skipped when that is full, so it never delays a
// reader.
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
	want := int64(r.cfg.ReadAheadChunks)
	if r.busy() {
		// Paced reads take at most BusyMaxReadBytes each: a chunk or two
		// ahead keeps them from waiting on GETs without bursts of
		// read-ahead GETs competing with producers.
		want = min(want, busyReadAheadChunks)
	}
	first := end / cs // usually partly read already
	if left := first + want - lastChunk; left > 0 {
		r.readAheadNext(seg, left)
	}
	for idx := first; idx <= min(lastChunk, first+want); idx++ {
		if !r.startPrefetch(seg, idx) {
			return
		}
	}
}

// startPrefetch brings chunk idx of seg into memory in the background
// (loading it from the disk cache or fetching it) unless it is there or on
// its way. It returns false when the read-ahead pool is full.
func (r *Reader) startPrefetch(seg Segment, idx int64) bool {
	if r.chunks.inMemory(chunkKey{seg.Object, idx}) {
		return true
	}
	select {
	case r.ahead <- struct{}{}:
	default:
		return false
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() { <-r.ahead }()
		r.prefetch(seg, idx)
	}()
	return true
}

// readAheadNext prefetches the first n chunks of the segments after seg
// (their footers and indexes first), for a sequential reader about to cross
// into them: with segments smaller than the read-ahead, it walks as many
// segments as the n chunks span. One walk per partition runs at a time,
// outside the read-ahead slots (it waits on metadata GETs, not chunks).
func (r *Reader) readAheadNext(seg Segment, n int64) {
	pk := partKey{seg.TopicID, seg.Partition}
	next, ok := find(r.view.segments(pk), seg.LastOffset+1)
	if !ok || r.chunks.contains(chunkKey{next.Object, 0}) && n <= 1 {
		return
	}
	r.mu.Lock()
	busy := r.walking[pk] || r.closed
	if !busy {
		r.walking[pk] = true
	}
	r.mu.Unlock()
	if busy {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			r.mu.Lock()
			delete(r.walking, pk)
			r.mu.Unlock()
		}()
		for seg := next; n > 0; {
			m, err := r.meta(r.ctx, seg)
			if err != nil {
				if r.ctx.Err() == nil {
					r.logger.Debug("remote read-ahead failed", "object", seg.Object, "err", err)
				}
				return
			}
			chunks := (m.footer.Log.Size-1)/r.cfg.ChunkSize + 1
			for idx := int64(0); idx < min(n, chunks); idx++ {
				if !r.startPrefetch(seg, idx) {
					return
				}
			}
			n -= chunks
			if seg, ok = find(r.view.segments(pk), seg.LastOffset+1); !ok {
				return
			}
		}
	}()
}

// prefetch fetches one chunk into the cache unless it is there.
func (r *Reader) prefetch(seg Segment, idx int64) {
	v, fetched, err := r.chunks.open(r.ctx, r.ctx, chunkKey{seg.Object, idx}, r.chunkFetch(seg, idx), false)
	if err != nil {
		if r.ctx.Err() == nil {
			r.logger.Debug("remote read-ahead failed", "object", seg.Object, "chunk", idx, "err", err)
		}
		return
	}
	v.close()
	if fetched {
		r.m.readAhead.Inc()
	}
}
