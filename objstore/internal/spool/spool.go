// Package spool turns an upload body into a seekable one of known size, so
// backends can send it in one request (S3 and MinIO want a length) and the
// retry wrapper can send it again. Small bodies stay in memory, larger ones
// go to a temporary file that cleanup removes.
package spool

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// MemLimit is the largest body kept in memory; larger ones spill to disk.
const MemLimit = 8 << 20

// Body is a seekable upload body positioned at its start.
type Body struct {
	io.ReadSeeker
	Size int64
	file *os.File
}

// Close removes the temporary file, if any.
func (b *Body) Close() error {
	if b.file == nil {
		return nil
	}
	name := b.file.Name()
	err := b.file.Close()
	return errors.Join(err, os.Remove(name))
}

// Rewind seeks back to the start of the body.
func (b *Body) Rewind() error {
	_, err := b.Seek(0, io.SeekStart)
	return err
}

// New reads r into a Body. A reader that is already an io.ReadSeeker is used
// in place: the body is what lies between its current position and its end,
// and Rewind returns to that position. Any read error is returned wrapped,
// and nothing is left behind.
func New(r io.Reader) (*Body, error) {
	if rs, ok := r.(io.ReadSeeker); ok {
		if b, err := inPlace(rs); err == nil {
			return b, nil
		}
		// Not really seekable (e.g. a pipe behind *os.File): copy it.
	}
	buf := &bytes.Buffer{}
	n, err := io.CopyN(buf, r, MemLimit+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if n <= MemLimit {
		return &Body{ReadSeeker: bytes.NewReader(buf.Bytes()), Size: n}, nil
	}
	f, err := os.CreateTemp("", "strata-objstore-spool-*")
	if err != nil {
		return nil, fmt.Errorf("spool body: %w", err)
	}
	b := &Body{ReadSeeker: f, file: f}
	if _, err := f.Write(buf.Bytes()); err != nil {
		b.Close()
		return nil, fmt.Errorf("spool body: %w", err)
	}
	rest, err := io.Copy(f, r)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("read body: %w", err)
	}
	b.Size = n + rest
	if err := b.Rewind(); err != nil {
		b.Close()
		return nil, fmt.Errorf("spool body: %w", err)
	}
	return b, nil
}

// inPlace wraps a seeker, measuring the bytes left from its position.
func inPlace(rs io.ReadSeeker) (*Body, error) {
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	end, err := rs.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return nil, err
	}
	return &Body{ReadSeeker: &offsetSeeker{rs: rs, start: start}, Size: end - start}, nil
}

// offsetSeeker shows rs as if its position start were position 0.
type offsetSeeker struct {
	rs    io.ReadSeeker
	start int64
}

func (o *offsetSeeker) Read(p []byte) (int, error) { return o.rs.Read(p) }

func (o *offsetSeeker) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekStart {
		off += o.start
	}
	pos, err := o.rs.Seek(off, whence)
	return pos - o.start, err
}
