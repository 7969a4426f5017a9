package segment

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

// TestTailFrom cuts a segment at every offset in and around it and checks
// the tail is a valid object input: it starts at the first batch whose base
// is >= from (a batch holding from is skipped, never split), its bytes are
// the original's from there on, and its rebased indexes let Lookup and
// TimeLookup land on batch boundaries at or before the wanted batch.
func TestTailFrom(t *testing.T) {
	batches := fixedBatches()
	s := buildSegment(100, batches, 2)
	last := batches[len(batches)-1].base + int64(batches[len(batches)-1].lastDelta)
	for from := s.base - 2; from <= last+1; from++ {
		want := slices.IndexFunc(batches, func(b testBatch) bool { return b.base >= from })
		tail, err := TailFrom(bytes.NewReader(s.log), int64(len(s.log)), s.index, s.tindex, s.base, from)
		if want < 0 {
			if !errors.Is(err, ErrOutOfRange) {
				t.Fatalf("from %d: err %v, want ErrOutOfRange", from, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("from %d: %v", from, err)
		}
		if tail.Pos != s.pos[want] || tail.BaseOffset != batches[want].base {
			t.Fatalf("from %d: tail at %d (base %d), want %d (base %d)", from, tail.Pos, tail.BaseOffset, s.pos[want], batches[want].base)
		}
		size := int64(len(s.log)) - tail.Pos
		var obj bytes.Buffer
		f, err := Write(&obj, io.NewSectionReader(bytes.NewReader(s.log), tail.Pos, size), size,
			tail.OffsetIndex, tail.TimeIndex, Meta{BaseOffset: tail.BaseOffset, LeaderEpoch: 9})
		if err != nil {
			t.Fatalf("from %d: write tail: %v", from, err)
		}
		if _, err := VerifyObject(bg(), bytes.NewReader(obj.Bytes()), int64(obj.Len())); err != nil {
			t.Fatalf("from %d: %v", from, err)
		}
		if f.BaseOffset != tail.BaseOffset || f.LastOffset != last || f.BatchCount != int64(len(batches)-want) {
			t.Fatalf("from %d: footer %+v", from, f)
		}
		if !bytes.Equal(obj.Bytes()[:f.Log.Size], s.log[tail.Pos:]) {
			t.Fatalf("from %d: log section differs from the segment's tail", from)
		}
		for i := want; i < len(batches); i++ {
			b := batches[i]
			rel := s.pos[i] - tail.Pos
			for o := b.base; o <= b.base+int64(b.lastDelta); o++ {
				p, err := f.Lookup(tail.OffsetIndex, o)
				if err != nil || p > rel || !slices.Contains(s.pos, p+tail.Pos) {
					t.Fatalf("from %d: Lookup(%d) = %d, %v; batch at %d", from, o, p, err, rel)
				}
			}
			p, err := f.TimeLookup(tail.TimeIndex, tail.OffsetIndex, b.maxTs)
			if err != nil || p > rel || !slices.Contains(s.pos, p+tail.Pos) {
				t.Fatalf("from %d: TimeLookup(%d) = %d, %v; batch at %d", from, b.maxTs, p, err, rel)
			}
		}
	}
}

func TestTailFromCorrupt(t *testing.T) {
	s := buildSegment(100, fixedBatches(), 2)
	bad := slices.Clone(s.log)
	bad[8], bad[9], bad[10], bad[11] = 0x7f, 0, 0, 0 // first batch length far past the end
	if _, err := TailFrom(bytes.NewReader(bad), int64(len(bad)), nil, nil, s.base, s.base+5); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad length: err %v, want ErrCorrupt", err)
	}
	if _, err := TailFrom(bytes.NewReader(s.log), int64(len(s.log)), []byte{1, 2, 3}, nil, s.base, s.base+5); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad index: err %v, want ErrCorrupt", err)
	}
	// A truncated file reads short.
	if _, err := TailFrom(bytes.NewReader(s.log[:100]), int64(len(s.log)), nil, nil, s.base, s.base+20); err == nil {
		t.Fatal("short file: no error")
	}
}
