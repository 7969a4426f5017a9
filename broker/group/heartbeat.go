package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat serves a Heartbeat: it keeps the member's session alive and
// tells it (REBALANCE_IN_PROGRESS) when it has to rejoin.
func (c *Coordinator) Heartbeat(req *kmsg.HeartbeatRequest, done func(*kmsg.HeartbeatResponse)) {
	resp := kmsg.NewPtrHeartbeatResponse()
	resp.ErrorCode = c.heartbeat(req)
	done(resp)
}

func (c *Coordinator) heartbeat(req *kmsg.HeartbeatRequest) int16 {
	if req.Group == "" {
		return kerr.InvalidGroupID.Code
	}
	g, code := c.lockGroup(req.Group, false)
	if g == nil {
		if code != 0 {
			return code
		}
		return kerr.UnknownMemberID.Code
	}
	defer g.unlock()
	var instanceID *string
	if req.GetVersion() >= 3 {
		instanceID = req.InstanceID
	}
	m := g.members[req.MemberID]
	switch {
	case g.isStaticFenced(req.MemberID, instanceID):
		return kerr.FencedInstanceID.Code
	case m == nil:
		return kerr.UnknownMemberID.Code
	case req.Generation != g.generation:
		return kerr.IllegalGeneration.Code
	}
	switch g.state {
	case stateEmpty:
		return kerr.UnknownMemberID.Code
	case statePreparingRebalance:
		g.heartbeat(m)
		return kerr.RebalanceInProgress.Code
	default: // CompletingRebalance, Stable
		g.heartbeat(m)
		return 0
	}
}
