package remote

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"slices"
)

// Record batch (magic v2) header layout.
const (
	batchHeaderSize  = 61
	batchLogOverhead = 12 // base offset + length, outside the length
	offLength        = 8
	offMagic         = 16
	offCRC           = 17
	offAttributes    = 21
	offLastDelta     = 23
	offMaxTimestamp  = 35
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type batchHeader struct {
	base  int64
	last  int64
	maxTs int64
	total int64 // bytes of the whole batch
}

// window reads a segment's log section forward through the chunk cache,
// a span at a time.
type window struct {
	r       *Reader
	seg     Segment
	logSize int64
	start   int64 // log position of buf[0]
	buf     []byte
	keep    bool // never drop buffered bytes (they will be returned)
	hint    int  // expected buffer size, to allocate once
	// track keeps a reference to every chunk buffer buf was copied from
	// (used), so verify can skip batches already checked against them;
	// done releases them.
	track bool
	used  []usedChunk
}

// usedChunk is a chunk buffer a window copied from and the log position
// of its first byte.
type usedChunk struct {
	buf   *chunkBuf
	start int64
}

// use records a chunk buffer copied from, taking over the reference.
func (w *window) use(b *chunkBuf, start int64) {
	for _, u := range w.used {
		if u.buf == b {
			b.release() // held already
			return
		}
	}
	w.used = append(w.used, usedChunk{b, start})
}

// done releases the chunk buffers the window holds.
func (w *window) done() {
	for _, u := range w.used {
		u.buf.release()
	}
	w.used = nil
}

// verify checks data, the batches at log position at, as verifyBatches
// does, but computes the CRC-32C only of batches not already checked
// against every chunk buffer they were copied from, and marks the ones it
// checks in those buffers.
func (w *window) verify(data []byte, at, lo, hi int64) error {
	if !w.track {
		return verifyBatches(w.seg.Object, data, at, lo, hi)
	}
	return verifyBatchesWith(w.seg.Object, data, at, lo, hi, w.checked, w.markChecked)
}

// checked reports whether every chunk buffer overlapping [pos, pos+n)
// (at least one) has its part of it checked.
func (w *window) checked(pos, n int64) bool {
	found := false
	for _, u := range w.used {
		lo, hi := max(pos, u.start), min(pos+n, u.start+int64(len(u.buf.data)))
		if lo >= hi {
			continue
		}
		if !u.buf.checked(lo-u.start, hi-u.start) {
			return false
		}
		found = true
	}
	return found
}

func (w *window) markChecked(pos, n int64) {
	w.r.m.checksummed.Add(float64(n))
	for _, u := range w.used {
		if lo, hi := max(pos, u.start), min(pos+n, u.start+int64(len(u.buf.data))); lo < hi {
			u.buf.markChecked(lo-u.start, hi-u.start)
		}
	}
}

// minWindow is the least a window reads at once.
const minWindow = 64 << 10

// ensure makes buf cover [pos, pos+n), reading up to minWindow more
// within the current chunk. pos must not be below the window's start.
func (w *window) ensure(ctx context.Context, pos, n int64) ([]byte, error) {
	if pos < w.start || pos+n > w.logSize {
		return nil, corruptErr(w.seg.Object, "read of [%d,+%d) outside the log section of %d bytes", pos, n, w.logSize)
	}
	end := w.start + int64(len(w.buf))
	if pos+n > end {
		if pos > end+minWindow && !w.keep { // far ahead: restart the window there
			w.start, w.buf, end = pos, w.buf[:0], pos
		}
		// Read ahead within the window (up to the expected size), but never
		// into a chunk not needed.
		cs := w.r.cfg.ChunkSize
		have := len(w.buf)
		ahead := max(minWindow, int64(w.hint-have))
		want := min(w.logSize, max(pos+n, min(end+ahead, (end/cs+1)*cs))) - end
		w.buf = slices.Grow(w.buf, max(int(want), w.hint-have))
		w.buf = w.buf[:have+int(want)]
		var keep func(*chunkBuf, int64)
		if w.track {
			keep = w.use
		}
		if err := w.r.readAt(ctx, w.seg, end, w.buf[have:], keep); err != nil {
			w.buf = w.buf[:have]
			return nil, err
		}
	}
	return w.buf[pos-w.start : pos-w.start+n], nil
}

// header reads and sanity-checks the batch header at pos.
func (w *window) header(ctx context.Context, pos int64) (batchHeader, error) {
	if w.logSize-pos < batchHeaderSize {
		return batchHeader{}, corruptErr(w.seg.Object, "batch header at %d cut by the end of the log section (%d bytes)", pos, w.logSize)
	}
	b, err := w.ensure(ctx, pos, batchHeaderSize)
	if err != nil {
		return batchHeader{}, err
	}
	return parseHeader(w.seg.Object, b, pos, w.logSize-pos)
}

func parseHeader(object string, b []byte, pos, avail int64) (batchHeader, error) {
	be := binary.BigEndian
	length := int64(int32(be.Uint32(b[offLength:])))
	h := batchHeader{
		base:  int64(be.Uint64(b)),
		maxTs: int64(be.Uint64(b[offMaxTimestamp:])),
		total: batchLogOverhead + length,
	}
	delta := int64(int32(be.Uint32(b[offLastDelta:])))
	h.last = h.base + delta
	switch {
	case b[offMagic] != 2:
		return h, corruptErr(object, "batch at %d has magic %d", pos, b[offMagic])
	case length < batchHeaderSize-batchLogOverhead || h.total > avail:
		return h, corruptErr(object, "batch at %d has length %d with %d bytes left", pos, length, avail)
	case delta < 0 || h.base < 0:
		return h, corruptErr(object, "batch at %d has offsets [%d,+%d]", pos, h.base, delta)
	}
	return h, nil
}

// verifyBatches checks that data is whole batches, each with magic 2, a
// good CRC-32C and offsets increasing inside [lo, hi].
func verifyBatches(object string, data []byte, at, lo, hi int64) error {
	return verifyBatchesWith(object, data, at, lo, hi, nil, nil)
}

// verifyBatchesWith is verifyBatches that skips the CRC of a batch at
// log position pos of n bytes when known(pos, n), and reports each batch
// whose CRC it checked to checked. Either may be nil.
func verifyBatchesWith(object string, data []byte, at, lo, hi int64, known func(pos, n int64) bool, checked func(pos, n int64)) error {
	be := binary.BigEndian
	next := lo
	for p := int64(0); p < int64(len(data)); {
		if int64(len(data))-p < batchHeaderSize {
			return corruptErr(object, "batch at %d cut short", at+p)
		}
		h, err := parseHeader(object, data[p:], at+p, int64(len(data))-p)
		if err != nil {
			return err
		}
		if h.base < next || h.last > hi {
			return corruptErr(object, "batch at %d has offsets [%d,%d], want within [%d,%d]", at+p, h.base, h.last, next, hi)
		}
		batch := data[p : p+h.total]
		if known == nil || !known(at+p, h.total) {
			if want, got := be.Uint32(batch[offCRC:]), crc32.Checksum(batch[offAttributes:], castagnoli); want != got {
				return corruptErr(object, "batch at %d (offset %d) crc32c %08x, header says %08x", at+p, h.base, got, want)
			}
			if checked != nil {
				checked(at+p, h.total)
			}
		}
		next = h.last + 1
		p += h.total
	}
	return nil
}
