package wire

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Header is a parsed request header.
type Header struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      string
}

// ParseHeaderPrefix reads the fixed part of every request header (key,
// version, correlation id) so that an unsupported key or version can still
// be answered or logged with its correlation id.
func ParseHeaderPrefix(frame []byte) (Header, error) {
	if len(frame) < 8 {
		return Header{}, fmt.Errorf("%w: %d-byte frame is shorter than a request header", ErrMalformed, len(frame))
	}
	return Header{
		Key:           int16(binary.BigEndian.Uint16(frame[0:])),
		Version:       int16(binary.BigEndian.Uint16(frame[2:])),
		CorrelationID: int32(binary.BigEndian.Uint32(frame[4:])),
	}, nil
}

// ParseRequest parses the header and body of frame. h must come from
// ParseHeaderPrefix on the same frame; req is a fresh request of h.Key from
// kmsg with its version set to h.Version. The client id is read (header
// v1+) and, for flexible versions, the header's tagged fields are skipped.
func ParseRequest(frame []byte, h *Header, req kmsg.Request) error {
	b := frame[8:]
	// Client id: nullable int16-length string (header v1 and v2).
	if len(b) < 2 {
		return fmt.Errorf("%w: missing client id", ErrMalformed)
	}
	n := int16(binary.BigEndian.Uint16(b))
	b = b[2:]
	if n > 0 {
		if len(b) < int(n) {
			return fmt.Errorf("%w: client id length %d beyond frame", ErrMalformed, n)
		}
		h.ClientID = string(b[:n])
		b = b[n:]
	} else if n < -1 {
		return fmt.Errorf("%w: client id length %d", ErrMalformed, n)
	}
	req.SetVersion(h.Version)
	if req.IsFlexible() {
		var err error
		if b, err = skipTags(b); err != nil {
			return err
		}
	}
	if err := req.ReadFrom(b); err != nil {
		return fmt.Errorf("%w: %s v%d body: %v", ErrMalformed, kmsg.NameForKey(h.Key), h.Version, err)
	}
	return nil
}

func skipTags(b []byte) ([]byte, error) {
	num, b, err := uvarint(b)
	if err != nil {
		return nil, err
	}
	for i := uint64(0); i < num; i++ {
		if _, b, err = uvarint(b); err != nil { // tag
			return nil, err
		}
		var size uint64
		if size, b, err = uvarint(b); err != nil {
			return nil, err
		}
		if uint64(len(b)) < size {
			return nil, fmt.Errorf("%w: tagged field beyond frame", ErrMalformed)
		}
		b = b[size:]
	}
	return b, nil
}

func uvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, fmt.Errorf("%w: bad uvarint in header", ErrMalformed)
	}
	return v, b[n:], nil
}

// AppendResponse appends a whole response frame (size, response header,
// body) to dst. ApiVersions responses always use header v0 so that clients
// can parse them before they know which versions the broker speaks;
// other flexible responses carry an empty tag buffer (header v1).
func AppendResponse(dst []byte, correlationID int32, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if resp.IsFlexible() && resp.Key() != 18 {
		dst = append(dst, 0)
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}
