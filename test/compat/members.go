package compat

import (
	"context"
	"fmt"
	"sync"
)

// memberFunc runs one group member: it calls deliver for every record it
// consumes (after which the record counts as processed and must be
// committed before the member returns) and returns when deliver reports
// false or ctx is cancelled.
type memberFunc func(ctx context.Context, deliver func(Record) bool) error

// runMembers runs members concurrently until together they delivered n
// distinct (partition, offset) records, then cancels the rest and waits for
// all of them to return. Duplicates (re-deliveries during a rebalance) are
// kept in the per-member results but do not count toward n.
func runMembers(ctx context.Context, members, n int, run memberFunc) ([][]Record, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type po struct {
		p int32
		o int64
	}
	var (
		mu   sync.Mutex
		seen = make(map[po]bool)
		out  = make([][]Record, members)
		errs = make([]error, members)
		wg   sync.WaitGroup
	)
	for i := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = run(ctx, func(r Record) bool {
				mu.Lock()
				defer mu.Unlock()
				out[i] = append(out[i], r)
				seen[po{r.Partition, r.Offset}] = true
				if len(seen) >= n {
					cancel()
					return false
				}
				return true
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return out, fmt.Errorf("member %d: %w", i, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < n {
		return out, fmt.Errorf("group consumed %d of %d records: %w", len(seen), n, context.Cause(ctx))
	}
	return out, nil
}
