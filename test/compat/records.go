package compat

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// GenRecords makes n deterministic records spread round-robin over
// partitions, each with a key, a value of varying length, 0-3 headers and a
// distinct millisecond timestamp starting at base. All bytes are printable
// ASCII without '\t', ',', '=' or newlines so text-based tools can carry them.
func GenRecords(seed uint64, n int, partitions int32, base time.Time) []Record {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
	text := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return b
	}
	base = base.Truncate(time.Millisecond)
	recs := make([]Record, n)
	for i := range recs {
		r := Record{
			Partition: int32(i) % partitions,
			Key:       fmt.Appendf(nil, "key-%06d-%d", i, seed),
			Value:     append(fmt.Appendf(nil, "value-%06d-", i), text(8+rng.IntN(120))...),
			Timestamp: base.Add(time.Duration(i) * time.Millisecond),
		}
		for h := range rng.IntN(4) {
			r.Headers = append(r.Headers, Header{Key: fmt.Sprintf("hdr-%d", h), Value: text(1 + rng.IntN(16))})
		}
		recs[i] = r
	}
	return recs
}

// ByPartition groups records by partition, keeping their order.
func ByPartition(recs []Record) map[int32][]Record {
	out := make(map[int32][]Record)
	for _, r := range recs {
		out[r.Partition] = append(out[r.Partition], r)
	}
	return out
}

// DiffRecord describes how got differs from want (key, value, headers,
// timestamp in ms and partition), or returns "" if they match.
func DiffRecord(want, got Record) string {
	switch {
	case want.Partition != got.Partition:
		return fmt.Sprintf("partition %d, want %d", got.Partition, want.Partition)
	case !bytes.Equal(want.Key, got.Key):
		return fmt.Sprintf("key %q, want %q", got.Key, want.Key)
	case !bytes.Equal(want.Value, got.Value):
		return fmt.Sprintf("value %q, want %q", got.Value, want.Value)
	case want.Timestamp.UnixMilli() != got.Timestamp.UnixMilli():
		return fmt.Sprintf("timestamp %d, want %d", got.Timestamp.UnixMilli(), want.Timestamp.UnixMilli())
	case !slices.EqualFunc(want.Headers, got.Headers, func(a, b Header) bool { return a.Key == b.Key && bytes.Equal(a.Value, b.Value) }):
		return fmt.Sprintf("headers %s, want %s", fmtHeaders(got.Headers), fmtHeaders(want.Headers))
	}
	return ""
}

func fmtHeaders(hs []Header) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, h := range hs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%q", h.Key, h.Value)
	}
	b.WriteByte(']')
	return b.String()
}
