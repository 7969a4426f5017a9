package broker

import "sync"

// Remote reads fill buffers of up to fetch.max.bytes that live only until
// the response is written. Allocating each anew costs the clearing of
// every byte (Go zeroes new memory) on top of the copy that fills it, a
// sixth of a warm remote read's CPU; pooling them by size class saves it.
// A buffer returns to the pool only after its response was written (or
// encoded); one whose request was abandoned is left to the GC.

// fetchBufStep is the size-class granularity; reads below it are not
// pooled. remoteReadSlack is room past a read's limit: the remote reader's
// window may start at the batch holding the offset and read a little ahead.
const (
	remoteReadSlack = 256 << 10
	fetchBufStep    = 1 << 20
	fetchBufClasses = 64 // pooled up to 64 MiB
)

// fetchBufPool holds idle buffers by size class (class i: cap (i+1) MiB).
type fetchBufPool struct {
	classes [fetchBufClasses]sync.Pool // of *[]byte
}

// class is the pool class for a buffer of n bytes, or -1.
func fetchBufClass(n int) int {
	if n < fetchBufStep || n > fetchBufClasses*fetchBufStep {
		return -1
	}
	return (n+fetchBufStep-1)/fetchBufStep - 1
}

// get returns an empty buffer with room for n bytes, nil if n is not
// pooled (the reader then allocates what it needs).
func (p *fetchBufPool) get(n int) []byte {
	c := fetchBufClass(n)
	if c < 0 {
		return nil
	}
	if v, ok := p.classes[c].Get().(*[]byte); ok {
		return (*v)[:0]
	}
	return make([]byte, 0, (c+1)*fetchBufStep)
}

// put returns b (from get) to its class.
func (p *fetchBufPool) put(b []byte) {
	if cap(b)%fetchBufStep != 0 {
		return
	}
	if c := fetchBufClass(cap(b)); c >= 0 {
		b = b[:0]
		p.classes[c].Put(&b)
	}
}

// fetchBufSet is one fetch request's pooled buffers. A nil set hands out
// nothing, so reads allocate as usual.
type fetchBufSet struct {
	pool *fetchBufPool
	mu   sync.Mutex
	bufs [][]byte
}

func (p *fetchBufPool) newSet() *fetchBufSet { return &fetchBufSet{pool: p} }

// get takes a buffer with room for n bytes for this request.
func (s *fetchBufSet) get(n int) []byte {
	if s == nil {
		return nil
	}
	b := s.pool.get(n)
	if b != nil {
		s.mu.Lock()
		s.bufs = append(s.bufs, b)
		s.mu.Unlock()
	}
	return b
}

// release returns every buffer of the request to the pool; the response
// must no longer be referenced.
func (s *fetchBufSet) release() {
	s.mu.Lock()
	bufs := s.bufs
	s.bufs = nil
	s.mu.Unlock()
	for _, b := range bufs {
		s.pool.put(b)
	}
}
