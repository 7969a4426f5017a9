package broker

import (
	"context"
	"sync"

	"github.com/strata-io/strata/metastore"
)

const pidBlockSize = 1000

// pidAllocator hands out producer ids from blocks reserved in etcd, so ids
// stay unique across restarts and brokers.
type pidAllocator struct {
	meta      *metastore.Store
	mu        sync.Mutex
	next, end int64
}

func (a *pidAllocator) allocate(ctx context.Context) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next >= a.end {
		start, err := a.meta.AllocateProducerIDs(ctx, pidBlockSize)
		if err != nil {
			return -1, err
		}
		a.next, a.end = start, start+pidBlockSize
	}
	id := a.next
	a.next++
	return id, nil
}
