package remote

import (
	"context"
	"sync"
)

// flight runs one call per key at a time; callers asking for a key already
// in flight wait for that call's result instead of starting another
// (singleflight). The call runs in its own goroutine under the Reader's
// context, so a waiter giving up (its ctx done) does not cancel the work
// others are waiting for.
type flight[K comparable, V any] struct {
	wg    *sync.WaitGroup
	mu    sync.Mutex
	calls map[K]*flightCall[V]
}

type flightCall[V any] struct {
	done chan struct{}
	val  V
	err  error
}

func newFlight[K comparable, V any](wg *sync.WaitGroup) *flight[K, V] {
	return &flight[K, V]{wg: wg, calls: map[K]*flightCall[V]{}}
}

// do returns fn's result for key, started under root if no call for key is
// running, and whether this caller started it.
func (f *flight[K, V]) do(ctx, root context.Context, key K, fn func(context.Context) (V, error)) (V, bool, error) {
	f.mu.Lock()
	c, shared := f.calls[key]
	if !shared {
		c = &flightCall[V]{done: make(chan struct{})}
		f.calls[key] = c
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			c.val, c.err = fn(root)
			f.mu.Lock()
			delete(f.calls, key)
			f.mu.Unlock()
			close(c.done)
		}()
	}
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.val, !shared, c.err
	case <-ctx.Done():
		var zero V
		return zero, !shared, ctx.Err()
	}
}

// running reports whether a call for key is in flight.
func (f *flight[K, V]) running(key K) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.calls[key]
	return ok
}
