package upload

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff returns the wait before retry attempt (0-based): exponential from
// lo, capped at hi, with "equal jitter" (half fixed, half random) so
// partitions failing together do not retry in lockstep.
func backoff(lo, hi time.Duration, attempt int) time.Duration {
	d := hi
	if attempt < 32 {
		if e := lo << attempt; e > 0 && e < hi {
			d = e
		}
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
