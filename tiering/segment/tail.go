package segment

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Tail is the part of a segment log that starts at a batch boundary, as an
// input for Write: the log bytes [Pos, size) of the original segment, with
// indexes rebased onto BaseOffset (the base offset of its first batch).
type Tail struct {
	// Pos is where the tail starts in the original segment log.
	Pos int64
	// BaseOffset is the base offset of the tail's first batch.
	BaseOffset int64
	// OffsetIndex and TimeIndex are the original indexes' entries that fall
	// inside the tail, relative to BaseOffset and Pos.
	OffsetIndex []byte
	TimeIndex   []byte
}

// TailFrom finds the first batch of a segment log whose base offset is >=
// from and returns the tail starting there (a new leader uploading only the
// part of its segment above what another leader already committed). A batch
// holding from without starting at it is skipped: batches are never split.
// base is the segment's base offset, the index layouts are the partition
// log's. No batch at or above from yields ErrOutOfRange; framing that does
// not add up yields ErrCorrupt. Batch CRCs are not checked here (Write does).
func TailFrom(log io.ReaderAt, size int64, offsetIndex, timeIndex []byte, base, from int64) (Tail, error) {
	if len(offsetIndex)%indexEntrySize != 0 {
		return Tail{}, corruptf("offset index size %d not a multiple of %d", len(offsetIndex), indexEntrySize)
	}
	if len(timeIndex)%timeIndexEntrySize != 0 {
		return Tail{}, corruptf("time index size %d not a multiple of %d", len(timeIndex), timeIndexEntrySize)
	}
	be := binary.BigEndian
	// Start scanning at the last indexed batch at or below from.
	pos := int64(0)
	for i := 0; i+indexEntrySize <= len(offsetIndex); i += indexEntrySize {
		if base+int64(be.Uint32(offsetIndex[i:])) > from {
			break
		}
		pos = int64(be.Uint32(offsetIndex[i+4:]))
	}
	var hdr [12]byte
	for {
		if pos >= size {
			return Tail{}, fmt.Errorf("segment: no batch at or above offset %d in segment %d: %w", from, base, ErrOutOfRange)
		}
		if pos+batchHeaderSize > size {
			return Tail{}, corruptf("segment log: batch header at %d past the end (%d bytes)", pos, size)
		}
		if _, err := log.ReadAt(hdr[:], pos); err != nil {
			return Tail{}, fmt.Errorf("segment: read batch header at %d: %w", pos, err)
		}
		b := int64(be.Uint64(hdr[:]))
		length := int64(int32(be.Uint32(hdr[8:])))
		if length < batchHeaderSize-12 || pos+12+length > size || b < base {
			return Tail{}, corruptf("segment log: batch at %d has offset %d, length %d (log is %d bytes)", pos, b, length, size)
		}
		if b >= from {
			return Tail{
				Pos:         pos,
				BaseOffset:  b,
				OffsetIndex: rebaseOffsetIndex(offsetIndex, base, b, pos),
				TimeIndex:   rebaseTimeIndex(timeIndex, base, b),
			}, nil
		}
		pos += 12 + length
	}
}

// rebaseOffsetIndex keeps the entries at or after position pos (batch
// newBase), relative to newBase and pos.
func rebaseOffsetIndex(index []byte, base, newBase, pos int64) []byte {
	be := binary.BigEndian
	var out []byte
	for i := 0; i+indexEntrySize <= len(index); i += indexEntrySize {
		off := base + int64(be.Uint32(index[i:]))
		p := int64(be.Uint32(index[i+4:]))
		if p < pos || off < newBase {
			continue
		}
		out = be.AppendUint32(out, uint32(off-newBase))
		out = be.AppendUint32(out, uint32(p-pos))
	}
	return out
}

// rebaseTimeIndex keeps the entries for offsets at or above newBase,
// relative to it. Dropping the earlier ones keeps lookups correct: they only
// start scanning earlier.
func rebaseTimeIndex(index []byte, base, newBase int64) []byte {
	be := binary.BigEndian
	var out []byte
	for i := 0; i+timeIndexEntrySize <= len(index); i += timeIndexEntrySize {
		off := base + int64(be.Uint32(index[i+8:]))
		if off < newBase {
			continue
		}
		out = be.AppendUint64(out, be.Uint64(index[i:]))
		out = be.AppendUint32(out, uint32(off-newBase))
	}
	return out
}
