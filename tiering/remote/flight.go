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

	// share, if set, gives a successful result n more references (one
	// per waiter), and drop releases one: the result's own reference once
	// shared, or the one of a waiter that gave up.
	share func(v V, n int32)
	drop  func(v V)
}

type flightCall[V any] struct {
	done     chan struct{}
	val      V
	err      error
	waiters  int32 // callers that will take the result; guarded by flight.mu
	finished bool  // guarded by flight.mu
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
			val, err := fn(root)
			f.mu.Lock()
			c.val, c.err = val, err
			delete(f.calls, key)
			c.finished = true
			if err == nil && f.share != nil && c.waiters > 0 {
				f.share(val, c.waiters)
			}
			f.mu.Unlock()
			close(c.done)
			if err == nil && f.drop != nil {
				f.drop(val)
			}
		}()
	}
	c.waiters++
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.val, !shared, c.err
	case <-ctx.Done():
		f.mu.Lock()
		if !c.finished {
			c.waiters--
		} else if c.err == nil && f.drop != nil {
			f.drop(c.val)
		}
		f.mu.Unlock()
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
