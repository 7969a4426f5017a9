package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestWriteReadRoundTrip(t *testing.T) {
	batches := fixedBatches()
	seg := buildSegment(100, batches, 2)
	obj, f := writeObject(t, seg, 6)

	got, err := ReadFooter(bg(), ReaderAtRange(bytes.NewReader(obj)), int64(len(obj)))
	if err != nil {
		t.Fatal(err)
	}
	if got != f {
		t.Fatalf("ReadFooter = %+v, Write returned %+v", got, f)
	}
	last := batches[len(batches)-1]
	var records int64
	maxTs := int64(-1)
	for _, b := range batches {
		records += int64(b.records)
		maxTs = max(maxTs, b.maxTs)
	}
	if f.BaseOffset != 100 || f.LastOffset != last.base+int64(last.lastDelta) || f.LeaderEpoch != 6 ||
		f.BatchCount != int64(len(batches)) || f.RecordCount != records || f.MaxTimestamp != maxTs ||
		f.ObjectSize() != int64(len(obj)) || f.Version != Version {
		t.Fatalf("footer fields wrong: %+v", f)
	}
	if !bytes.Equal(obj[:f.Log.Size], seg.log) {
		t.Fatal("log section is not the segment bytes as stored")
	}
	if _, err := VerifyObject(bg(), bytes.NewReader(obj), int64(len(obj))); err != nil {
		t.Fatal(err)
	}

	get := ReaderAtRange(bytes.NewReader(obj))
	index, err := ReadSection(bg(), get, f.OffsetIndex)
	if err != nil || !bytes.Equal(index, seg.index) {
		t.Fatalf("offset index section = %x, %v; want %x", index, err, seg.index)
	}
	tindex, err := ReadSection(bg(), get, f.TimeIndex)
	if err != nil || !bytes.Equal(tindex, seg.tindex) {
		t.Fatalf("time index section = %x, %v; want %x", tindex, err, seg.tindex)
	}

	// Every offset maps to a batch boundary at or before its batch, and at
	// most indexEvery-1 batches before it.
	for i, b := range batches {
		for o := b.base; o <= b.base+int64(b.lastDelta); o++ {
			pos, err := f.Lookup(index, o)
			if err != nil {
				t.Fatal(err)
			}
			want := seg.pos[i-i%2]
			if pos != want {
				t.Fatalf("Lookup(%d) = %d, want %d", o, pos, want)
			}
		}
	}
	if pos, err := f.Lookup(index, 5); pos != 0 || err != nil {
		t.Fatalf("Lookup below base = %d, %v", pos, err)
	}
	if _, err := f.Lookup(index, f.LastOffset+1); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("Lookup past last: %v", err)
	}

	// TimeLookup: scanning from the returned position must reach the first
	// batch with maxTs >= ts without skipping it.
	for _, ts := range []int64{0, batches[0].maxTs, batches[3].maxTs + 1, batches[5].maxTs, maxTs} {
		pos, err := f.TimeLookup(tindex, index, ts)
		if err != nil {
			t.Fatal(err)
		}
		first := -1
		for i, b := range batches {
			if b.maxTs >= ts {
				first = i
				break
			}
		}
		if pos > seg.pos[first] {
			t.Fatalf("TimeLookup(%d) = %d, past the first matching batch at %d", ts, pos, seg.pos[first])
		}
		isBoundary := false
		for _, p := range seg.pos {
			isBoundary = isBoundary || p == pos
		}
		if !isBoundary {
			t.Fatalf("TimeLookup(%d) = %d, not a batch boundary", ts, pos)
		}
	}
	if _, err := f.TimeLookup(tindex, index, maxTs+1); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("TimeLookup past max: %v", err)
	}

	es, err := ReadSection(bg(), get, f.LeaderEpochs)
	if err != nil {
		t.Fatal(err)
	}
	epochs, err := f.Epochs(es)
	if err != nil {
		t.Fatal(err)
	}
	want := []EpochEntry{{3, 100}, {5, batches[7].base}}
	if len(epochs) != 2 || epochs[0] != want[0] || epochs[1] != want[1] {
		t.Fatalf("Epochs = %+v, want %+v", epochs, want)
	}
}

func TestWriteEmptyIndexes(t *testing.T) {
	seg := buildSegment(0, fixedBatches()[:1], 1000)
	seg.tindex = nil
	obj, f := writeObject(t, seg, 0)
	if f.OffsetIndex.Size != 0 || f.TimeIndex.Size != 0 || f.OffsetIndex.Offset != f.Log.Size {
		t.Fatalf("sections: %+v", f)
	}
	if _, err := VerifyObject(bg(), bytes.NewReader(obj), int64(len(obj))); err != nil {
		t.Fatal(err)
	}
	if pos, err := f.Lookup(nil, f.LastOffset); pos != 0 || err != nil {
		t.Fatalf("Lookup = %d, %v", pos, err)
	}
}

func TestWriteRejectsBadSegments(t *testing.T) {
	good := buildSegment(100, fixedBatches(), 2)
	be := binary.BigEndian
	mutate := func(fn func(s *testSegment)) testSegment {
		s := good
		s.log = bytes.Clone(good.log)
		s.index = bytes.Clone(good.index)
		s.tindex = bytes.Clone(good.tindex)
		fn(&s)
		return s
	}
	cases := map[string]testSegment{
		"flipped record byte":   mutate(func(s *testSegment) { s.log[s.pos[3]+70] ^= 1 }),
		"torn tail":             mutate(func(s *testSegment) { s.log = s.log[:len(s.log)-5] }),
		"trailing garbage":      mutate(func(s *testSegment) { s.log = append(s.log, 0, 0, 0) }),
		"bad magic":             mutate(func(s *testSegment) { s.log[s.pos[2]+16] = 1 }),
		"huge length":           mutate(func(s *testSegment) { be.PutUint32(s.log[s.pos[2]+8:], 1<<30) }),
		"negative length":       mutate(func(s *testSegment) { be.PutUint32(s.log[s.pos[2]+8:], 0xfffffff0) }),
		"offsets go backwards":  mutate(func(s *testSegment) { be.PutUint64(s.log[s.pos[5]:], 100) }),
		"base below segment":    mutate(func(s *testSegment) { s.base = 101 }),
		"index not at boundary": mutate(func(s *testSegment) { be.PutUint32(s.index[4:], uint32(s.pos[2]+1)) }),
		"index wrong offset":    mutate(func(s *testSegment) { be.PutUint32(s.index[0:], 1) }),
		"index past end":        mutate(func(s *testSegment) { s.index = be.AppendUint32(be.AppendUint32(s.index, 999), uint32(len(s.log))) }),
		"index odd size":        mutate(func(s *testSegment) { s.index = s.index[:len(s.index)-1] }),
		"time index unordered":  mutate(func(s *testSegment) { be.PutUint64(s.tindex[12:], 0) }),
		"time index past last":  mutate(func(s *testSegment) { be.PutUint32(s.tindex[len(s.tindex)-4:], 1<<20) }),
		"empty":                 mutate(func(s *testSegment) { s.log = nil }),
	}
	for name, s := range cases {
		var buf bytes.Buffer
		_, err := Write(&buf, bytes.NewReader(s.log), int64(len(s.log)), s.index, s.tindex, Meta{BaseOffset: s.base})
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
	if _, err := Write(&bytes.Buffer{}, bytes.NewReader(good.log), int64(len(good.log)), good.index, good.tindex, Meta{BaseOffset: 100, LeaderEpoch: -1}); err == nil {
		t.Error("negative meta leader epoch accepted")
	}
}

type failWriter struct{ left int }

var errDisk = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, errDisk
	}
	w.left -= len(p)
	return len(p), nil
}

func TestWriteDestinationError(t *testing.T) {
	seg := buildSegment(100, fixedBatches(), 2)
	for _, at := range []int{0, 100, len(seg.log), len(seg.log) + len(seg.index) + 3} {
		_, err := Write(&failWriter{left: at}, bytes.NewReader(seg.log), int64(len(seg.log)), seg.index, seg.tindex, Meta{BaseOffset: 100})
		if !errors.Is(err, errDisk) || errors.Is(err, ErrCorrupt) {
			t.Errorf("writer failing at %d: err = %v, want the writer's error, not ErrCorrupt", at, err)
		}
	}
}

func TestCorruptObjectDetected(t *testing.T) {
	obj, f := writeObject(t, buildSegment(100, fixedBatches(), 2), 1)
	size := int64(len(obj))
	// A flipped byte anywhere is caught: in the footer by ReadFooter, in a
	// section by its checksum.
	for i := range obj {
		bad := bytes.Clone(obj)
		bad[i] ^= 0x40
		r := bytes.NewReader(bad)
		_, err := VerifyObject(bg(), r, size)
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
			t.Fatalf("flip at %d: VerifyObject err = %v", i, err)
		}
		if int64(i) >= f.OffsetIndex.Offset && int64(i) < f.OffsetIndex.End() {
			if _, err := ReadSection(bg(), ReaderAtRange(r), f.OffsetIndex); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("flip at %d in offset index: ReadSection err = %v", i, err)
			}
		}
	}
	// Truncated and too-short objects.
	for _, n := range []int{0, 1, FooterSize - 1, FooterSize, len(obj) - 1} {
		if _, err := ReadFooter(bg(), ReaderAtRange(bytes.NewReader(obj[len(obj)-n:])), int64(n)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("last %d bytes: ReadFooter err = %v", n, err)
		}
	}
	// The footer read fails when the store returns fewer bytes than asked.
	if _, err := ReadFooter(bg(), ReaderAtRange(bytes.NewReader(obj)), size+10); err == nil {
		t.Fatal("object size larger than the object accepted")
	}
	if err := VerifySection(f.TimeIndex, obj[f.TimeIndex.Offset:f.TimeIndex.End()-1]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short section: %v", err)
	}
}

func TestFooterVersion(t *testing.T) {
	obj, _ := writeObject(t, buildSegment(100, fixedBatches(), 2), 1)
	foot := bytes.Clone(obj[len(obj)-FooterSize:])
	binary.BigEndian.PutUint16(foot[8:], 2)
	binary.BigEndian.PutUint32(foot[offFooterCRC:], crc32c(foot[:offFooterCRC]))
	if _, err := ParseFooter(foot, int64(len(obj))); !errors.Is(err, ErrVersion) {
		t.Fatalf("version 2 footer: err = %v, want ErrVersion", err)
	}
}
