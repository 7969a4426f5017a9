package metamanifest

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/strata-io/strata/metastore"
	"github.com/strata-io/strata/objstore/mem"
	"github.com/strata-io/strata/tiering/remote"
	"github.com/strata-io/strata/tiering/segment"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// batch encodes a valid magic-v2 record batch of one record.
func batch(base int64, ts int64, payload []byte) []byte {
	be := binary.BigEndian
	b := be.AppendUint64(nil, uint64(base))
	b = be.AppendUint32(b, uint32(49+len(payload)))
	b = be.AppendUint32(b, 0)
	b = append(b, 2)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint16(b, 0)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint64(b, uint64(ts))
	b = be.AppendUint64(b, uint64(ts))
	b = be.AppendUint64(b, ^uint64(0))
	b = be.AppendUint16(b, 0xffff)
	b = be.AppendUint32(b, 0xffffffff)
	b = be.AppendUint32(b, 1)
	b = append(b, payload...)
	be.PutUint32(b[17:], crc32.Checksum(b[21:], castagnoli))
	return b
}

// object builds a segment object of n one-record batches from base.
func object(t *testing.T, topic [16]byte, base int64, n int) (metastore.RemoteSegment, []byte, []byte) {
	t.Helper()
	var log []byte
	for i := range n {
		log = append(log, batch(base+int64(i), 1000+base+int64(i), bytes.Repeat([]byte{byte(i)}, 100))...)
	}
	var buf bytes.Buffer
	f, err := segment.Write(&buf, bytes.NewReader(log), int64(len(log)), nil, nil, segment.Meta{BaseOffset: base})
	if err != nil {
		t.Fatal(err)
	}
	name := segment.Name(segment.ObjectName{TopicID: topic, BaseOffset: base, ID: segment.NewID()})
	return metastore.RemoteSegment{
		TopicID: topic, BaseOffset: base, LastOffset: f.LastOffset, MaxTimestamp: f.MaxTimestamp,
		Size: int64(buf.Len()), Object: name,
	}, buf.Bytes(), log
}

// TestReaderOverEmbeddedMetastore runs a Reader against the real manifest
// in an embedded etcd: committed segments are read, a new commit arrives by
// the watch, a deletion removes one.
func TestReaderOverEmbeddedMetastore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := metastore.Open(ctx, "embedded", t.TempDir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	bucket := mem.New()
	topic := [16]byte{7, 7, 7}
	commit := func(seg metastore.RemoteSegment, obj []byte) {
		if err := bucket.Upload(ctx, seg.Object, bytes.NewReader(obj)); err != nil {
			t.Fatal(err)
		}
		if err := store.CommitSegment(ctx, seg, 0); err != nil {
			t.Fatal(err)
		}
	}
	seg1, obj1, log1 := object(t, topic, 0, 10)
	commit(seg1, obj1)

	r, err := remote.New(remote.Config{CacheDir: t.TempDir(), ChunkSize: 4096}, bucket, New(store), quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := r.Read(ctx, topic, 0, 0, 1<<20)
	if err != nil || !bytes.Equal(got, log1) {
		t.Fatalf("Read(0) = %d bytes, %v; want the whole segment (%d bytes)", len(got), err, len(log1))
	}

	seg2, obj2, log2 := object(t, topic, 10, 5)
	commit(seg2, obj2)
	waitFor(t, func() bool { return len(r.Segments(topic, 0)) == 2 })
	if got, err := r.Read(ctx, topic, 0, 12, 1<<20); err != nil || !bytes.Equal(got, log2[2*len(log2)/5:]) {
		t.Fatalf("Read(12) after the watched commit: %d bytes, %v", len(got), err)
	}
	if segs := r.Segments(topic, 0); remote.Segment(seg2) != withoutCommitTime(segs[1]) {
		t.Fatalf("Segments()[1] = %+v, want %+v", segs[1], seg2)
	}

	if _, err := store.DeleteSegments(ctx, topic, 0, 10); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(r.Segments(topic, 0)) == 1 })
	if _, err := r.Read(ctx, topic, 0, 3, 100); err == nil {
		t.Fatal("Read of a deleted segment succeeded")
	}
}

func withoutCommitTime(s remote.Segment) remote.Segment {
	s.CommittedAt = 0
	return s
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
