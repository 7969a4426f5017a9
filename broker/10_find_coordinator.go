package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// FindCoordinator: v0-6
//
// Behavior:
//   - Group keys (type 0) are coordinated by the rendezvous-hash owner of
//     the group id among live brokers not shutting down (see coordinator.go);
//     COORDINATOR_NOT_AVAILABLE until a live broker is known. Transactions are
//     not supported yet, so transaction keys (type 1) and any other type
//     get INVALID_REQUEST with a message saying so; an empty group id gets
//     INVALID_REQUEST as well.
//
// Version notes:
//   - v1: key type, error message; v3: flexible
//   - v4: batched CoordinatorKeys (KIP-699); v5-6: no schema change
func init() { register(10, 0, 6, handleFindCoordinator) }

func handleFindCoordinator(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	answer := func(key string) (int16, string, int32, string, int32) {
		switch {
		case req.CoordinatorType != 0:
			return kerr.InvalidRequest.Code, "only group coordinators exist: transactions are not supported yet", -1, "", -1
		case key == "":
			return kerr.InvalidRequest.Code, "empty group id", -1, "", -1
		}
		bi, ok := b.groupCoordinator(key)
		if !ok {
			return kerr.CoordinatorNotAvailable.Code, "no live broker is known yet", -1, "", -1
		}
		return 0, "", bi.NodeID, bi.Host, bi.Port
	}
	if req.Version >= 4 {
		for _, key := range req.CoordinatorKeys {
			rc := kmsg.NewFindCoordinatorResponseCoordinator()
			rc.Key = key
			var msg string
			rc.ErrorCode, msg, rc.NodeID, rc.Host, rc.Port = answer(key)
			if msg != "" {
				rc.ErrorMessage = &msg
			}
			resp.Coordinators = append(resp.Coordinators, rc)
		}
		return now(resp)
	}
	var msg string
	resp.ErrorCode, msg, resp.NodeID, resp.Host, resp.Port = answer(req.CoordinatorKey)
	if msg != "" {
		resp.ErrorMessage = &msg
	}
	return now(resp)
}
