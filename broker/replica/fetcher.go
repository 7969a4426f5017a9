package replica

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

const (
	minReconnect = 50 * time.Millisecond
	maxReconnect = time.Second
	reqTimeout   = 10 * time.Second // plus MaxWait for fetches
)

// fetcher replicates every partition this broker follows from one leader
// over one connection.
type fetcher struct {
	m        *Manager
	leaderID int32
	logger   *slog.Logger
	cancel   context.CancelFunc
	wake     chan struct{}

	// Guarded by m.mu.
	addr  string
	parts map[key]*assignment

	// Owned by the goroutine.
	failing   bool
	reconnect time.Duration
}

func (f *fetcher) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// snapshot returns the leader address, the assignments ready to work on
// and, when none is, how long until the first backoff ends (0: none).
func (f *fetcher) snapshot(now time.Time) (string, []*assignment, time.Duration) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	var ready []*assignment
	var wait time.Duration
	for _, a := range f.parts {
		if d := a.until.Sub(now); d > 0 {
			if wait == 0 || d < wait {
				wait = d
			}
			continue
		}
		ready = append(ready, a)
	}
	return f.addr, ready, wait
}

// sleep waits for d (forever when 0), a poke or cancellation.
func (f *fetcher) sleep(ctx context.Context, d time.Duration) {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
	case <-f.wake:
	case <-timer:
	}
}

func (f *fetcher) run(ctx context.Context) {
	var c *client
	defer func() {
		if c != nil {
			c.close()
		}
	}()
	for ctx.Err() == nil {
		addr, ready, wait := f.snapshot(time.Now())
		if len(ready) == 0 {
			f.sleep(ctx, wait)
			continue
		}
		if c != nil && c.addr != addr {
			c.close()
			c = nil
		}
		if c == nil {
			var err error
			c, err = dialClient(ctx, f.m.cfg.Dial, addr, clientID(f.m.cfg.NodeID))
			if err != nil {
				f.connFailed(ctx, err)
				continue
			}
		}
		if err := f.round(ctx, c, ready); err != nil {
			c.close()
			c = nil
			f.connFailed(ctx, err)
			continue
		}
		if f.failing {
			f.logger.Info("replica: connected to leader again", "addr", addr)
		}
		f.failing, f.reconnect = false, 0
	}
}

// connFailed logs the first failure of a streak and backs off.
func (f *fetcher) connFailed(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	if !f.failing {
		f.logger.Info("replica: cannot reach leader; retrying", "err", err)
		f.failing = true
	}
	f.reconnect = min(max(2*f.reconnect, minReconnect), maxReconnect)
	f.sleep(ctx, f.reconnect)
}

func clientID(node int32) string { return "strata-replica-" + strconv.Itoa(int(node)) }

// round truncates the assignments that need it, then fetches the rest
// once. It returns an error only when the connection must be dropped.
func (f *fetcher) round(ctx context.Context, c *client, ready []*assignment) error {
	var trunc, fetch []*assignment
	for _, a := range ready {
		if a.truncate {
			trunc = append(trunc, a)
		}
	}
	if len(trunc) > 0 {
		if err := f.truncateByEpoch(ctx, c, trunc); err != nil {
			return err
		}
	}
	for _, a := range ready {
		if !a.truncate && !a.until.After(time.Now()) {
			fetch = append(fetch, a)
		}
	}
	if len(fetch) == 0 {
		return nil
	}
	return f.fetch(ctx, c, fetch)
}

// backoff keeps a out of fetches for 100-200 ms.
func backoff(a *assignment) {
	a.until = time.Now().Add(100*time.Millisecond + rand.N(100*time.Millisecond))
}

// retriable reports leader-change errors: the broker re-Follows with the
// new leader; until then retry after a short backoff. Epoch errors also
// mean the log must be checked against the leader again.
func retriable(code int16) (ok, epochErr bool) {
	switch code {
	case kerr.FencedLeaderEpoch.Code, kerr.UnknownLeaderEpoch.Code:
		return true, true
	case kerr.NotLeaderForPartition.Code, kerr.UnknownTopicOrPartition.Code, kerr.UnknownTopicID.Code,
		kerr.LeaderNotAvailable.Code, kerr.ReplicaNotAvailable.Code, kerr.KafkaStorageError.Code,
		kerr.RequestTimedOut.Code, kerr.NotEnoughReplicas.Code, kerr.OffsetNotAvailable.Code:
		return true, false
	}
	return false, false
}

// codeErr names an error code for logs.
func codeErr(code int16) error {
	if err := kerr.ErrorForCode(code); err != nil {
		return err
	}
	return errors.New("unknown error code")
}

// byKey indexes assignments by topic name and partition for matching
// responses.
func byKey(as []*assignment) map[string]map[int32]*assignment {
	out := make(map[string]map[int32]*assignment)
	for _, a := range as {
		m := out[a.key.topic]
		if m == nil {
			m = make(map[int32]*assignment)
			out[a.key.topic] = m
		}
		m[a.key.part] = a
	}
	return out
}
