package upload

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/metastore"
	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/fs"
)

// recordBatch builds a valid magic-v2 batch of n records with timestamp ts
// (base offset 0; the log stamps the real one).
func recordBatch(n int, ts int64, valueSize int) []byte {
	var recs []byte
	for i := 0; i < n; i++ {
		body := []byte{0}                          // attributes
		body = binary.AppendVarint(body, 0)        // timestamp delta
		body = binary.AppendVarint(body, int64(i)) // offset delta
		body = binary.AppendVarint(body, -1)       // null key
		body = binary.AppendVarint(body, int64(valueSize))
		for j := 0; j < valueSize; j++ {
			body = append(body, byte('a'+(i+j)%26))
		}
		body = binary.AppendVarint(body, 0) // no headers
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	be := binary.BigEndian
	b := make([]byte, 61, 61+len(recs))
	be.PutUint32(b[8:], uint32(61-12+len(recs))) // batch length
	be.PutUint32(b[12:], 0xffffffff)             // leader epoch
	b[16] = 2                                    // magic
	be.PutUint32(b[23:], uint32(n-1))            // last offset delta
	be.PutUint64(b[27:], uint64(ts))             // base timestamp
	be.PutUint64(b[35:], uint64(ts))             // max timestamp
	be.PutUint64(b[43:], ^uint64(0))             // producer id -1
	be.PutUint16(b[51:], 0xffff)                 // producer epoch -1
	be.PutUint32(b[53:], 0xffffffff)             // base sequence -1
	be.PutUint32(b[57:], uint32(n))              // record count
	b = append(b, recs...)
	be.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// testPartition implements Partition over a real on-disk log.
type testPartition struct {
	topic [16]byte
	part  int32
	log   *partlog.Log
	dir   string
	epoch atomic.Int32
}

func (p *testPartition) TopicID() [16]byte  { return p.topic }
func (p *testPartition) Partition() int32   { return p.part }
func (p *testPartition) Log() *partlog.Log  { return p.log }
func (p *testPartition) LeaderEpoch() int32 { return p.epoch.Load() }

// batchSize is the size of recordBatch(1, ts, 100).
var batchSize = int64(len(recordBatch(1, 0, 100)))

// newPartition opens a tiered log holding segsPerSeg one-record batches per
// segment.
func newPartition(t *testing.T, perSeg int64, cfg partlog.Config) *testPartition {
	t.Helper()
	cfg.SegmentBytes = perSeg * batchSize
	cfg.RemoteStorage = true
	if cfg.RetentionMs == 0 {
		cfg.RetentionMs = -1
	}
	dir := t.TempDir()
	l, err := partlog.Open(dir, cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	p := &testPartition{topic: [16]byte{0xab, 1, 2, 3}, part: 7, log: l, dir: dir}
	p.epoch.Store(3)
	return p
}

func appendN(t *testing.T, p *testPartition, n int, ts int64) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := p.log.Append(recordBatch(1, ts, 100), p.LeaderEpoch()); err != nil {
			t.Fatal(err)
		}
	}
}

func testConfig() Config {
	return Config{
		PollInterval:  5 * time.Millisecond,
		MinBackoff:    2 * time.Millisecond,
		MaxBackoff:    20 * time.Millisecond,
		IdleRollAfter: time.Hour,
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// events is an ordered record of side effects across fakes.
type events struct {
	mu  sync.Mutex
	evs []string
}

func (e *events) add(format string, args ...any) {
	e.mu.Lock()
	e.evs = append(e.evs, fmt.Sprintf(format, args...))
	e.mu.Unlock()
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.evs)
}

// fakeManifest is an in-memory Manifest with the metastore's fencing and
// overlap rules.
type fakeManifest struct {
	mu      sync.Mutex
	epoch   map[partKey]int32
	segs    map[partKey][]metastore.RemoteSegment
	ev      *events
	commits int
	failN   int // fail this many commits with a transient error
}

func newFakeManifest(ev *events) *fakeManifest {
	return &fakeManifest{epoch: map[partKey]int32{}, segs: map[partKey][]metastore.RemoteSegment{}, ev: ev}
}

func (m *fakeManifest) CommitSegment(ctx context.Context, seg metastore.RemoteSegment, epoch int32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commits++
	if m.failN > 0 {
		m.failN--
		return fmt.Errorf("fake etcd unavailable")
	}
	k := partKey{seg.TopicID, seg.Partition}
	if stored, ok := m.epoch[k]; ok && stored > epoch {
		return fmt.Errorf("epoch %d < %d: %w", epoch, stored, metastore.ErrFenced)
	}
	m.epoch[k] = epoch
	for _, s := range m.segs[k] {
		if s.Object == seg.Object && s.BaseOffset == seg.BaseOffset && s.LastOffset == seg.LastOffset {
			return nil
		}
		if seg.BaseOffset <= s.LastOffset && s.BaseOffset <= seg.LastOffset {
			return fmt.Errorf("overlaps %s: %w", s.Object, metastore.ErrConflict)
		}
	}
	seg.CommittedAt = time.Now().UnixMilli()
	m.segs[k] = append(m.segs[k], seg)
	slices.SortFunc(m.segs[k], func(a, b metastore.RemoteSegment) int { return int(a.BaseOffset - b.BaseOffset) })
	m.ev.add("commit %s", seg.Object)
	return nil
}

func (m *fakeManifest) ListSegments(ctx context.Context, topic [16]byte, part int32) ([]metastore.RemoteSegment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.segs[partKey{topic, part}]), nil
}

func (m *fakeManifest) DeleteSegments(ctx context.Context, topic [16]byte, part int32, upto int64) ([]metastore.RemoteSegment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := partKey{topic, part}
	var keep, gone []metastore.RemoteSegment
	for _, s := range m.segs[k] {
		if s.LastOffset < upto {
			gone = append(gone, s)
			m.ev.add("manifest-delete %s", s.Object)
		} else {
			keep = append(keep, s)
		}
	}
	m.segs[k] = keep
	return gone, nil
}

func (m *fakeManifest) list(p Partition) []metastore.RemoteSegment {
	s, _ := m.ListSegments(context.Background(), p.TopicID(), p.Partition())
	return s
}

func (m *fakeManifest) setEpoch(p Partition, e int32) {
	m.mu.Lock()
	m.epoch[keyOf(p)] = e
	m.mu.Unlock()
}

// faultyBucket wraps a bucket, failing the next failUploads uploads (or all
// while down is set) with a transient error and recording side effects.
type faultyBucket struct {
	objstore.Bucket
	ev          *events
	failUploads atomic.Int32
	down        atomic.Bool
	uploads     atomic.Int32
}

func (b *faultyBucket) Upload(ctx context.Context, name string, r io.Reader) error {
	b.uploads.Add(1)
	if b.down.Load() || b.failUploads.Add(-1) >= 0 {
		_, _ = io.Copy(io.Discard, io.LimitReader(r, 100)) // fail mid-stream
		return fmt.Errorf("injected: %w", objstore.ErrTransient)
	}
	if err := b.Bucket.Upload(ctx, name, r); err != nil {
		return err
	}
	b.ev.add("upload %s", name)
	return nil
}

func (b *faultyBucket) Delete(ctx context.Context, name string) error {
	err := b.Bucket.Delete(ctx, name)
	if err == nil {
		b.ev.add("object-delete %s", name)
	}
	return err
}

// objects lists every object in the bucket.
func objects(t *testing.T, b objstore.Bucket) []string {
	t.Helper()
	var out []string
	if err := b.Iter(context.Background(), "", func(n string) error { out = append(out, n); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// newFSBucket is a faultyBucket over a fresh fs bucket in a temp dir.
func newFSBucket(t testing.TB, ev *events) *faultyBucket {
	t.Helper()
	fsb, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &faultyBucket{Bucket: fsb, ev: ev}
}

// putAged uploads a one-byte object and dates it age ago (the bucket must
// be from newFSBucket).
func (b *faultyBucket) putAged(t testing.TB, name string, age time.Duration) {
	t.Helper()
	if err := b.Upload(context.Background(), name, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	b.age(t, name, age)
}

// age dates an object of a newFSBucket age ago.
func (b *faultyBucket) age(t testing.TB, name string, age time.Duration) {
	t.Helper()
	old := time.Now().Add(-age)
	if err := os.Chtimes(filepath.Join(b.Bucket.(*fs.Bucket).Root(), filepath.FromSlash(name)), old, old); err != nil {
		t.Fatal(err)
	}
}
