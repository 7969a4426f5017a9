package broker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/broker/wire"
)

// conn is one client connection: a read goroutine that decodes requests and
// runs their handlers in order, and a write goroutine that sends responses
// in request order, waiting on pending ones.
type conn struct {
	b        *Broker
	nc       net.Conn
	log      *slog.Logger
	clientID string
	remote   string

	ctx    context.Context
	cancel context.CancelFunc
}

type queued struct {
	key     int16
	start   time.Time
	corr    int32
	version int16 // response version to set; -1 keeps the handler's
	r       reply
}

func (b *Broker) serveConn(ctx context.Context, nc net.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	c := &conn{b: b, nc: nc, remote: nc.RemoteAddr().String(), ctx: ctx, cancel: cancel}
	c.log = b.log.With("remote", c.remote)
	defer cancel()
	defer nc.Close()

	// Bounded: a client that pipelines more than this waits for responses.
	out := make(chan queued, 64)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.writeLoop(out)
	}()
	c.readLoop(out)
	close(out)
	wg.Wait()
}

func (c *conn) readLoop(out chan<- queued) {
	br := bufio.NewReaderSize(c.nc, 64<<10)
	var buf []byte
	for {
		frame, err := wire.ReadFrame(br, c.b.cfg.SocketRequestMaxBytes, buf)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && c.ctx.Err() == nil {
				if errors.Is(err, wire.ErrFrameTooLarge) || errors.Is(err, wire.ErrMalformed) {
					c.b.metrics.closed.WithLabelValues(closeReason(err)).Inc()
				}
				c.log.Warn("closing connection", "err", err)
			}
			return
		}
		start := time.Now()
		q, key, err := c.handleFrame(frame)
		q.key, q.start = key, start
		if err != nil {
			c.b.metrics.closed.WithLabelValues(closeReason(err)).Inc()
			c.log.Warn("closing connection", "err", err)
			return
		}
		// Produce and Fetch handlers never keep references into the
		// frame, so its buffer is reused; others (group metadata,
		// assignments) may retain bytes and get a fresh buffer.
		if (key == 0 || key == 1) && cap(frame) <= 8<<20 {
			buf = frame[:0]
		} else {
			buf = nil
		}
		if q.r.none {
			continue
		}
		select {
		case out <- q:
		case <-c.ctx.Done():
			return
		}
	}
}

// handleFrame decodes and dispatches one request. A non-nil error means the
// frame could not be understood and the connection must close.
func (c *conn) handleFrame(frame []byte) (queued, int16, error) {
	h, err := wire.ParseHeaderPrefix(frame)
	if err != nil {
		return queued{}, -1, err
	}
	entry, ok := lookupAPI(h.Key, h.Version)
	if !ok {
		if h.Key == 18 && entry != nil && h.Version > entry.max {
			return queued{corr: h.CorrelationID, version: -1, r: now(unsupportedApiVersions())}, h.Key, nil
		}
		return queued{}, h.Key, errors.New(unsupportedMessage(h.Key, h.Version))
	}
	req := kmsg.RequestForKey(h.Key)
	if err := wire.ParseRequest(frame, &h, req); err != nil {
		return queued{}, h.Key, err
	}
	if h.ClientID != "" && c.clientID != h.ClientID {
		c.clientID = h.ClientID
	}
	c.b.metrics.request(h.Key, h.Version)
	return queued{corr: h.CorrelationID, version: h.Version, r: entry.fn(c.b, c, req)}, h.Key, nil
}

func unsupportedMessage(key, version int16) string {
	if _, ok := apis[key]; !ok {
		return fmt.Sprintf("unknown api key %d", key)
	}
	return fmt.Sprintf("unsupported version %d of %s", version, kmsg.NameForKey(key))
}

func (c *conn) writeLoop(in <-chan queued) {
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	var buf []byte
	broken := false
	for q := range in {
		resp := q.r.resp
		if resp == nil {
			select {
			case resp = <-q.r.ch:
			case <-c.ctx.Done():
				broken = true
			}
		}
		if broken || resp == nil {
			broken = true
			continue // drain so the reader never blocks forever
		}
		if q.version >= 0 {
			resp.SetVersion(q.version)
		}
		if fr, ok := resp.(*kmsg.FetchResponse); ok {
			// Large fetches go out with their stored batches spliced in by
			// writev instead of copied into the encoding.
			bufs, spliced, err := wire.AppendFetchSpliced(buf[:0], q.corr, fr)
			if err != nil {
				c.log.Warn("fetch splice failed; encoding plainly", "err", err)
			}
			if spliced {
				nb := net.Buffers(bufs)
				if err := bw.Flush(); err == nil {
					_, err = nb.WriteTo(c.nc)
				}
				q.r.released() // writev copied (or failed with) every buffer
				if err != nil {
					broken = true
					c.cancel()
					c.nc.Close()
				}
				c.b.metrics.observe(q.key, time.Since(q.start).Seconds())
				continue
			}
		}
		buf = wire.AppendResponse(buf[:0], q.corr, resp)
		q.r.released() // encoded: resp's buffers are no longer needed
		if _, err := bw.Write(buf); err != nil {
			c.log.Info("connection write failed; closing", "err", err)
			broken = true
			c.cancel()
			c.nc.Close()
			continue
		}
		c.b.metrics.observe(q.key, time.Since(q.start).Seconds())
		if cap(buf) > 4<<20 {
			buf = nil
		}
		if len(in) == 0 {
			if err := bw.Flush(); err != nil {
				broken = true
				c.cancel()
				c.nc.Close()
			}
		}
	}
}

// closeReason labels why a connection was closed, for metrics.
func closeReason(err error) string {
	switch {
	case errors.Is(err, wire.ErrFrameTooLarge):
		return "frame_too_large"
	case errors.Is(err, wire.ErrMalformed):
		return "malformed"
	default:
		return "unsupported_api"
	}
}
