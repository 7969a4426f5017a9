package compat

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestGenRecordsDeterministic(t *testing.T) {
	base := time.UnixMilli(1_700_000_000_000)
	a, b := GenRecords(1, 500, 3, base), GenRecords(1, 500, 3, base)
	for i := range a {
		if d := DiffRecord(a[i], b[i]); d != "" {
			t.Fatalf("record %d differs between runs: %s", i, d)
		}
		if a[i].Partition != int32(i%3) || a[i].Timestamp.UnixMilli() != base.UnixMilli()+int64(i) {
			t.Fatalf("record %d: partition %d ts %d", i, a[i].Partition, a[i].Timestamp.UnixMilli())
		}
		for _, c := range append(append([]byte{}, a[i].Key...), a[i].Value...) {
			if c < 0x21 || c > 0x7e || c == ',' || c == '=' {
				t.Fatalf("record %d has a byte %q unsafe for text tools", i, c)
			}
		}
	}
	if c := GenRecords(2, 1, 1, base); bytes.Equal(c[0].Key, a[0].Key) {
		t.Fatal("different seeds gave the same key")
	}
	withHeaders := 0
	for _, r := range a {
		if len(r.Headers) > 0 {
			withHeaders++
		}
	}
	if withHeaders < 300 {
		t.Fatalf("only %d of 500 records have headers", withHeaders)
	}
	if got := ByPartition(a); len(got) != 3 || len(got[0]) != 167 || len(got[2]) != 166 {
		t.Fatalf("ByPartition sizes %d/%d/%d", len(got[0]), len(got[1]), len(got[2]))
	}
}

func TestDiffRecordCatchesEachField(t *testing.T) {
	base := GenRecords(3, 1, 1, time.Now())[0]
	base.Headers = []Header{{Key: "a", Value: []byte("1")}}
	mutate := map[string]func(*Record){
		"partition": func(r *Record) { r.Partition = 9 },
		"key":       func(r *Record) { r.Key = []byte("other") },
		"value":     func(r *Record) { r.Value = append([]byte{}, r.Value[:len(r.Value)-1]...) },
		"timestamp": func(r *Record) { r.Timestamp = r.Timestamp.Add(time.Millisecond) },
		"headers":   func(r *Record) { r.Headers = []Header{{Key: "a", Value: []byte("2")}} },
	}
	for field, m := range mutate {
		r := base
		m(&r)
		if d := DiffRecord(base, r); !strings.Contains(d, field) {
			t.Errorf("mutating %s: diff %q", field, d)
		}
	}
	a, b := base, base
	a.Timestamp = time.UnixMilli(1_700_000_000_000).Add(100 * time.Microsecond)
	b.Timestamp = a.Timestamp.Add(300 * time.Microsecond) // same millisecond
	if d := DiffRecord(a, b); d != "" {
		t.Errorf("sub-millisecond difference reported: %s", d)
	}
}
