package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrFrameTooLarge is returned when a frame's size prefix exceeds the limit
// (Kafka's socket.request.max.bytes).
var ErrFrameTooLarge = errors.New("frame larger than socket.request.max.bytes")

// ErrMalformed marks a frame or header that cannot be parsed.
var ErrMalformed = errors.New("malformed request")

// ReadFrame reads one size-prefixed frame from r into buf (grown when
// needed) and returns the frame body without its 4-byte size.
func ReadFrame(r io.Reader, max int32, buf []byte) ([]byte, error) {
	var sz [4]byte
	if _, err := io.ReadFull(r, sz[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(sz[:]))
	if n < 0 {
		return nil, fmt.Errorf("%w: negative frame size %d", ErrMalformed, n)
	}
	if n > max {
		return nil, fmt.Errorf("%w: %d > %d", ErrFrameTooLarge, n, max)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}
