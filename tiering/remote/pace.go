package remote

import (
	"context"
	"sync"
	"time"
)

// pacer spreads cold reads over time while produce is busy
// (Config.Busy): each read waits until the bytes read before it have been
// "paid for" at Config.BusyReadBytesPerSec, so a historical consumer
// cannot take the CPU that producers' requests need.
type pacer struct {
	mu   sync.Mutex
	next time.Time // when the next paced read may start
}

// wait blocks until a paced read may start.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	d := time.Until(p.next)
	p.mu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// charge books n bytes read at rate bytes per second.
func (p *pacer) charge(n int, rate int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	p.next = p.next.Add(time.Duration(float64(n) / float64(rate) * float64(time.Second)))
}

// busy reports whether reads are paced right now.
func (r *Reader) busy() bool {
	return r.cfg.Busy != nil && r.cfg.BusyReadBytesPerSec > 0 && r.cfg.Busy()
}
