package upload

import (
	"errors"
	"io"
)

// objectBody is a segment object as one seekable upload body: the log
// section read in place from the local segment file, then the trailer
// (indexes, leader epochs, footer) from memory. Being seekable, the
// backends send it as it is and retries rewind it, instead of copying the
// whole object through a pipe into a spool file first.
type objectBody struct {
	log     io.ReaderAt
	logSize int64
	trailer []byte
	pos     int64
}

func (b *objectBody) size() int64 { return b.logSize + int64(len(b.trailer)) }

func (b *objectBody) Read(p []byte) (int, error) {
	if b.pos >= b.size() {
		return 0, io.EOF
	}
	if b.pos < b.logSize {
		p = p[:min(int64(len(p)), b.logSize-b.pos)]
		n, err := b.log.ReadAt(p, b.pos)
		b.pos += int64(n)
		if errors.Is(err, io.EOF) {
			if n == len(p) {
				err = nil
			} else {
				err = io.ErrUnexpectedEOF // the file is shorter than the segment
			}
		}
		return n, err
	}
	n := copy(p, b.trailer[b.pos-b.logSize:])
	b.pos += int64(n)
	return n, nil
}

func (b *objectBody) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += b.pos
	case io.SeekEnd:
		off += b.size()
	case io.SeekStart:
	default:
		return b.pos, errors.New("upload: object body: bad whence")
	}
	if off < 0 {
		return b.pos, errors.New("upload: object body: negative position")
	}
	b.pos = off
	return off, nil
}

// trailerWriter drops the first skip bytes written to it (the log section,
// which segment.Write copies while checking it) and keeps the rest.
type trailerWriter struct {
	skip int64
	buf  []byte
}

func (t *trailerWriter) Write(p []byte) (int, error) {
	n := len(p)
	if t.skip > 0 {
		k := min(int64(len(p)), t.skip)
		t.skip -= k
		p = p[k:]
	}
	t.buf = append(t.buf, p...)
	return n, nil
}
