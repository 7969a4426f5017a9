package segment

import (
	"encoding/binary"
	"sort"
)

// Lookup returns the log-section position of the last indexed batch whose
// base offset is <= offset (0 when none is), from which a reader scans
// forward to find offset. offsetIndex is the verified offset index section
// (see ReadSection), which callers fetch once and cache. An offset past
// LastOffset yields ErrOutOfRange; an entry pointing outside the log section
// yields ErrCorrupt.
func (f Footer) Lookup(offsetIndex []byte, offset int64) (int64, error) {
	if offset > f.LastOffset {
		return 0, ErrOutOfRange
	}
	if int64(len(offsetIndex)) != f.OffsetIndex.Size {
		return 0, corruptf("offset index is %d bytes, footer says %d", len(offsetIndex), f.OffsetIndex.Size)
	}
	return f.lookupRel(offsetIndex, offset-f.BaseOffset)
}

func (f Footer) lookupRel(offsetIndex []byte, rel int64) (int64, error) {
	if rel <= 0 {
		return 0, nil
	}
	be := binary.BigEndian
	n := len(offsetIndex) / indexEntrySize
	i := sort.Search(n, func(i int) bool {
		return int64(be.Uint32(offsetIndex[i*indexEntrySize:])) > rel
	})
	if i == 0 {
		return 0, nil
	}
	pos := int64(be.Uint32(offsetIndex[(i-1)*indexEntrySize+4:]))
	if pos > f.Log.Size-batchHeaderSize {
		return 0, corruptf("offset index entry %d points at %d, past the log section (%d bytes)", i-1, pos, f.Log.Size)
	}
	return pos, nil
}

// TimeLookup returns a log-section position from which to scan for the first
// batch whose max timestamp is >= ts: every batch before that position has a
// smaller one. A ts above MaxTimestamp yields ErrOutOfRange.
func (f Footer) TimeLookup(timeIndex, offsetIndex []byte, ts int64) (int64, error) {
	if ts > f.MaxTimestamp {
		return 0, ErrOutOfRange
	}
	if int64(len(timeIndex)) != f.TimeIndex.Size {
		return 0, corruptf("time index is %d bytes, footer says %d", len(timeIndex), f.TimeIndex.Size)
	}
	if int64(len(offsetIndex)) != f.OffsetIndex.Size {
		return 0, corruptf("offset index is %d bytes, footer says %d", len(offsetIndex), f.OffsetIndex.Size)
	}
	be := binary.BigEndian
	n := len(timeIndex) / timeIndexEntrySize
	i := sort.Search(n, func(i int) bool {
		return int64(be.Uint64(timeIndex[i*timeIndexEntrySize:])) >= ts
	})
	if i == 0 {
		return 0, nil
	}
	rel := int64(be.Uint32(timeIndex[(i-1)*timeIndexEntrySize+8:]))
	return f.lookupRel(offsetIndex, rel)
}

// EpochEntry says that batches from StartOffset on (until the next entry)
// carry partition leader epoch Epoch.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

// Epochs decodes the verified leader-epoch section. Entries are checked
// to be in increasing epoch and offset order within the segment.
func (f Footer) Epochs(section []byte) ([]EpochEntry, error) {
	if int64(len(section)) != f.LeaderEpochs.Size {
		return nil, corruptf("leader epochs section is %d bytes, footer says %d", len(section), f.LeaderEpochs.Size)
	}
	be := binary.BigEndian
	out := make([]EpochEntry, 0, len(section)/epochEntrySize)
	for p := 0; p+epochEntrySize <= len(section); p += epochEntrySize {
		e := EpochEntry{Epoch: int32(be.Uint32(section[p:])), StartOffset: int64(be.Uint64(section[p+4:]))}
		if e.StartOffset < f.BaseOffset || e.StartOffset > f.LastOffset {
			return nil, corruptf("leader epoch %d starts at %d, outside [%d,%d]", e.Epoch, e.StartOffset, f.BaseOffset, f.LastOffset)
		}
		if n := len(out); n > 0 && (e.Epoch <= out[n-1].Epoch || e.StartOffset <= out[n-1].StartOffset) {
			return nil, corruptf("leader epoch entries out of order at %d", n)
		}
		out = append(out, e)
	}
	return out, nil
}
