package partlog

import (
	"bytes"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countFS counts WriteAt calls on .log files.
type countFS struct {
	*memFS
	logWrites atomic.Int64
}

type countFile struct {
	file
	n *atomic.Int64
}

func (c *countFS) OpenFile(name string, flag int) (file, error) {
	f, err := c.memFS.OpenFile(name, flag)
	if err != nil || !strings.HasSuffix(name, logExt) {
		return f, err
	}
	return countFile{file: f, n: &c.logWrites}, nil
}

func (f countFile) WriteAt(p []byte, off int64) (int, error) {
	f.n.Add(1)
	return f.file.WriteAt(p, off)
}

// leaderLog builds a leader log with the given appends and returns it with
// every stored byte from offset 0.
func leaderLog(t *testing.T, appends []struct {
	spec  batchSpec
	epoch int32
}) (*Log, []byte) {
	t.Helper()
	l := openMem(t, newMemFS(), Config{})
	for _, a := range appends {
		mustAppend(t, l, makeBatch(a.spec), a.epoch)
	}
	data, err := l.Read(0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return l, data
}

type epochAppend = struct {
	spec  batchSpec
	epoch int32
}

func TestAppendReplicaKeepsOffsetsAndEpochs(t *testing.T) {
	var as []epochAppend
	for i := 0; i < 9; i++ {
		as = append(as, epochAppend{plainBatch(3, int64(1000+i)), int32(1 + i/3)}) // epochs 1,1,1,2,2,2,3,3,3
	}
	leader, data := leaderLog(t, as)
	defer leader.Close()

	cfs := &countFS{memFS: newMemFS()}
	f, err := openFS(cfs, "/data/f", Config{}, testLogger(t), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.LatestEpoch(); got != -1 {
		t.Fatalf("latest epoch of empty log %d", got)
	}
	before := cfs.logWrites.Load()
	last, err := f.AppendReplica(data)
	if err != nil || last != 26 || f.LogEndOffset() != 27 {
		t.Fatalf("append replica: last %d end %d err %v", last, f.LogEndOffset(), err)
	}
	if n := cfs.logWrites.Load() - before; n != 1 {
		t.Fatalf("%d writes for one contiguous append, want 1", n)
	}
	got, err := f.Read(0, 1<<30)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("follower bytes differ from leader's (err %v)", err)
	}
	if f.LatestEpoch() != 3 {
		t.Fatalf("latest epoch %d", f.LatestEpoch())
	}
	for _, c := range []struct {
		ask, epoch int32
		end        int64
	}{{0, 0, 0}, {1, 1, 9}, {2, 2, 18}, {3, 3, 27}, {5, -1, -1}} {
		le, lo := leader.EndOffsetForEpoch(c.ask)
		fe, fo := f.EndOffsetForEpoch(c.ask)
		if fe != c.epoch || fo != c.end || fe != le || fo != lo {
			t.Fatalf("EndOffsetForEpoch(%d): follower (%d,%d) leader (%d,%d) want (%d,%d)", c.ask, fe, fo, le, lo, c.epoch, c.end)
		}
	}
	// Empty input appends nothing.
	if last, err := f.AppendReplica(nil); err != nil || last != 26 {
		t.Fatalf("empty append: %d %v", last, err)
	}
}

func TestAppendReplicaRejectsWithoutWriting(t *testing.T) {
	var as []epochAppend
	for i := 0; i < 4; i++ {
		as = append(as, epochAppend{plainBatch(2, 10), int32(2 + i/2)}) // offsets 0-7; epochs 2,2,3,3
	}
	leader, data := leaderLog(t, as)
	defer leader.Close()
	bs, err := SplitBatches(data)
	if err != nil {
		t.Fatal(err)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	corrupt := cat(bs[0], bs[1])
	corrupt[len(corrupt)-1] ^= 0xff

	f := openMem(t, newMemFS(), Config{})
	defer f.Close()
	for _, c := range []struct {
		name string
		in   []byte
		want error
	}{
		{"gap at start", bs[1], ErrReplicaOutOfOrder},
		{"gap inside", cat(bs[0], bs[2]), ErrReplicaOutOfOrder},
		{"repeat", cat(bs[0], bs[0]), ErrReplicaOutOfOrder},
		{"crc in second batch", corrupt, ErrCorruptBatch},
		{"partial trailing batch", cat(bs[0], bs[1][:30]), ErrCorruptBatch},
	} {
		if _, err := f.AppendReplica(c.in); !errors.Is(err, c.want) {
			t.Fatalf("%s: err %v, want %v", c.name, err, c.want)
		}
		if f.LogEndOffset() != 0 || f.Size() != 0 {
			t.Fatalf("%s: wrote something: end %d size %d", c.name, f.LogEndOffset(), f.Size())
		}
	}
	// Append epochs 2,2,3 then try an epoch-2 batch after epoch 3: refused.
	if _, err := f.AppendReplica(cat(bs[0], bs[1], bs[2])); err != nil {
		t.Fatal(err)
	}
	old := append([]byte(nil), bs[3]...)
	putEpoch(old, 2)
	if _, err := f.AppendReplica(old); !errors.Is(err, ErrReplicaOutOfOrder) {
		t.Fatalf("older epoch: %v", err)
	}
	if _, err := f.AppendReplica(bs[3]); err != nil || f.LogEndOffset() != 8 {
		t.Fatalf("continue: end %d err %v", f.LogEndOffset(), err)
	}
}

// putEpoch rewrites the partition leader epoch (outside the CRC).
func putEpoch(b []byte, epoch int32) {
	b[offLeaderEpoch] = byte(uint32(epoch) >> 24)
	b[offLeaderEpoch+1] = byte(uint32(epoch) >> 16)
	b[offLeaderEpoch+2] = byte(uint32(epoch) >> 8)
	b[offLeaderEpoch+3] = byte(uint32(epoch))
}

func TestAppendReplicaRollsAndRecovers(t *testing.T) {
	var as []epochAppend
	for i := 0; i < 30; i++ {
		as = append(as, epochAppend{batchSpec{records: 2, valueSize: 20, ts: int64(100 + i), pid: 7, epoch: 0, seq: int32(2 * i)}, int32(1 + i/10)})
	}
	leader, data := leaderLog(t, as)
	defer leader.Close()
	bs, _ := SplitBatches(data)
	segBytes := int64(5*len(bs[0]) + 10) // five batches per segment

	dir := t.TempDir()
	cfg := Config{SegmentBytes: segBytes, IndexIntervalBytes: 200}
	f := openDisk(t, dir, cfg)
	// First in two uneven chunks, the second crossing several segments.
	split := 7 * len(bs[0])
	if _, err := f.AppendReplica(data[:split]); err != nil {
		t.Fatal(err)
	}
	if last, err := f.AppendReplica(data[split:]); err != nil || last != 59 {
		t.Fatalf("second chunk: %d %v", last, err)
	}
	if n := len(f.segs); n != 6 {
		t.Fatalf("%d segments, want 6", n)
	}
	for i, s := range f.segs {
		if s.base != int64(10*i) || s.size > segBytes {
			t.Fatalf("segment %d: base %d size %d", i, s.base, s.size)
		}
	}
	check := func(l *Log) {
		t.Helper()
		hs := readAll(t, l, 0)
		if len(hs) != 30 {
			t.Fatalf("%d batches", len(hs))
		}
		for i, h := range hs {
			if h.BaseOffset != int64(2*i) || h.LeaderEpoch != int32(1+i/10) {
				t.Fatalf("batch %d: base %d epoch %d", i, h.BaseOffset, h.LeaderEpoch)
			}
		}
		if e, o := l.EndOffsetForEpoch(2); e != 2 || o != 40 {
			t.Fatalf("epoch 2 ends at (%d,%d)", e, o)
		}
		// Offset lookups through the sparse index land on the right batch.
		for _, off := range []int64{13, 27, 58} {
			got, err := l.Read(off, 1)
			if err != nil {
				t.Fatal(err)
			}
			if h := decodeHeader(got); h.BaseOffset != off&^1 {
				t.Fatalf("read %d found batch %d", off, h.BaseOffset)
			}
		}
		// Producer state came with the data: a retry of the last batch is a
		// duplicate, the next sequence appends.
		dup, err := l.Append(makeBatch(batchSpec{records: 2, valueSize: 20, ts: 1, pid: 7, epoch: 0, seq: 58}), 4)
		if err != nil || !dup.Duplicate || dup.BaseOffset != 58 {
			t.Fatalf("retry after replica append: %+v %v", dup, err)
		}
		if _, err := l.Append(makeBatch(batchSpec{records: 2, valueSize: 20, ts: 1, pid: 7, epoch: 0, seq: 62}), 4); !errors.Is(err, ErrOutOfOrderSequence) {
			t.Fatalf("sequence gap accepted: %v", err)
		}
	}
	check(f)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f = openDisk(t, dir, cfg)
	defer f.Close()
	if f.LogEndOffset() != 60 || f.LatestEpoch() != 3 {
		t.Fatalf("after reopen: end %d latest epoch %d", f.LogEndOffset(), f.LatestEpoch())
	}
	check(f)
	// As the new leader (epoch 4) it continues the producer's sequence.
	r := mustAppend(t, f, makeBatch(batchSpec{records: 2, valueSize: 20, ts: 1, pid: 7, epoch: 0, seq: 60}), 4)
	if r.BaseOffset != 60 || r.Duplicate {
		t.Fatalf("leader append after takeover: %+v", r)
	}
	if e, o := f.EndOffsetForEpoch(3); e != 3 || o != 60 {
		t.Fatalf("epoch 3 ends at (%d,%d)", e, o)
	}
}

func TestAppendReplicaAfterTruncate(t *testing.T) {
	// The follower diverged: it has epoch 1 offsets 0-5 and epoch 2 at 6-9,
	// the leader's epoch 3 starts at 6.
	var fas, las []epochAppend
	for i := 0; i < 5; i++ {
		ep := int32(1)
		if i >= 3 {
			ep = 2
		}
		fas = append(fas, epochAppend{plainBatch(2, 10), ep})
		lep := ep
		if i >= 3 {
			lep = 3
		}
		las = append(las, epochAppend{plainBatch(2, 20), lep})
	}
	fl, fdata := leaderLog(t, fas)
	fl.Close()
	leader, _ := leaderLog(t, las)
	defer leader.Close()

	f := openMem(t, newMemFS(), Config{})
	defer f.Close()
	if _, err := f.AppendReplica(fdata); err != nil {
		t.Fatal(err)
	}
	e, end := leader.EndOffsetForEpoch(f.LatestEpoch())
	if e != 1 || end != 6 {
		t.Fatalf("leader answers (%d,%d) for epoch 2", e, end)
	}
	if _, err := f.TruncateTo(end); err != nil {
		t.Fatal(err)
	}
	if f.LatestEpoch() != 1 {
		t.Fatalf("latest epoch after truncate %d", f.LatestEpoch())
	}
	rest, err := leader.Read(6, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.AppendReplica(rest); err != nil {
		t.Fatal(err)
	}
	got, _ := f.Read(0, 1<<20)
	if !bytes.Equal(got[len(got)-len(rest):], rest) || f.LogEndOffset() != 10 {
		t.Fatalf("follower tail differs from leader's")
	}
	if e, o := f.EndOffsetForEpoch(2); e != 1 || o != 6 {
		t.Fatalf("epoch 2 on follower: (%d,%d)", e, o)
	}
}
