package broker

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

var errNotServing = errors.New("broker is not serving yet")

// serving is set once the broker is registered in etcd and accepting.
type readiness struct{ serving atomic.Bool }

// Ready reports whether the broker can serve clients: its partitions are
// recovered (New returned), it is registered and accepting connections,
// and the metastore answers.
func (b *Broker) Ready(ctx context.Context) error {
	if !b.ready.serving.Load() {
		return errNotServing
	}
	if _, err := b.meta.ClusterID(ctx); err != nil {
		return fmt.Errorf("metastore unreachable: %w", err)
	}
	return nil
}
