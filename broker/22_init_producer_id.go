package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitProducerId: v0-5
//
// Behavior:
//   - Idempotent producers (null transactional id) always get a fresh
//     producer id from a block reserved in etcd, epoch 0, as Kafka does
//     (the v3+ id/epoch fields only matter for transactional producers, so
//     a client cannot fence another producer by naming its id).
//   - Transactions are not supported yet: a transactional id gets
//     INVALID_REQUEST with a message saying so.
//
// Version notes:
//   - v2: flexible; v3: producer id/epoch for epoch bumps (KIP-360)
//   - v4: PRODUCER_FENCED; v5: no schema change (KIP-890)
func init() { register(22, 0, 5, handleInitProducerID) }

func handleInitProducerID(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return now(resp)
	}
	rep, done := later()
	go func() {
		id, err := b.pids.allocate(c.ctx)
		if err != nil {
			b.log.Warn("allocate producer id", "err", err)
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		} else {
			resp.ProducerID, resp.ProducerEpoch = id, 0
		}
		done(resp)
	}()
	return rep
}
