package partlog

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// errTorn marks a batch that is short, has a bad length or fails its CRC: the
// point where recovery truncates.
var errTorn = errors.New("torn or corrupt batch")

// scanner walks the batches of one segment file from a position up to a
// limit, reading through a buffer so that small batches cost no syscalls. In
// header mode it only reads headers (batches larger than the buffer are
// skipped with one pread per header); in full mode it also checks each CRC.
type scanner struct {
	f     file
	pos   int64 // file position of the next batch
	limit int64 // bytes of the file that may be read
	full  bool  // verify CRCs (needs whole batches in the buffer)
	chunk int   // preferred read size

	buf    []byte
	bufPos int64 // file position of buf[0]
}

func newScanner(f file, pos, limit int64, full bool, chunk int) *scanner {
	return &scanner{f: f, pos: pos, limit: limit, full: full, chunk: chunk}
}

// ensure makes n bytes at s.pos available in s.buf and returns them.
func (s *scanner) ensure(n int) ([]byte, error) {
	if s.pos+int64(n) > s.limit {
		return nil, fmt.Errorf("%w: %d bytes needed at position %d, segment ends at %d", errTorn, n, s.pos, s.limit)
	}
	if s.pos >= s.bufPos && s.pos+int64(n) <= s.bufPos+int64(len(s.buf)) {
		off := s.pos - s.bufPos
		return s.buf[off : off+int64(n)], nil
	}
	want := max(n, s.chunk)
	if rem := s.limit - s.pos; int64(want) > rem {
		want = int(rem)
	}
	if cap(s.buf) < want {
		s.buf = make([]byte, want)
	}
	s.buf = s.buf[:want]
	got, err := s.f.ReadAt(s.buf, s.pos)
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: short read at position %d", errTorn, s.pos)
		}
		return nil, fmt.Errorf("read at %d: %w", s.pos, err)
	}
	s.buf = s.buf[:got]
	s.bufPos = s.pos
	return s.buf[:n], nil
}

// next returns the header and position of the next batch, io.EOF at the
// limit, or an errTorn-wrapped error for a bad batch (s.pos stays at it).
func (s *scanner) next() (BatchHeader, int64, error) {
	if s.pos >= s.limit {
		return BatchHeader{}, s.pos, io.EOF
	}
	hb, err := s.ensure(BatchHeaderSize)
	if err != nil {
		return BatchHeader{}, s.pos, err
	}
	h := decodeHeader(hb)
	if err := checkHeader(h); err != nil {
		return h, s.pos, fmt.Errorf("%w at position %d: %w", errTorn, s.pos, err)
	}
	size := int64(h.Size())
	if s.pos+size > s.limit {
		return h, s.pos, fmt.Errorf("%w: batch at position %d needs %d bytes, segment ends at %d", errTorn, s.pos, size, s.limit)
	}
	if s.full {
		b, err := s.ensure(int(size))
		if err != nil {
			return h, s.pos, err
		}
		if crc32.Checksum(b[offAttributes:], castagnoli) != h.CRC {
			return h, s.pos, fmt.Errorf("%w: crc mismatch at position %d", errTorn, s.pos)
		}
	}
	pos := s.pos
	s.pos += size
	return h, pos, nil
}
