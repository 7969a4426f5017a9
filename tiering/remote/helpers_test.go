package remote

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/mem"
	"github.com/strata-io/strata/tiering/segment"
)

var testTopic = [16]byte{0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// makeBatch encodes a magic-v2 record batch with a correct length and
// CRC-32C; payload stands in for the records.
func makeBatch(base int64, records int32, maxTs int64, epoch int32, payload []byte) []byte {
	be := binary.BigEndian
	b := be.AppendUint64(nil, uint64(base))
	b = be.AppendUint32(b, uint32(batchHeaderSize-batchLogOverhead+len(payload)))
	b = be.AppendUint32(b, uint32(epoch))
	b = append(b, 2)
	b = be.AppendUint32(b, 0) // crc, patched below
	b = be.AppendUint16(b, 0)
	b = be.AppendUint32(b, uint32(records-1))
	b = be.AppendUint64(b, uint64(maxTs-int64(records)+1))
	b = be.AppendUint64(b, uint64(maxTs))
	b = be.AppendUint64(b, ^uint64(0))
	b = be.AppendUint16(b, 0xffff)
	b = be.AppendUint32(b, 0xffffffff)
	b = be.AppendUint32(b, uint32(records))
	b = append(b, payload...)
	be.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], castagnoli))
	return b
}

// testBatch is one batch of a built segment.
type testBatch struct {
	base, last, maxTs int64
	pos               int64
	data              []byte
}

// builtSegment is a segment object built like the partition log builds
// segments, and its manifest entry.
type builtSegment struct {
	seg     Segment
	batches []testBatch
	obj     []byte
}

// batchSpec says how to build batch i of a segment: its record count,
// payload size and max timestamp.
type batchSpec func(i int) (records int32, size int, maxTs int64)

// buildSegment builds n batches from base with an offset index entry every
// indexEvery bytes and a time index entry whenever the running max
// timestamp grows at an indexed batch, plus a final one.
func buildSegment(t testing.TB, partition int32, base int64, n int, indexEvery int64, spec batchSpec) builtSegment {
	t.Helper()
	be := binary.BigEndian
	var log, index, tindex []byte
	var out builtSegment
	off := base
	maxTs, maxTsOff, lastTs := int64(-1), int64(-1), int64(-1<<62)
	addTime := func() {
		if maxTsOff >= 0 && maxTs > lastTs {
			tindex = be.AppendUint64(tindex, uint64(maxTs))
			tindex = be.AppendUint32(tindex, uint32(maxTsOff-base))
			lastTs = maxTs
		}
	}
	lastIndexed := int64(0)
	for i := range n {
		records, size, ts := spec(i)
		payload := make([]byte, size)
		for j := range payload {
			payload[j] = byte(i*7 + j)
		}
		pos := int64(len(log))
		indexed := pos > 0 && pos-lastIndexed >= indexEvery
		if indexed {
			index = be.AppendUint32(index, uint32(off-base))
			index = be.AppendUint32(index, uint32(pos))
			lastIndexed = pos
		}
		b := makeBatch(off, records, ts, 1, payload)
		if ts > maxTs {
			maxTs, maxTsOff = ts, off+int64(records)-1
		}
		if indexed {
			addTime()
		}
		out.batches = append(out.batches, testBatch{base: off, last: off + int64(records) - 1, maxTs: ts, pos: pos, data: b})
		log = append(log, b...)
		off += int64(records)
	}
	addTime()
	var buf bytes.Buffer
	f, err := segment.Write(&buf, bytes.NewReader(log), int64(len(log)), index, tindex, segment.Meta{BaseOffset: base, LeaderEpoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	out.obj = buf.Bytes()
	out.seg = Segment{
		TopicID: testTopic, Partition: partition, BaseOffset: base, LastOffset: f.LastOffset,
		LeaderEpoch: 1, MaxTimestamp: f.MaxTimestamp, Size: int64(len(out.obj)),
		Object: segment.Name(segment.ObjectName{TopicID: testTopic, Partition: partition, BaseOffset: base, LeaderEpoch: 1, ID: segment.NewID()}),
	}
	return out
}

// varied batches: 1-4 records, 100..2500 payload bytes, growing timestamps.
func varied(i int) (int32, int, int64) {
	return int32(1 + i%4), 100 + (i*397)%2400, int64(1_000_000 + 10*i)
}

// fakeManifest is an in-memory Manifest.
type fakeManifest struct {
	mu    sync.Mutex
	segs  map[partKey]map[int64]Segment
	subs  []chan manifestEvent
	lists atomic.Int64
}

type manifestEvent struct {
	seg     Segment
	deleted bool
}

func newFakeManifest() *fakeManifest { return &fakeManifest{segs: map[partKey]map[int64]Segment{}} }

func (m *fakeManifest) ListSegments(ctx context.Context, topicID [16]byte, partition int32) ([]Segment, error) {
	m.lists.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Segment
	for _, s := range m.segs[partKey{topicID, partition}] {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Segment) int { return int(a.BaseOffset - b.BaseOffset) })
	return out, ctx.Err()
}

func (m *fakeManifest) WatchManifest(ctx context.Context, fn func(Segment, bool)) error {
	ch := make(chan manifestEvent, 1024)
	m.mu.Lock()
	var all []Segment
	for _, p := range m.segs {
		for _, s := range p {
			all = append(all, s)
		}
	}
	m.subs = append(m.subs, ch)
	m.mu.Unlock()
	for _, s := range all {
		fn(s, false)
	}
	for {
		select {
		case ev := <-ch:
			fn(ev.seg, ev.deleted)
		case <-ctx.Done():
			return nil
		}
	}
}

func (m *fakeManifest) put(seg Segment, deleted bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := partKey{seg.TopicID, seg.Partition}
	if m.segs[k] == nil {
		m.segs[k] = map[int64]Segment{}
	}
	if deleted {
		delete(m.segs[k], seg.BaseOffset)
	} else {
		m.segs[k][seg.BaseOffset] = seg
	}
	for _, ch := range m.subs {
		ch <- manifestEvent{seg, deleted}
	}
}

// countingBucket counts ranged GETs and can slow them down.
type countingBucket struct {
	objstore.Bucket
	gets     atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64
	delay    time.Duration
}

func (b *countingBucket) GetRange(ctx context.Context, name string, off, length int64) (io.ReadCloser, error) {
	b.gets.Add(1)
	n := b.inFlight.Add(1)
	defer b.inFlight.Add(-1)
	for {
		m := b.maxIn.Load()
		if n <= m || b.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	if b.delay > 0 {
		select {
		case <-time.After(b.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return b.Bucket.GetRange(ctx, name, off, length)
}

// fixture is a Reader over a mem bucket holding the given segments.
type fixture struct {
	r        *Reader
	bucket   *countingBucket
	manifest *fakeManifest
	reg      *prometheus.Registry
	dir      string
}

func newFixture(t testing.TB, cfg Config, segs ...builtSegment) *fixture {
	t.Helper()
	fx := &fixture{bucket: &countingBucket{Bucket: mem.New()}, manifest: newFakeManifest(), reg: prometheus.NewRegistry()}
	for _, s := range segs {
		fx.upload(t, s)
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = t.TempDir()
	}
	fx.dir = cfg.CacheDir
	r, err := New(cfg, fx.bucket, fx.manifest, slog.New(slog.DiscardHandler), fx.reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	fx.r = r
	return fx
}

func (fx *fixture) upload(t testing.TB, s builtSegment) {
	t.Helper()
	if err := fx.bucket.Upload(context.Background(), s.seg.Object, bytes.NewReader(s.obj)); err != nil {
		t.Fatal(err)
	}
	fx.manifest.put(s.seg, false)
}

// expected returns the batches a read at offset with maxBytes must return.
func expected(s builtSegment, offset int64, maxBytes int) []byte {
	return expectedSpan([]builtSegment{s}, offset, maxBytes)
}

// expectedSpan is what an unpaced Read returns from segs, which follow
// each other: the batches from the one holding offset on, across
// segments, while they fit in maxBytes (the first whole regardless).
func expectedSpan(segs []builtSegment, offset int64, maxBytes int) []byte {
	var out []byte
	for _, s := range segs {
		for _, b := range s.batches {
			if b.last < offset {
				continue
			}
			if len(out) > 0 && len(out)+len(b.data) > maxBytes {
				return out
			}
			out = append(out, b.data...)
		}
	}
	return out
}

// waitWritten waits until the chunk cache's disk writer has written every
// queued chunk.
func (fx *fixture) waitWritten(t *testing.T) {
	t.Helper()
	waitFor(t, func() bool {
		fx.r.chunks.mu.Lock()
		defer fx.r.chunks.mu.Unlock()
		return fx.r.chunks.w.idle()
	})
}
