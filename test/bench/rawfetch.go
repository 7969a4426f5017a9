package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The tiering section reads with a raw Fetch reader: Fetch requests like
// any consumer's, but the record batches are checked (offsets contiguous,
// CRC-32C) and counted, not decoded into records. The plain ranged-GET
// reference does not decode either; a decoding consumer on the same two
// cores would measure franz-go's record decoding, not the broker (the
// franz-go consumer's figure is still reported next to it).
const (
	rawFetchMaxBytes     = 64 << 20
	rawFetchMaxPartBytes = 16 << 20
	rawFetchMaxWait      = 500 * time.Millisecond
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// rawReader reads partition 0 of one topic over its own connection with
// Fetch v12 requests, one response buffer reused, and keeps one request
// ahead: as soon as a response is in it asks for the data after it, then
// checks the batches it got while the broker prepares the next, as
// consumers' prefetching does (franz-go, librdkafka).
type rawReader struct {
	nc    net.Conn
	br    *bufio.Reader
	topic string
	corr  int32
	req   []byte // encoding scratch
	buf   []byte // the last response
	stop  func() bool
}

const rawFetchVersion = 12 // topic names; flexible (request header v2)

func newRawReader(ctx context.Context, addr, topic string) (*rawReader, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("raw reader: %w", err)
	}
	r := &rawReader{nc: nc, br: bufio.NewReaderSize(nc, 1<<20), topic: topic}
	r.stop = context.AfterFunc(ctx, func() { nc.Close() })
	return r, nil
}

func (r *rawReader) Close() {
	r.stop()
	r.nc.Close()
}

// send asks for partition 0 at offset.
func (r *rawReader) send(offset int64) error {
	req := kmsg.NewPtrFetchRequest()
	req.Version = rawFetchVersion
	req.ReplicaID = -1
	req.MaxWaitMillis = int32(rawFetchMaxWait / time.Millisecond)
	req.MinBytes = 1
	req.MaxBytes = rawFetchMaxBytes
	req.SessionEpoch = -1
	t := kmsg.NewFetchRequestTopic()
	t.Topic = r.topic
	p := kmsg.NewFetchRequestTopicPartition()
	p.Partition, p.FetchOffset, p.PartitionMaxBytes = 0, offset, rawFetchMaxPartBytes
	p.CurrentLeaderEpoch, p.LogStartOffset = -1, -1
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	r.corr++
	const clientID = "strata-bench-raw"
	b := append(r.req[:0], 0, 0, 0, 0) // size, set below
	b = binary.BigEndian.AppendUint16(b, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(req.Version))
	b = binary.BigEndian.AppendUint32(b, uint32(r.corr))
	b = binary.BigEndian.AppendUint16(b, uint16(len(clientID)))
	b = append(b, clientID...)
	b = append(b, 0) // no tagged fields
	b = req.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	r.req = b
	if _, err := r.nc.Write(b); err != nil {
		return fmt.Errorf("fetch at %d: %w", offset, err)
	}
	return nil
}

// recv reads the next response and returns its record batches (valid
// until the next recv).
func (r *rawReader) recv(offset int64) ([]byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r.br, hdr[:]); err != nil {
		return nil, fmt.Errorf("fetch at %d: %w", offset, err)
	}
	size := int(int32(binary.BigEndian.Uint32(hdr[:4])))
	if corr := int32(binary.BigEndian.Uint32(hdr[4:])); corr != r.corr || size < 5 {
		return nil, fmt.Errorf("fetch at %d: response of %d bytes for correlation id %d, want %d", offset, size, corr, r.corr)
	}
	if cap(r.buf) < size-4 {
		r.buf = make([]byte, size-4)
	}
	r.buf = r.buf[:size-4]
	if _, err := io.ReadFull(r.br, r.buf); err != nil {
		return nil, fmt.Errorf("fetch at %d: %w", offset, err)
	}
	resp := kmsg.NewPtrFetchResponse()
	resp.Version = rawFetchVersion
	if err := resp.ReadFrom(r.buf[1:]); err != nil || r.buf[0] != 0 { // r.buf[0]: no header tags
		return nil, fmt.Errorf("fetch at %d: undecodable response (%v)", offset, err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, fmt.Errorf("fetch at %d: %w", offset, err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, fmt.Errorf("fetch at %d: %d topics in the response, want 1 with 1 partition", offset, len(resp.Topics))
	}
	rp := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
		return nil, fmt.Errorf("fetch at %d: %w", offset, err)
	}
	return rp.RecordBatches, nil
}

// nextOffset is the offset after the last whole batch in b (next if none):
// only the headers are read, so the next fetch can go out before b is
// checked.
func nextOffset(b []byte, next int64) int64 {
	for len(b) >= 27 {
		size := 12 + int64(int32(binary.BigEndian.Uint32(b[8:12])))
		if size < 27 || size > int64(len(b)) {
			break
		}
		base := int64(binary.BigEndian.Uint64(b[0:8]))
		if last := base + int64(int32(binary.BigEndian.Uint32(b[23:27]))); last >= next {
			next = last + 1
		}
		b = b[size:]
	}
	return next
}

// walkBatches checks the whole record batches in b, which must start at
// offset next, and returns the offset after them, their bytes and record
// count. A trailing partial batch (cut by the size limit) is ignored.
func walkBatches(b []byte, next int64) (after, bytes, records int64, err error) {
	const headerLen = 61 // v2 batch header: baseOffset..recordCount
	for len(b) >= 12 {
		size := 12 + int64(int32(binary.BigEndian.Uint32(b[8:12])))
		if size > int64(len(b)) {
			break
		}
		if size < headerLen {
			return next, bytes, records, fmt.Errorf("batch at %d: length %d below the v2 header", next, size)
		}
		batch := b[:size]
		base := int64(binary.BigEndian.Uint64(batch[0:8]))
		last := base + int64(int32(binary.BigEndian.Uint32(batch[23:27])))
		switch {
		case batch[16] != 2:
			return next, bytes, records, fmt.Errorf("batch at %d: magic %d", base, batch[16])
		case crc32.Checksum(batch[21:], castagnoli) != binary.BigEndian.Uint32(batch[17:21]):
			return next, bytes, records, fmt.Errorf("batch at %d: CRC mismatch", base)
		case last < next:
			// Before the asked offset (a fetch may start mid-batch): skip it.
		case base > next:
			return next, bytes, records, fmt.Errorf("gap: batch at %d, want offset %d", base, next)
		default:
			records += last + 1 - next
			bytes += size
			next = last + 1
		}
		b = b[size:]
	}
	return next, bytes, records, nil
}

// rawConsume reads partition 0 of topic from offset 0 to the end offset
// sampled at the start; Bytes counts record-batch bytes, as stored.
func rawConsume(ctx context.Context, addr, topic string, maxDur time.Duration) (consumeResult, error) {
	want, err := topicRecords(ctx, addr, topic)
	if err != nil {
		return consumeResult{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, maxDur)
	defer cancel()
	var res consumeResult
	start := time.Now()
	err = readRaw(ctx, addr, topic, want, func(bytes, records int64) {
		res.Bytes += bytes
		res.Records += records
	})
	res.Elapsed = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("raw read: %d of %d records: %w", res.Records, want, err)
	}
	return res, nil
}

// readRaw reads partition 0 of topic from offset 0 up to offset want,
// reporting each fetch's checked batch bytes and records to got.
func readRaw(ctx context.Context, addr, topic string, want int64, got func(bytes, records int64)) error {
	r, err := newRawReader(ctx, addr, topic)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.send(0); err != nil {
		return ctxErr(ctx, err)
	}
	for next := int64(0); next < want; {
		b, err := r.recv(next)
		if err != nil {
			return ctxErr(ctx, err)
		}
		if ahead := nextOffset(b, next); ahead < want {
			if err := r.send(ahead); err != nil {
				return ctxErr(ctx, err)
			}
		}
		after, n, recs, err := walkBatches(b, next)
		got(n, recs)
		if err != nil {
			return err
		}
		if after == next && len(b) > 0 {
			return errors.New("a fetch returned no whole batch (a batch above the partition limit?)")
		}
		next = after
	}
	return nil
}

// ctxErr prefers the context's error to the closed connection it causes.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
