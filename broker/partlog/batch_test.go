package partlog

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestValidateBatch(t *testing.T) {
	good := makeBatch(batchSpec{records: 3, valueSize: 5, ts: 1000, pid: 7, epoch: 2, seq: 9})
	h, err := ValidateBatch(good)
	if err != nil {
		t.Fatalf("valid batch rejected: %v", err)
	}
	if h.RecordCount != 3 || h.LastOffsetDelta != 2 || h.ProducerID != 7 || h.ProducerEpoch != 2 ||
		h.BaseSequence != 9 || h.BaseTimestamp != 1000 || h.MaxTimestamp != 1002 || h.Size() != len(good) {
		t.Fatalf("header decoded wrong: %+v", h)
	}

	mutate := func(f func(b []byte) []byte) []byte {
		b := append([]byte(nil), good...)
		return f(b)
	}
	cases := map[string][]byte{
		"short":         good[:40],
		"truncated":     good[:len(good)-1],
		"trailing":      append(append([]byte(nil), good...), 0),
		"magic":         mutate(func(b []byte) []byte { b[offMagic] = 1; return b }),
		"crc":           mutate(func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }),
		"negativeDelta": mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 0xffffffff); return b }),
		"countMismatch": mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[offRecordCount:], 5); return b }),
		"tinyLength":    mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[offBatchLength:], 10); return b }),
	}
	for name, b := range cases {
		if _, err := ValidateBatch(b); !errors.Is(err, ErrCorruptBatch) {
			t.Errorf("%s: got %v, want ErrCorruptBatch", name, err)
		}
	}
	// Base offset and leader epoch are outside the CRC.
	b := mutate(func(b []byte) []byte {
		binary.BigEndian.PutUint64(b[offBaseOffset:], 12345)
		binary.BigEndian.PutUint32(b[offLeaderEpoch:], 9)
		return b
	})
	if _, err := ValidateBatch(b); err != nil {
		t.Fatalf("stamping offset/epoch broke the CRC: %v", err)
	}
}

func TestSplitBatches(t *testing.T) {
	a := makeBatch(plainBatch(1, 1))
	b := makeBatch(plainBatch(4, 2))
	c := makeBatch(plainBatch(2, 3))
	all := append(append(append([]byte(nil), a...), b...), c...)
	got, err := SplitBatches(all)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || len(got[0]) != len(a) || len(got[1]) != len(b) || len(got[2]) != len(c) {
		t.Fatalf("split into %d batches", len(got))
	}
	for _, g := range got {
		if _, err := ValidateBatch(g); err != nil {
			t.Fatal(err)
		}
	}
	for _, cut := range []int{1, 11, 30, len(c) - 1} {
		if _, err := SplitBatches(all[:len(all)-cut]); !errors.Is(err, ErrCorruptBatch) {
			t.Errorf("cut %d: got %v, want ErrCorruptBatch", cut, err)
		}
	}
	if got, err := SplitBatches(nil); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v %v", got, err)
	}
}

func FuzzValidateBatch(f *testing.F) {
	f.Add(makeBatch(plainBatch(1, 0)))
	f.Add(makeBatch(batchSpec{records: 3, valueSize: 2, ts: 5, pid: 1, epoch: 0, seq: 0}))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 49})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ValidateBatch(b)
		if err != nil {
			if !errors.Is(err, ErrCorruptBatch) {
				t.Fatalf("error not ErrCorruptBatch: %v", err)
			}
		} else if h.Size() != len(b) || h.Magic != 2 || h.LastOffsetDelta < 0 {
			t.Fatalf("accepted bad batch: %+v", h)
		}
		bs, err := SplitBatches(b)
		if err == nil {
			n := 0
			for _, x := range bs {
				n += len(x)
			}
			if n != len(b) {
				t.Fatalf("split lost bytes: %d of %d", n, len(b))
			}
		} else if !errors.Is(err, ErrCorruptBatch) {
			t.Fatalf("split error not ErrCorruptBatch: %v", err)
		}
	})
}
