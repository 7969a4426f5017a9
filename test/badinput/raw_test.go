package badinput

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawConn is one TCP connection on which the test writes frames itself, so
// it controls versions and can send what no client library would.
type rawConn struct {
	net.Conn
	corr int32
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := dialRawErr(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func dialRawErr(addr string) (*rawConn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &rawConn{Conn: nc}, nil
}

// writeFrame writes body behind its 4-byte size prefix.
func (c *rawConn) writeFrame(body []byte) error {
	return c.writeBytes(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body)
}

// writeBytes writes exactly the given bytes (no size prefix added).
func (c *rawConn) writeBytes(parts ...[]byte) error {
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	for _, p := range parts {
		if _, err := c.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// frameOf returns the whole frame (size included) of req at req's version.
func (c *rawConn) frameOf(req kmsg.Request) ([]byte, int32) {
	c.corr++
	return kmsg.NewRequestFormatter(kmsg.FormatterClientID("badinput")).AppendRequest(nil, req, c.corr), c.corr
}

// readFrame reads one response frame, returning its correlation id and the
// rest of the frame.
func (c *rawConn) readFrame(timeout time.Duration) (int32, []byte, error) {
	c.SetReadDeadline(time.Now().Add(timeout))
	var sz [4]byte
	if _, err := io.ReadFull(c, sz[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(sz[:])
	if n < 4 || n > 256<<20 {
		return 0, nil, fmt.Errorf("response frame size %d", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(c, buf); err != nil {
		return 0, nil, err
	}
	return int32(binary.BigEndian.Uint32(buf)), buf[4:], nil
}

// roundTrip sends req at its set version and decodes the response.
func (c *rawConn) roundTrip(t testing.TB, req kmsg.Request) kmsg.Response {
	t.Helper()
	resp, err := c.roundTripErr(req)
	if err != nil {
		t.Fatalf("%s v%d: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp
}

func (c *rawConn) roundTripErr(req kmsg.Request) (kmsg.Response, error) {
	frame, corr := c.frameOf(req)
	if err := c.writeBytes(frame); err != nil {
		return nil, err
	}
	got, body, err := c.readFrame(15 * time.Second)
	if err != nil {
		return nil, err
	}
	if got != corr {
		return nil, fmt.Errorf("correlation id %d, want %d", got, corr)
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if resp.IsFlexible() && req.Key() != 18 { // response header v1: tag buffer
		body, err = skipTagBuffer(body)
		if err != nil {
			return nil, err
		}
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	return resp, nil
}

func skipTagBuffer(b []byte) ([]byte, error) {
	r := kbin.Reader{Src: b}
	n := r.Uvarint()
	for i := uint32(0); i < n; i++ {
		r.Uvarint()
		r.Span(int(r.Uvarint()))
	}
	if err := r.Complete(); err != nil && !errors.Is(err, kbin.ErrNotEnoughData) {
		return nil, err
	}
	if !r.Ok() {
		return nil, errShortResponse
	}
	return r.Src, nil
}

// expectClosed asserts that the broker closes the connection without
// answering: the next read sees EOF or a reset, not data and not a timeout.
func expectClosed(t testing.TB, c *rawConn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 256)
	n, err := c.Read(buf)
	switch {
	case n > 0:
		t.Errorf("%s: broker answered %d bytes (% x), want the connection closed", what, n, buf[:n])
	case err == nil:
		t.Errorf("%s: read returned nothing and no error", what)
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Errorf("%s: connection still open after 5s, want it closed", what)
	case errors.Is(err, io.EOF), isReset(err):
	default:
		t.Errorf("%s: unexpected read error %v, want EOF", what, err)
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// header returns a request header (v1: key, version, correlation id,
// client id) for hand-made frames.
func header(key, version int16, corr int32) []byte {
	b := kbin.AppendInt16(nil, key)
	b = kbin.AppendInt16(b, version)
	b = kbin.AppendInt32(b, corr)
	return kbin.AppendString(b, "badinput")
}

// batchOpts describe a record batch to build by hand.
type batchOpts struct {
	values        []string
	producerID    int64 // -1 when not idempotent
	producerEpoch int16
	firstSeq      int32
}

// makeBatch encodes a magic-2 record batch with a correct length and
// CRC-32C, uncompressed, base offset 0.
func makeBatch(o batchOpts) []byte {
	var recs []byte
	now := time.Now().UnixMilli()
	for i, v := range o.values {
		var body []byte
		body = kbin.AppendInt8(body, 0)                // attributes
		body = kbin.AppendVarlong(body, 0)             // timestamp delta
		body = kbin.AppendVarint(body, int32(i))       // offset delta
		body = kbin.AppendVarint(body, -1)             // null key
		body = kbin.AppendVarintBytes(body, []byte(v)) // value
		body = kbin.AppendVarint(body, 0)              // no headers
		recs = kbin.AppendVarint(recs, int32(len(body)))
		recs = append(recs, body...)
	}
	b := kbin.AppendInt64(nil, 0) // base offset
	b = kbin.AppendInt32(b, 0)    // length, below
	b = kbin.AppendInt32(b, -1)   // partition leader epoch
	b = kbin.AppendInt8(b, 2)     // magic
	b = kbin.AppendInt32(b, 0)    // crc, below
	b = kbin.AppendInt16(b, 0)    // attributes
	b = kbin.AppendInt32(b, int32(len(o.values)-1))
	b = kbin.AppendInt64(b, now) // first timestamp
	b = kbin.AppendInt64(b, now) // max timestamp
	b = kbin.AppendInt64(b, o.producerID)
	b = kbin.AppendInt16(b, o.producerEpoch)
	b = kbin.AppendInt32(b, o.firstSeq)
	b = kbin.AppendInt32(b, int32(len(o.values)))
	b = append(b, recs...)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	fixCRC(b)
	return b
}

// fixCRC recomputes a batch's CRC-32C (over attributes to the end).
func fixCRC(b []byte) {
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
}

func plainBatch(values ...string) []byte {
	return makeBatch(batchOpts{values: values, producerID: -1, producerEpoch: -1, firstSeq: -1})
}

// produceReq is a Produce v9 (topics by name) for one partition.
func produceReq(topic string, partition int32, acks int16, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks = acks
	req.TimeoutMillis = 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition = partition
	rp.Records = records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// produceRaw sends one partition's records and returns that partition's
// response.
func produceRaw(t testing.TB, c *rawConn, topic string, partition int32, acks int16, records []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	resp := c.roundTrip(t, produceReq(topic, partition, acks, records)).(*kmsg.ProduceResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("produce response has %d topics, want 1 with 1 partition: %+v", len(resp.Topics), resp.Topics)
	}
	return resp.Topics[0].Partitions[0]
}
