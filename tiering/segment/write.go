package segment

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
)

// Meta is what Write needs beyond the segment's bytes.
type Meta struct {
	// BaseOffset is the segment's base offset (its file name in the
	// partition log); index entries are relative to it.
	BaseOffset int64
	// LeaderEpoch is the epoch of the leader uploading the segment.
	LeaderEpoch int32
}

// Write streams one segment object to w: size bytes of record batches read
// from segmentLog, the offset and time index (partition-log layout), the
// leader-epoch section and the footer. It reads the log once, sequentially,
// through a small buffer, checking every batch's framing and CRC and that
// each index entry points at a batch boundary; the returned Footer holds what
// it computed. A malformed segment yields ErrCorrupt before the footer is
// written (the caller discards the partial object).
func Write(w io.Writer, segmentLog io.ReaderAt, size int64, offsetIndex, timeIndex []byte, meta Meta) (Footer, error) {
	if meta.BaseOffset < 0 || meta.LeaderEpoch < 0 {
		return Footer{}, fmt.Errorf("segment: write: bad meta %+v", meta)
	}
	if size < batchHeaderSize || size > math.MaxUint32 {
		return Footer{}, corruptf("segment log size %d out of range", size)
	}
	if len(offsetIndex)%indexEntrySize != 0 {
		return Footer{}, corruptf("offset index size %d not a multiple of %d", len(offsetIndex), indexEntrySize)
	}
	if len(timeIndex)%timeIndexEntrySize != 0 {
		return Footer{}, corruptf("time index size %d not a multiple of %d", len(timeIndex), timeIndexEntrySize)
	}
	cw := &crcWriter{w: w, h: crc32.New(castagnoli)}
	f := Footer{Version: Version, LeaderEpoch: meta.LeaderEpoch, BaseOffset: meta.BaseOffset}
	epochs, err := copyBatches(cw, segmentLog, size, offsetIndex, &f)
	if err != nil {
		return Footer{}, err
	}
	if err := checkTimeIndex(timeIndex, f); err != nil {
		return Footer{}, err
	}
	for _, s := range []struct {
		sec  *Section
		data []byte
	}{{&f.Log, nil}, {&f.OffsetIndex, offsetIndex}, {&f.TimeIndex, timeIndex}, {&f.LeaderEpochs, epochs}} {
		if s.sec != &f.Log {
			cw.reset()
			if _, err := cw.Write(s.data); err != nil {
				return Footer{}, fmt.Errorf("segment: write: %w", err)
			}
		}
		*s.sec = Section{Offset: cw.off - cw.n, Size: cw.n, CRC: cw.h.Sum32()}
	}
	fb, _ := f.AppendBinary(make([]byte, 0, FooterSize))
	if _, err := w.Write(fb); err != nil {
		return Footer{}, fmt.Errorf("segment: write footer: %w", err)
	}
	return f, nil
}

// copyBatches copies the log section to cw batch by batch, validating as it
// goes and filling f's offsets, timestamp and counts. It returns the encoded
// leader-epoch section.
func copyBatches(cw *crcWriter, log io.ReaderAt, size int64, offsetIndex []byte, f *Footer) ([]byte, error) {
	br := bufio.NewReaderSize(io.NewSectionReader(log, 0, size), 64<<10)
	be := binary.BigEndian
	batchCRC := crc32.New(castagnoli)
	body := io.MultiWriter(cw, batchCRC)
	var epochs []byte
	lastEpoch := int32(-1)
	next := f.BaseOffset // lowest base offset the next batch may have
	f.MaxTimestamp = -1
	idx := 0 // next offset index entry to match
	for pos := int64(0); pos < size; {
		hdr, err := br.Peek(batchHeaderSize)
		if err != nil {
			return nil, corruptf("segment log: batch header at %d: %v", pos, err)
		}
		base := int64(be.Uint64(hdr))
		length := int64(int32(be.Uint32(hdr[8:])))
		epoch := int32(be.Uint32(hdr[12:]))
		wantCRC := be.Uint32(hdr[17:])
		lastDelta := int64(int32(be.Uint32(hdr[23:])))
		maxTs := int64(be.Uint64(hdr[35:]))
		records := int64(int32(be.Uint32(hdr[57:])))
		total := 12 + length
		switch {
		case hdr[16] != 2:
			return nil, corruptf("segment log: batch at %d has magic %d", pos, hdr[16])
		case length < batchHeaderSize-12 || total > size-pos:
			return nil, corruptf("segment log: batch at %d has length %d (log is %d bytes)", pos, length, size)
		case base < next || lastDelta < 0 || base+lastDelta-f.BaseOffset > math.MaxUint32:
			return nil, corruptf("segment log: batch at %d has offsets [%d,+%d], want base >= %d", pos, base, lastDelta, next)
		case records < 0:
			return nil, corruptf("segment log: batch at %d has record count %d", pos, records)
		case epoch < lastEpoch:
			return nil, corruptf("segment log: batch at %d has leader epoch %d after %d", pos, epoch, lastEpoch)
		}
		if idx < len(offsetIndex)/indexEntrySize {
			rel := int64(be.Uint32(offsetIndex[idx*indexEntrySize:]))
			ipos := int64(be.Uint32(offsetIndex[idx*indexEntrySize+4:]))
			if ipos < pos {
				return nil, corruptf("offset index entry %d points at %d, not a batch boundary", idx, ipos)
			}
			if ipos == pos {
				if f.BaseOffset+rel != base {
					return nil, corruptf("offset index entry %d says offset %d at %d, batch there has %d", idx, f.BaseOffset+rel, pos, base)
				}
				idx++
			}
		}
		if epoch != lastEpoch || len(epochs) == 0 {
			epochs = be.AppendUint32(epochs, uint32(epoch))
			epochs = be.AppendUint64(epochs, uint64(base))
			lastEpoch = epoch
		}
		// The batch CRC covers everything from the attributes on.
		if _, err := io.CopyN(cw, br, 21); err != nil {
			return nil, copyErr(pos, err)
		}
		batchCRC.Reset()
		if _, err := io.CopyN(body, br, total-21); err != nil {
			return nil, copyErr(pos, err)
		}
		if got := batchCRC.Sum32(); got != wantCRC {
			return nil, corruptf("segment log: batch at %d (offset %d) crc32c %08x, header says %08x", pos, base, got, wantCRC)
		}
		f.BatchCount++
		f.RecordCount += records
		f.LastOffset = base + lastDelta
		f.MaxTimestamp = max(f.MaxTimestamp, maxTs)
		next = f.LastOffset + 1
		pos += total
	}
	if idx != len(offsetIndex)/indexEntrySize {
		return nil, corruptf("offset index entry %d points past the last batch", idx)
	}
	if f.RecordCount > f.LastOffset-f.BaseOffset+1 {
		return nil, corruptf("segment log: %d records in offsets [%d,%d]", f.RecordCount, f.BaseOffset, f.LastOffset)
	}
	return epochs, nil
}

func copyErr(pos int64, err error) error {
	var we *writeError
	if errors.As(err, &we) {
		return fmt.Errorf("segment: write: %w", we.err)
	}
	return corruptf("segment log: batch at %d: %v", pos, err)
}

// checkTimeIndex checks the partition-log time index against the batches:
// strictly growing timestamps, non-decreasing offsets inside the segment.
func checkTimeIndex(timeIndex []byte, f Footer) error {
	be := binary.BigEndian
	prevTs, prevRel := int64(math.MinInt64), int64(-1)
	for i := 0; i < len(timeIndex)/timeIndexEntrySize; i++ {
		ts := int64(be.Uint64(timeIndex[i*timeIndexEntrySize:]))
		rel := int64(be.Uint32(timeIndex[i*timeIndexEntrySize+8:]))
		if ts <= prevTs && i > 0 || rel < prevRel || f.BaseOffset+rel > f.LastOffset || ts > f.MaxTimestamp {
			return corruptf("time index entry %d (ts %d, offset %d) out of order or range", i, ts, f.BaseOffset+rel)
		}
		prevTs, prevRel = ts, rel
	}
	return nil
}

// writeError marks a failure of the destination writer, so it is not
// reported as corrupt input.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// crcWriter forwards to w, counting bytes and checksumming the current
// section.
type crcWriter struct {
	w   io.Writer
	h   hash.Hash32
	off int64 // bytes written in total
	n   int64 // bytes of the current section
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.off += int64(n)
	c.n += int64(n)
	if err != nil {
		return n, &writeError{err}
	}
	return n, nil
}

func (c *crcWriter) reset() {
	c.h.Reset()
	c.n = 0
}
