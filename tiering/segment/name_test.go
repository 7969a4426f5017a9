package segment

import (
	"strings"
	"testing"
)

func TestNameRoundTrip(t *testing.T) {
	n := ObjectName{
		TopicID:     [16]byte{0xde, 0xad, 0xbe, 0xef, 15: 0x01},
		Partition:   7,
		BaseOffset:  1234,
		LeaderEpoch: 42,
		ID:          [16]byte{0x12, 0x34, 15: 0xff},
	}
	s := Name(n)
	want := "deadbeef000000000000000000000001/7/00000000000000001234-42-12340000-0000-0000-0000-0000000000ff.seg"
	if s != want || n.String() != want {
		t.Fatalf("Name = %q, want %q", s, want)
	}
	if !strings.HasPrefix(s, PartitionPrefix(n.TopicID, n.Partition)) {
		t.Fatalf("%q not under PartitionPrefix %q", s, PartitionPrefix(n.TopicID, n.Partition))
	}
	got, err := ParseName(s)
	if err != nil || got != n {
		t.Fatalf("ParseName = %+v, %v; want %+v", got, err, n)
	}
	id := NewID()
	if id == NewID() || id[6]>>4 != 4 || id[8]>>6 != 2 {
		t.Fatalf("NewID %x is not a fresh v4 UUID", id)
	}
	n.ID, n.LeaderEpoch, n.Partition, n.BaseOffset = id, 0, 0, 0
	if got, err := ParseName(Name(n)); err != nil || got != n {
		t.Fatalf("zero fields: ParseName(%q) = %+v, %v", Name(n), got, err)
	}
}

func TestParseNameRejects(t *testing.T) {
	const tid = "deadbeef000000000000000000000001"
	const id = "12340000-0000-0000-0000-0000000000ff"
	for _, s := range []string{
		"",
		tid + "/7/00000000000000001234-42-" + id, // no .seg
		tid + "/7/00000000000000001234-42-" + id + ".log", // wrong ext
		"prefix/" + tid + "/7/00000000000000001234-42-" + id + ".seg",
		"DEADBEEF000000000000000000000001/7/00000000000000001234-42-" + id + ".seg",
		"deadbeef00000000000000000000001/7/00000000000000001234-42-" + id + ".seg",
		tid + "/07/00000000000000001234-42-" + id + ".seg", // non-canonical partition
		tid + "/-1/00000000000000001234-42-" + id + ".seg",
		tid + "/x/00000000000000001234-42-" + id + ".seg",
		tid + "/7/1234-42-" + id + ".seg", // base not padded
		tid + "/7/-0000000000000001234-42-" + id + ".seg",
		tid + "/7/00000000000000001234--42-" + id + ".seg", // negative epoch
		tid + "/7/00000000000000001234-042-" + id + ".seg",
		tid + "/7/00000000000000001234-2147483648-" + id + ".seg", // epoch overflows int32
		tid + "/7/00000000000000001234-42-12340000-0000-0000-0000-0000000000FF.seg",
		tid + "/7/00000000000000001234-42-123400000000-0000-0000-0000000000ff.seg",
		tid + "/7/00000000000000001234-42-1234000g-0000-0000-0000-0000000000ff.seg",
	} {
		if n, err := ParseName(s); err == nil {
			t.Errorf("ParseName(%q) = %+v, want error", s, n)
		}
	}
}
