package main

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// testBatch is a v2 batch of n empty records at base, CRC set.
func testBatch(base int64, n int32) []byte {
	b := kmsg.RecordBatch{FirstOffset: base, Magic: 2, LastOffsetDelta: n - 1, NumRecords: n,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, Records: make([]byte, n)}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:12], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:21], crc32.Checksum(raw[21:], castagnoli))
	return raw
}

func TestWalkBatches(t *testing.T) {
	a, b, c := testBatch(0, 3), testBatch(3, 2), testBatch(5, 4)
	stream := append(append(append([]byte(nil), a...), b...), c[:len(c)-1]...) // c cut short
	after, n, recs, err := walkBatches(stream, 0)
	if err != nil || after != 5 || recs != 5 || n != int64(len(a)+len(b)) {
		t.Fatalf("walk = (%d, %d, %d, %v), want (5, %d, 5, nil)", after, n, recs, err, len(a)+len(b))
	}
	// Starting mid-batch skips the records below the asked offset.
	if after, _, recs, err := walkBatches(stream, 1); err != nil || after != 5 || recs != 4 {
		t.Fatalf("walk from 1 = (%d, %d, %v), want (5, 4, nil)", after, recs, err)
	}
	if _, _, _, err := walkBatches(b, 0); err == nil || !strings.Contains(err.Error(), "gap") {
		t.Fatalf("walk with a gap: err %v, want a gap", err)
	}
	bad := append([]byte(nil), a...)
	bad[len(bad)-1] ^= 1
	if _, _, _, err := walkBatches(bad, 0); err == nil || !strings.Contains(err.Error(), "CRC") {
		t.Fatalf("walk of a flipped byte: err %v, want a CRC mismatch", err)
	}
}

func TestNextOffset(t *testing.T) {
	a, b, c := testBatch(0, 3), testBatch(3, 2), testBatch(5, 4)
	stream := append(append(append([]byte(nil), a...), b...), c[:len(c)-1]...)
	if got := nextOffset(stream, 0); got != 5 {
		t.Fatalf("nextOffset = %d, want 5 (the cut batch does not count)", got)
	}
	if got := nextOffset(nil, 7); got != 7 {
		t.Fatalf("nextOffset of nothing = %d, want 7", got)
	}
}

// TestReadRaw reads a real (kfake) broker's partition with the pipelined
// raw reader and checks every record arrives once.
func TestReadRaw(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("raw"), kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 6000
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Value: []byte(strings.Repeat("x", 4000+i%50))}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var bytes, records int64
	calls := 0
	if err := readRaw(ctx, addr, "raw", n, func(b, r int64) { bytes, records, calls = bytes+b, records+r, calls+1 }); err != nil {
		t.Fatal(err)
	}
	if records != n || bytes < n*4000 {
		t.Fatalf("read %d records, %d bytes; want %d records, at least %d bytes", records, bytes, n, n*4000)
	}
	t.Logf("%d records, %d bytes in %d fetches", records, bytes, calls)
}
