package broker

import "testing"

func TestFetchBufClass(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{0, -1}, {fetchBufStep - 1, -1}, {fetchBufStep, 0}, {fetchBufStep + 1, 1},
		{16<<20 + remoteReadSlack, 16}, {fetchBufClasses * fetchBufStep, fetchBufClasses - 1},
		{fetchBufClasses*fetchBufStep + 1, -1},
	} {
		if got := fetchBufClass(c.n); got != c.want {
			t.Errorf("fetchBufClass(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

func TestFetchBufSet(t *testing.T) {
	var p fetchBufPool
	var none *fetchBufSet
	if b := none.get(8 << 20); b != nil {
		t.Fatalf("a nil set lent %d bytes", cap(b))
	}
	s := p.newSet()
	if b := s.get(100); b != nil {
		t.Fatalf("a small read got a pooled buffer of %d", cap(b))
	}
	b := s.get(3<<20 + 5)
	if len(b) != 0 || cap(b) != 4<<20 {
		t.Fatalf("get(3 MiB + 5) = len %d cap %d, want 0 and 4 MiB", len(b), cap(b))
	}
	b = append(b, "batches"...)
	s.release()
	if len(s.bufs) != 0 {
		t.Fatalf("%d buffers still held after release", len(s.bufs))
	}
	// The class hands the memory out again, empty (sync.Pool may drop it
	// at a GC, so only check it when it came back).
	again := p.newSet().get(4 << 20)
	if cap(again) != 4<<20 || len(again) != 0 {
		t.Fatalf("reuse: len %d cap %d, want 0 and 4 MiB", len(again), cap(again))
	}
}
