package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"
)

// FuzzReadFooter feeds arbitrary objects (seeded with the golden object and
// corrupt variants of its footer) to the reader. Whatever the input, reading
// must not panic, every error must be ErrCorrupt or ErrVersion, and an
// accepted footer must describe sections inside the object that the lookups
// handle without panicking.
func FuzzReadFooter(f *testing.F) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	foot := len(golden) - FooterSize
	for _, at := range []int{0, 8, 12, 16, 24, 40, 48, 56, 64, 76, 96, 116, 136, 140} {
		b := bytes.Clone(golden)
		b[foot+at] ^= 0x80
		f.Add(b)
		// Same damage with a recomputed footer CRC, so field checks run.
		c := bytes.Clone(b)
		binary.BigEndian.PutUint32(c[len(c)-4:], crc32c(c[foot:len(c)-4]))
		f.Add(c)
	}
	f.Add(golden[foot:])
	f.Add(golden[:len(golden)-1])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, obj []byte) {
		r := bytes.NewReader(obj)
		ft, err := ReadFooter(bg(), ReaderAtRange(r), int64(len(obj)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("ReadFooter error %v is neither ErrCorrupt nor ErrVersion", err)
			}
			return
		}
		if ft.ObjectSize() != int64(len(obj)) {
			t.Fatalf("accepted footer describes %d bytes, object is %d", ft.ObjectSize(), len(obj))
		}
		get := ReaderAtRange(r)
		index := obj[ft.OffsetIndex.Offset:ft.OffsetIndex.End()]
		tindex := obj[ft.TimeIndex.Offset:ft.TimeIndex.End()]
		for _, o := range []int64{ft.BaseOffset - 1, ft.BaseOffset, (ft.BaseOffset + ft.LastOffset) / 2, ft.LastOffset} {
			if pos, err := ft.Lookup(index, o); err == nil && (pos < 0 || pos >= ft.Log.Size) {
				t.Fatalf("Lookup(%d) = %d outside the log section", o, pos)
			}
		}
		for _, ts := range []int64{-1, 0, ft.MaxTimestamp} {
			if pos, err := ft.TimeLookup(tindex, index, ts); err == nil && (pos < 0 || pos >= ft.Log.Size) {
				t.Fatalf("TimeLookup(%d) = %d outside the log section", ts, pos)
			}
		}
		if es, err := ReadSection(bg(), get, ft.LeaderEpochs); err == nil {
			_, _ = ft.Epochs(es)
		}
		_, _ = VerifyObject(bg(), r, int64(len(obj)))
	})
}

// FuzzWrite feeds arbitrary segment bytes and indexes to the writer: it must
// reject or accept without panicking, and whatever it accepts must read back.
func FuzzWrite(f *testing.F) {
	seg := buildSegment(100, fixedBatches(), 2)
	f.Add(seg.log, seg.index, seg.tindex, int64(100))
	f.Add(seg.log[:200], seg.index[:8], []byte(nil), int64(100))
	f.Add([]byte{}, []byte{}, []byte{}, int64(0))
	f.Fuzz(func(t *testing.T, log, index, tindex []byte, base int64) {
		var buf bytes.Buffer
		ft, err := Write(&buf, bytes.NewReader(log), int64(len(log)), index, tindex, Meta{BaseOffset: base})
		if err != nil {
			return
		}
		obj := buf.Bytes()
		got, err := VerifyObject(bg(), bytes.NewReader(obj), int64(len(obj)))
		if err != nil || got != ft {
			t.Fatalf("accepted segment does not read back: %+v, %v (wrote %+v)", got, err, ft)
		}
	})
}
