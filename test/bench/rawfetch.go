package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
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

// rawReader reads one partition from offset 0 with Fetch requests.
type rawReader struct {
	cl      *kgo.Client
	topic   string
	topicID [16]byte
}

func newRawReader(ctx context.Context, addr, topic string) (*rawReader, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return nil, fmt.Errorf("raw reader client: %w", err)
	}
	md, err := kadm.NewClient(cl).Metadata(ctx, topic)
	if err == nil {
		err = md.Topics[topic].Err
	}
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("raw reader metadata of %s: %w", topic, err)
	}
	return &rawReader{cl: cl, topic: topic, topicID: md.Topics[topic].ID}, nil
}

func (r *rawReader) Close() { r.cl.Close() }

// fetch asks for partition 0 at offset and returns its record batches.
func (r *rawReader) fetch(ctx context.Context, offset int64) ([]byte, error) {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = int32(rawFetchMaxWait / time.Millisecond)
	req.MinBytes = 1
	req.MaxBytes = rawFetchMaxBytes
	req.SessionEpoch = -1
	t := kmsg.NewFetchRequestTopic()
	t.Topic, t.TopicID = r.topic, r.topicID
	p := kmsg.NewFetchRequestTopicPartition()
	p.Partition, p.FetchOffset, p.PartitionMaxBytes = 0, offset, rawFetchMaxPartBytes
	p.CurrentLeaderEpoch, p.LogStartOffset = -1, -1
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	kresp, err := r.cl.Request(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("fetch at %d: %w", offset, err)
	}
	resp := kresp.(*kmsg.FetchResponse)
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
	for next := int64(0); next < want; {
		b, err := r.fetch(ctx, next)
		if err != nil {
			return err
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
