package replica

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/broker/wire"
)

// maxResponseBytes bounds a response frame; fetch responses are bounded by
// the request's MaxBytes (plus one oversized first batch per partition).
const maxResponseBytes = 256 << 20

// errProtocol marks a response that cannot be matched or parsed; the
// connection is dropped.
var errProtocol = errors.New("replica: bad response")

// client sends one request at a time over a connection to a leader and
// reads its response.
type client struct {
	conn net.Conn
	addr string
	fmt  *kmsg.RequestFormatter
	corr int32
	wbuf []byte
	rbuf []byte
}

func dialClient(ctx context.Context, dial func(context.Context, string) (net.Conn, error), addr, clientID string) (*client, error) {
	conn, err := dial(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("replica: dial %s: %w", addr, err)
	}
	return &client{conn: conn, addr: addr, fmt: kmsg.NewRequestFormatter(kmsg.FormatterClientID(clientID))}, nil
}

func (c *client) close() { c.conn.Close() }

// request writes req and returns its response, read within timeout. The
// context closes the connection when cancelled, unblocking the call.
func (c *client) request(ctx context.Context, req kmsg.Request, timeout time.Duration) (kmsg.Response, error) {
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := c.conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, fmt.Errorf("replica: %s: %w", c.addr, err)
	}
	c.corr++
	corr := c.corr
	c.wbuf = c.fmt.AppendRequest(c.wbuf[:0], req, corr)
	if _, err := c.conn.Write(c.wbuf); err != nil {
		return nil, c.ioErr(ctx, "write", req, err)
	}
	frame, err := wire.ReadFrame(c.conn, maxResponseBytes, c.rbuf)
	if err != nil {
		return nil, c.ioErr(ctx, "read", req, err)
	}
	if cap(frame) <= 1<<20 {
		c.rbuf = frame[:0] // reuse small buffers; let big ones go
	} else {
		c.rbuf = nil
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	body, err := parseResponseHeader(frame, corr, resp)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", kmsg.NameForKey(req.Key()), c.addr, err)
	}
	// ReadFrom copies what it keeps (no unsafe strings); the record bytes
	// alias frame, which is not reused while the response is in use: the
	// caller finishes with it before the next request.
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("%w: %s from %s: %v", errProtocol, kmsg.NameForKey(req.Key()), c.addr, err)
	}
	return resp, nil
}

func (c *client) ioErr(ctx context.Context, op string, req kmsg.Request, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("replica: %s %s to %s: %w", op, kmsg.NameForKey(req.Key()), c.addr, err)
}

// parseResponseHeader checks the correlation id and skips the flexible
// header's tag buffer (response header v1; ApiVersions always uses v0).
func parseResponseHeader(frame []byte, corr int32, resp kmsg.Response) ([]byte, error) {
	if len(frame) < 4 {
		return nil, fmt.Errorf("%w: %d-byte frame", errProtocol, len(frame))
	}
	if got := int32(binary.BigEndian.Uint32(frame)); got != corr {
		return nil, fmt.Errorf("%w: correlation id %d, want %d", errProtocol, got, corr)
	}
	b := frame[4:]
	if !resp.IsFlexible() || resp.Key() == 18 {
		return b, nil
	}
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("%w: bad tag count", errProtocol)
	}
	b = b[k:]
	for range n {
		if _, k = binary.Uvarint(b); k <= 0 {
			return nil, fmt.Errorf("%w: bad tag", errProtocol)
		}
		b = b[k:]
		size, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < size {
			return nil, fmt.Errorf("%w: bad tag size", errProtocol)
		}
		b = b[k+int(size):]
	}
	return b, nil
}
