package remote

import "context"

// A catch-up consumer asks for far more than one segment holds (fetch
// sizes of 16 MiB or more against segments of a few MiB), so an unpaced
// Read continues into the following remote segments while the batches
// fit, filling one buffer: the caller gets a full response without
// gluing per-segment reads together (a copy of every byte).

// spanHint is the buffer to allocate for an unpaced read of up to maxBytes
// starting in seg: the bytes that seg and the segments after it can give
// (their object sizes bound their log sections), at most maxBytes. 0 when
// paced (the read then stays in seg).
func (r *Reader) spanHint(segs []Segment, seg Segment, maxBytes int, paced bool) int {
	if paced || maxBytes <= 0 {
		return 0
	}
	avail := seg.Size
	for s := seg; avail < int64(maxBytes); {
		next, ok := find(segs, s.LastOffset+1)
		if !ok || next.BaseOffset <= s.LastOffset {
			break
		}
		avail += next.Size
		s = next
	}
	return int(min(avail, int64(maxBytes))) + batchHeaderSize
}

// readFollowing appends to data (batches of seg) the batches of the
// segments after seg while they fit in maxBytes, in place when data has
// the room. An error ends it quietly: data is a complete answer already,
// and the consumer's next fetch reads the failing segment on its own (and
// gets its error).
func (r *Reader) readFollowing(ctx context.Context, segs []Segment, seg Segment, data []byte, maxBytes int) []byte {
	for end := data; len(end) > 0 && lastOffset(end) == seg.LastOffset && len(data)+batchHeaderSize <= maxBytes; {
		next, ok := find(segs, seg.LastOffset+1)
		if !ok || next.BaseOffset <= seg.LastOffset {
			break
		}
		left := maxBytes - len(data)
		more, start, err := r.readSegment(ctx, next, next.BaseOffset, left, r.spanHint(segs, next, left, false), data[len(data):])
		if err != nil || len(more) == 0 || len(more) > left {
			break
		}
		r.readAhead(next, start, start+int64(len(more)))
		if adjacent(data, more) {
			data = data[:len(data)+len(more)]
		} else {
			data = append(data, more...)
		}
		seg, end = next, more
	}
	return data
}

// lastOffset is the last offset of the last batch in data (whole batches
// that passed verifyBatches).
func lastOffset(data []byte) int64 {
	last := int64(-1)
	for p := 0; p+batchHeaderSize <= len(data); {
		h, err := parseHeader("", data[p:], 0, int64(len(data)-p))
		if err != nil {
			return -1
		}
		last = h.last
		p += int(h.total)
	}
	return last
}

// adjacent reports whether b starts right where a ends, in a's capacity.
func adjacent(a, b []byte) bool {
	return len(b) > 0 && cap(a)-len(a) >= len(b) && &a[:len(a)+1][len(a)] == &b[0]
}
