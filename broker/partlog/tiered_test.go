package partlog

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	segobj "github.com/strata-io/strata/tiering/segment"
)

// tieredCfg: 4 one-record batches of size n per segment, remote storage on.
func tieredCfg(n int64) Config {
	return Config{SegmentBytes: 4 * n, RetentionMs: -1, RetentionBytes: -1, RemoteStorage: true, LocalRetentionBytes: 6 * n}
}

func TestTieredLocalRetentionNeedsUpload(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UnixMilli()
	n := int64(len(makeBatch(plainBatch(1, now))))
	l := openDisk(t, dir, tieredCfg(n))
	for i := 0; i < 22; i++ { // 5 sealed segments of 4 + active with 2
		mustAppend(t, l, makeBatch(plainBatch(1, now)), 3)
	}
	if d, err := l.ApplyRetention(time.Now()); err != nil || d != 0 {
		t.Fatalf("nothing uploaded yet, but retention deleted %d bytes: %v", d, err)
	}
	if got := l.UnuploadedBytes(); got != 22*n {
		t.Fatalf("unuploaded %d, want %d", got, 22*n)
	}
	l.MarkUploaded(7) // the first two segments
	l.MarkUploaded(3) // never backwards
	if l.UploadedOffset() != 7 || l.UnuploadedBytes() != 14*n {
		t.Fatalf("uploaded %d, unuploaded %d", l.UploadedOffset(), l.UnuploadedBytes())
	}
	// local.retention.bytes 6n would allow dropping 4 segments, but only 2 are uploaded.
	d, err := l.ApplyRetention(time.Now())
	if err != nil || d != 8*n {
		t.Fatalf("deleted %d bytes, want %d: %v", d, 8*n, err)
	}
	if l.LogStartOffset() != 0 || l.LocalLogStartOffset() != 8 {
		t.Fatalf("log start %d, local start %d; want 0, 8", l.LogStartOffset(), l.LocalLogStartOffset())
	}
	if _, err := os.Stat(segPath(dir, 0, logExt)); !os.IsNotExist(err) {
		t.Fatalf("uploaded segment still on disk: %v", err)
	}
	if _, err := l.Read(3, 100); !errors.Is(err, ErrOffsetNotLocal) {
		t.Fatalf("read below local start: %v", err)
	}
	if hs := readAll(t, l, 8); len(hs) != 14 {
		t.Fatalf("%d local batches", len(hs))
	}
	if _, err := l.TruncateTo(2); !errors.Is(err, ErrOffsetNotLocal) {
		t.Fatalf("truncate below local start: %v", err)
	}
	// Everything uploaded: bytes retention keeps >= 6n locally and never the active segment.
	l.MarkUploaded(l.LogEndOffset() - 1)
	if _, err := l.ApplyRetention(time.Now()); err != nil {
		t.Fatal(err)
	}
	if l.LocalLogStartOffset() != 16 || l.Size() != 6*n || l.LogStartOffset() != 0 {
		t.Fatalf("local start %d, size %d, log start %d", l.LocalLogStartOffset(), l.Size(), l.LogStartOffset())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: the global log start (0) is persisted apart from the local one.
	l = openDisk(t, dir, tieredCfg(n))
	if l.LogStartOffset() != 0 || l.LocalLogStartOffset() != 16 || l.LogEndOffset() != 22 {
		t.Fatalf("after restart: start %d, local start %d, end %d", l.LogStartOffset(), l.LocalLogStartOffset(), l.LogEndOffset())
	}
	if l.UploadedOffset() != -1 {
		t.Fatalf("uploaded mark survived restart: %d", l.UploadedOffset())
	}
	if _, err := l.Read(0, 100); !errors.Is(err, ErrOffsetNotLocal) {
		t.Fatalf("read 0 after restart: %v", err)
	}
	if hs := readAll(t, l, 16); len(hs) != 6 {
		t.Fatalf("%d batches after restart", len(hs))
	}
	l.Close()
}

func TestTieredAdvanceLogStart(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UnixMilli()
	n := int64(len(makeBatch(plainBatch(1, now))))
	cfg := tieredCfg(n)
	cfg.LocalRetentionBytes = -1
	l := openDisk(t, dir, cfg)
	for i := 0; i < 14; i++ { // segments 0-3, 4-7, 8-11, active 12-13
		mustAppend(t, l, makeBatch(plainBatch(1, now)), 0)
	}
	l.MarkUploaded(3)
	l.SetConfig(Config{SegmentBytes: 4 * n, RemoteStorage: true, LocalRetentionBytes: 0, LocalRetentionMs: 0, RetentionMs: -1})
	// -2 (the zero default) means local retention = total retention: unlimited here.
	if d, err := l.ApplyRetention(time.Now()); err != nil || d != 0 {
		t.Fatalf("local retention -2 with unlimited total deleted %d: %v", d, err)
	}
	if err := l.AdvanceLogStart(6); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 6 || l.LocalLogStartOffset() != 6 {
		t.Fatalf("start %d, local start %d", l.LogStartOffset(), l.LocalLogStartOffset())
	}
	if _, err := os.Stat(segPath(dir, 0, logExt)); !os.IsNotExist(err) {
		t.Fatal("segment below the new log start not deleted")
	}
	if _, err := l.Read(5, 100); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below log start: %v", err)
	}
	if err := l.AdvanceLogStart(2); err != nil || l.LogStartOffset() != 6 {
		t.Fatalf("moved backwards: %d %v", l.LogStartOffset(), err)
	}
	if err := l.AdvanceLogStart(100); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("past the end: %v", err)
	}
	l.Close()
	l = openDisk(t, dir, cfg)
	defer l.Close()
	if l.LogStartOffset() != 6 || l.LocalLogStartOffset() != 6 || l.LogEndOffset() != 14 {
		t.Fatalf("after restart: start %d, local %d, end %d", l.LogStartOffset(), l.LocalLogStartOffset(), l.LogEndOffset())
	}
}

func TestTieredLocalRetentionByTime(t *testing.T) {
	m := newMemFS()
	clock := &fakeClock{t: time.UnixMilli(1_000_000_000)}
	cfg := Config{SegmentMs: 60_000, RetentionMs: -1, RetentionBytes: -1, RemoteStorage: true, LocalRetentionMs: 3_600_000}
	l, err := openFS(m, "/data/p0", cfg, testLogger(t), clock.now)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for seg := 0; seg < 3; seg++ { // three segments rolled by segment.ms, an hour apart
		for i := 0; i < 2; i++ {
			mustAppend(t, l, makeBatch(plainBatch(1, clock.t.UnixMilli())), 0)
		}
		clock.t = clock.t.Add(time.Hour)
	}
	l.MarkUploaded(1) // only the first segment
	d, err := l.ApplyRetention(clock.t)
	if err != nil || d == 0 {
		t.Fatalf("deleted %d: %v", d, err)
	}
	// The second segment is past local retention but not uploaded: kept.
	if l.LocalLogStartOffset() != 2 || l.LogStartOffset() != 0 {
		t.Fatalf("local start %d, start %d", l.LocalLogStartOffset(), l.LogStartOffset())
	}
	l.MarkUploaded(5)
	if _, err := l.ApplyRetention(clock.t); err != nil {
		t.Fatal(err)
	}
	// The third segment (rolled by this pass) is exactly one hour old: kept.
	if l.LocalLogStartOffset() != 4 || l.LogEndOffset() != 6 || l.LogStartOffset() != 0 {
		t.Fatalf("local start %d, end %d", l.LocalLogStartOffset(), l.LogEndOffset())
	}
	if _, err := l.ApplyRetention(clock.t.Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if l.LocalLogStartOffset() != 6 || l.LogStartOffset() != 0 {
		t.Fatalf("local start %d after the third segment expired", l.LocalLogStartOffset())
	}
}

func TestRollAndSealedSegments(t *testing.T) {
	dir := t.TempDir()
	b := makeBatch(plainBatch(3, 1000))
	l := openDisk(t, dir, Config{SegmentBytes: 1 << 20, IndexIntervalBytes: len(b), RemoteStorage: true})
	defer l.Close()
	if err := l.Roll(); err != nil || len(l.SealedSegments()) != 0 {
		t.Fatalf("roll of an empty log: %v, %d sealed", err, len(l.SealedSegments()))
	}
	for i := 0; i < 10; i++ {
		mustAppend(t, l, makeBatch(plainBatch(3, 1000+int64(i))), 5)
	}
	if _, ok := l.NextSealedSegment(-1); ok {
		t.Fatal("sealed segment before any roll")
	}
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	if err := l.Roll(); err != nil { // the new active segment is empty: no-op
		t.Fatal(err)
	}
	mustAppend(t, l, makeBatch(plainBatch(3, 2000)), 6)
	segs := l.SealedSegments()
	if len(segs) != 1 {
		t.Fatalf("%d sealed segments", len(segs))
	}
	s := segs[0]
	if s.BaseOffset != 0 || s.LastOffset != 29 || s.MaxTimestamp != 1011 || s.LeaderEpoch != 5 || s.Size != 10*int64(len(b)) {
		t.Fatalf("sealed segment %+v", s)
	}
	if len(s.OffsetIndex) == 0 || len(s.TimeIndex) == 0 {
		t.Fatalf("empty indexes: %d, %d bytes", len(s.OffsetIndex), len(s.TimeIndex))
	}
	onDisk, err := os.ReadFile(segPath(dir, 0, indexExt))
	if err != nil || !bytes.Equal(onDisk, s.OffsetIndex) {
		t.Fatalf("offset index differs from the file: %v", err)
	}
	onDisk, err = os.ReadFile(segPath(dir, 0, timeIndexExt))
	if err != nil || !bytes.Equal(onDisk, s.TimeIndex) {
		t.Fatalf("time index differs from the file: %v", err)
	}
	// The segment object writer accepts what SealedSegments describes.
	f, err := os.Open(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	foot, err := segobj.Write(io.Discard, f, s.Size, s.OffsetIndex, s.TimeIndex, segobj.Meta{BaseOffset: s.BaseOffset, LeaderEpoch: 6})
	if err != nil || foot.LastOffset != 29 || foot.RecordCount != 30 {
		t.Fatalf("segment.Write: %+v %v", foot, err)
	}
	if next, ok := l.NextSealedSegment(-1); !ok || next.BaseOffset != 0 {
		t.Fatalf("next sealed after -1: %+v %v", next, ok)
	}
	if _, ok := l.NextSealedSegment(29); ok {
		t.Fatal("next sealed after the last sealed offset")
	}
}

func TestRollIfIdle(t *testing.T) {
	m := newMemFS()
	clock := &fakeClock{t: time.UnixMilli(1_000_000_000)}
	l, err := openFS(m, "/data/p0", Config{RemoteStorage: true}, testLogger(t), clock.now)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if rolled, err := l.RollIfIdle(clock.t.Add(time.Hour), time.Minute); err != nil || rolled {
		t.Fatalf("rolled an empty segment: %v %v", rolled, err)
	}
	mustAppend(t, l, makeBatch(plainBatch(2, 1)), 0)
	if rolled, _ := l.RollIfIdle(clock.t.Add(30*time.Second), time.Minute); rolled {
		t.Fatal("rolled a segment appended to 30s ago")
	}
	if rolled, err := l.RollIfIdle(clock.t.Add(time.Minute), time.Minute); err != nil || !rolled {
		t.Fatalf("idle segment not rolled: %v %v", rolled, err)
	}
	if len(l.SealedSegments()) != 1 || l.LocalLogStartOffset() != 0 || l.LogEndOffset() != 2 {
		t.Fatalf("%d sealed, end %d", len(l.SealedSegments()), l.LogEndOffset())
	}
}

func TestResetTo(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{RemoteStorage: true}
	l := openDisk(t, dir, cfg)
	if err := l.ResetTo(300, 250); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("start above next: %v", err)
	}
	if err := l.ResetTo(100, 250); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 100 || l.LocalLogStartOffset() != 250 || l.LogEndOffset() != 250 {
		t.Fatalf("start %d, local %d, end %d", l.LogStartOffset(), l.LocalLogStartOffset(), l.LogEndOffset())
	}
	if _, err := l.Read(150, 100); !errors.Is(err, ErrOffsetNotLocal) {
		t.Fatalf("read remote range: %v", err)
	}
	if _, err := l.Read(50, 100); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	if r := mustAppend(t, l, makeBatch(plainBatch(2, 1)), 4); r.BaseOffset != 250 {
		t.Fatalf("first append at %d", r.BaseOffset)
	}
	if err := l.ResetTo(0, 10); err == nil {
		t.Fatal("reset of a non-empty log succeeded")
	}
	l.Close()
	if _, err := os.Stat(segPath(dir, 0, logExt)); !os.IsNotExist(err) {
		t.Fatalf("old empty segment left behind: %v", err)
	}
	l = openDisk(t, dir, cfg)
	defer l.Close()
	if l.LogStartOffset() != 100 || l.LocalLogStartOffset() != 250 || l.LogEndOffset() != 252 {
		t.Fatalf("after restart: start %d, local %d, end %d", l.LogStartOffset(), l.LocalLogStartOffset(), l.LogEndOffset())
	}
	if hs := readAll(t, l, 250); len(hs) != 1 || hs[0].BaseOffset != 250 {
		t.Fatalf("batches after restart: %+v", hs)
	}
}
