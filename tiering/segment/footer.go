package segment

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

const (
	// FooterSize is the size of the footer at the end of every object.
	FooterSize = 144
	// Version is the format version Write produces and ReadFooter reads.
	Version = 1

	magic = "STRATSEG"

	numSections      = 4
	sectionEntrySize = 20
	offSections      = 56
	offReserved      = offSections + numSections*sectionEntrySize // 136
	offFooterCRC     = FooterSize - 4                             // 140

	// batchHeaderSize is the fixed header of a magic-v2 record batch.
	batchHeaderSize = 61
	// Entry sizes of the index sections.
	indexEntrySize     = 8
	timeIndexEntrySize = 12
	epochEntrySize     = 12
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Section locates one part of an object and carries its CRC-32C.
type Section struct {
	Offset int64
	Size   int64
	CRC    uint32
}

// End is the offset just past the section.
func (s Section) End() int64 { return s.Offset + s.Size }

// Footer describes one segment object.
type Footer struct {
	Version      uint16
	LeaderEpoch  int32 // epoch of the leader that uploaded the segment
	BaseOffset   int64 // the segment's base offset; index offsets are relative to it
	LastOffset   int64 // last offset of the last batch
	MaxTimestamp int64 // largest batch max timestamp
	BatchCount   int64
	RecordCount  int64

	Log          Section // the record batches, as stored by the partition log
	OffsetIndex  Section
	TimeIndex    Section
	LeaderEpochs Section
}

func (f *Footer) sections() [numSections]*Section {
	return [numSections]*Section{&f.Log, &f.OffsetIndex, &f.TimeIndex, &f.LeaderEpochs}
}

// ObjectSize is the size of the whole object the footer ends.
func (f Footer) ObjectSize() int64 { return f.LeaderEpochs.End() + FooterSize }

// AppendBinary appends the encoded footer to b.
func (f Footer) AppendBinary(b []byte) ([]byte, error) {
	start := len(b)
	be := binary.BigEndian
	b = append(b, magic...)
	b = be.AppendUint16(b, f.Version)
	b = be.AppendUint16(b, 0) // flags
	b = be.AppendUint32(b, uint32(f.LeaderEpoch))
	b = be.AppendUint64(b, uint64(f.BaseOffset))
	b = be.AppendUint64(b, uint64(f.LastOffset))
	b = be.AppendUint64(b, uint64(f.MaxTimestamp))
	b = be.AppendUint64(b, uint64(f.BatchCount))
	b = be.AppendUint64(b, uint64(f.RecordCount))
	for _, s := range f.sections() {
		b = be.AppendUint64(b, uint64(s.Offset))
		b = be.AppendUint64(b, uint64(s.Size))
		b = be.AppendUint32(b, s.CRC)
	}
	b = be.AppendUint32(b, 0) // reserved
	b = be.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
	return b, nil
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// ParseFooter decodes and checks the FooterSize bytes that end an object of
// objectSize bytes.
func ParseFooter(b []byte, objectSize int64) (Footer, error) {
	if len(b) != FooterSize {
		return Footer{}, corruptf("footer is %d bytes, want %d", len(b), FooterSize)
	}
	if string(b[:len(magic)]) != magic {
		return Footer{}, corruptf("footer magic %q, want %q", b[:len(magic)], magic)
	}
	be := binary.BigEndian
	if stored, got := be.Uint32(b[offFooterCRC:]), crc32.Checksum(b[:offFooterCRC], castagnoli); stored != got {
		return Footer{}, corruptf("footer crc32c %08x, computed %08x", stored, got)
	}
	f := Footer{
		Version:      be.Uint16(b[8:]),
		LeaderEpoch:  int32(be.Uint32(b[12:])),
		BaseOffset:   int64(be.Uint64(b[16:])),
		LastOffset:   int64(be.Uint64(b[24:])),
		MaxTimestamp: int64(be.Uint64(b[32:])),
		BatchCount:   int64(be.Uint64(b[40:])),
		RecordCount:  int64(be.Uint64(b[48:])),
	}
	if f.Version != Version {
		return Footer{}, fmt.Errorf("%w: %d (this build reads %d)", ErrVersion, f.Version, Version)
	}
	if flags := be.Uint16(b[10:]); flags != 0 {
		return Footer{}, corruptf("footer flags %#x, want 0", flags)
	}
	if r := be.Uint32(b[offReserved:]); r != 0 {
		return Footer{}, corruptf("footer reserved bytes %#x, want 0", r)
	}
	for i, s := range f.sections() {
		p := b[offSections+i*sectionEntrySize:]
		s.Offset = int64(be.Uint64(p))
		s.Size = int64(be.Uint64(p[8:]))
		s.CRC = be.Uint32(p[16:])
	}
	if err := f.check(objectSize); err != nil {
		return Footer{}, err
	}
	return f, nil
}

// check validates the footer's fields against each other and the object size.
func (f Footer) check(objectSize int64) error {
	if objectSize < FooterSize {
		return corruptf("object is %d bytes, smaller than a footer", objectSize)
	}
	body := objectSize - FooterSize
	names := [numSections]string{"log", "offset index", "time index", "leader epochs"}
	var at int64
	for i, s := range f.sections() {
		if s.Offset != at || s.Size < 0 || s.Size > body-at {
			return corruptf("%s section [%d,+%d) does not follow at %d within %d body bytes",
				names[i], s.Offset, s.Size, at, body)
		}
		at += s.Size
	}
	if at != body {
		return corruptf("sections end at %d, footer starts at %d", at, body)
	}
	switch {
	case f.Log.Size < batchHeaderSize || f.Log.Size > math.MaxUint32:
		return corruptf("log section size %d out of range", f.Log.Size)
	case f.OffsetIndex.Size%indexEntrySize != 0:
		return corruptf("offset index size %d not a multiple of %d", f.OffsetIndex.Size, indexEntrySize)
	case f.TimeIndex.Size%timeIndexEntrySize != 0:
		return corruptf("time index size %d not a multiple of %d", f.TimeIndex.Size, timeIndexEntrySize)
	case f.LeaderEpochs.Size%epochEntrySize != 0 || f.LeaderEpochs.Size == 0:
		return corruptf("leader epochs size %d not a positive multiple of %d", f.LeaderEpochs.Size, epochEntrySize)
	case f.BaseOffset < 0 || f.LastOffset < f.BaseOffset || f.LastOffset-f.BaseOffset > math.MaxUint32:
		return corruptf("offsets [%d,%d] out of range", f.BaseOffset, f.LastOffset)
	case f.LeaderEpoch < 0:
		return corruptf("leader epoch %d negative", f.LeaderEpoch)
	case f.BatchCount < 1 || f.BatchCount > f.Log.Size/batchHeaderSize:
		return corruptf("batch count %d impossible for %d log bytes", f.BatchCount, f.Log.Size)
	case f.RecordCount < 0 || f.RecordCount > f.LastOffset-f.BaseOffset+1:
		return corruptf("record count %d impossible for offsets [%d,%d]", f.RecordCount, f.BaseOffset, f.LastOffset)
	}
	return nil
}

// RangeFunc reads length bytes at off of one object. It returns an error if
// fewer bytes are available.
type RangeFunc func(ctx context.Context, off, length int64) ([]byte, error)

// ReaderAtRange adapts an io.ReaderAt (a local file, bytes.Reader) to a
// RangeFunc.
func ReaderAtRange(r io.ReaderAt) RangeFunc {
	return func(ctx context.Context, off, length int64) ([]byte, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := make([]byte, length)
		n, err := r.ReadAt(b, off)
		if n == len(b) {
			return b, nil
		}
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read %d bytes at %d: %w", length, off, err)
	}
}

// ReadFooter reads and checks the footer of an object of objectSize bytes
// with one ranged read. A short object or a failed check yields ErrCorrupt;
// an I/O error from get is returned wrapped as is.
func ReadFooter(ctx context.Context, get RangeFunc, objectSize int64) (Footer, error) {
	if objectSize < FooterSize {
		return Footer{}, corruptf("object is %d bytes, smaller than a footer", objectSize)
	}
	b, err := get(ctx, objectSize-FooterSize, FooterSize)
	if err != nil {
		return Footer{}, fmt.Errorf("segment: read footer: %w", err)
	}
	if len(b) != FooterSize {
		return Footer{}, corruptf("footer read returned %d bytes, want %d", len(b), FooterSize)
	}
	return ParseFooter(b, objectSize)
}

// ReadSection reads one section with one ranged read and verifies its
// checksum. Use it for the index sections; the log section is read in
// ranges by the cold reader (each batch carries its own CRC).
func ReadSection(ctx context.Context, get RangeFunc, s Section) ([]byte, error) {
	if s.Size == 0 {
		return nil, VerifySection(s, nil)
	}
	b, err := get(ctx, s.Offset, s.Size)
	if err != nil {
		return nil, fmt.Errorf("segment: read section at %d: %w", s.Offset, err)
	}
	if err := VerifySection(s, b); err != nil {
		return nil, err
	}
	return b, nil
}

// VerifySection checks that data is the whole section s: its length and its
// CRC-32C.
func VerifySection(s Section, data []byte) error {
	if int64(len(data)) != s.Size {
		return corruptf("section at %d is %d bytes, footer says %d", s.Offset, len(data), s.Size)
	}
	if got := crc32.Checksum(data, castagnoli); got != s.CRC {
		return corruptf("section at %d crc32c %08x, footer says %08x", s.Offset, got, s.CRC)
	}
	return nil
}

// VerifyObject streams the whole object through r and checks the footer and
// every section checksum (a scrub; readers normally verify only what they
// read).
func VerifyObject(ctx context.Context, r io.ReaderAt, objectSize int64) (Footer, error) {
	f, err := ReadFooter(ctx, ReaderAtRange(r), objectSize)
	if err != nil {
		return Footer{}, err
	}
	buf := make([]byte, 256<<10)
	for _, s := range f.sections() {
		h := crc32.New(castagnoli)
		n, err := io.CopyBuffer(h, io.NewSectionReader(r, s.Offset, s.Size), buf)
		if err == nil && n != s.Size {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return Footer{}, fmt.Errorf("segment: verify section at %d: %w", s.Offset, err)
		}
		if err := ctx.Err(); err != nil {
			return Footer{}, err
		}
		if got := h.Sum32(); got != s.CRC {
			return Footer{}, corruptf("section at %d crc32c %08x, footer says %08x", s.Offset, got, s.CRC)
		}
	}
	return f, nil
}
