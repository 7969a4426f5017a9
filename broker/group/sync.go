package group

import (
	"bytes"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup serves a SyncGroup. The leader's assignments are stored (in
// memory at once, in the Store before anyone is answered); followers wait for
// the leader. In a stable group a member gets its current assignment.
func (c *Coordinator) SyncGroup(req *kmsg.SyncGroupRequest, done func(*kmsg.SyncGroupResponse)) {
	version := req.GetVersion()
	fail := func(code int16) {
		resp := kmsg.NewPtrSyncGroupResponse()
		resp.ErrorCode = code
		done(resp)
	}
	if req.Group == "" {
		fail(kerr.InvalidGroupID.Code)
		return
	}
	g, code := c.lockGroup(req.Group, false)
	if g == nil {
		if code != 0 {
			fail(code)
		} else {
			fail(kerr.UnknownMemberID.Code)
		}
		return
	}
	defer g.unlock()
	failLater := func(code int16) { g.later(func() { fail(code) }) }

	var instanceID *string
	if version >= 3 {
		instanceID = req.InstanceID
	}
	m := g.members[req.MemberID]
	switch {
	case g.isStaticFenced(req.MemberID, instanceID):
		failLater(kerr.FencedInstanceID.Code)
		return
	case m == nil:
		failLater(kerr.UnknownMemberID.Code)
		return
	case req.Generation != g.generation:
		failLater(kerr.IllegalGeneration.Code)
		return
	case req.ProtocolType != nil && *req.ProtocolType != g.protocolType,
		req.Protocol != nil && *req.Protocol != g.protocol:
		failLater(kerr.InconsistentGroupProtocol.Code)
		return
	}

	switch g.state {
	case stateEmpty:
		failLater(kerr.UnknownMemberID.Code)
	case statePreparingRebalance:
		failLater(kerr.RebalanceInProgress.Code)
	case stateStable:
		g.heartbeat(m)
		resp := g.syncResponse(m)
		g.later(func() { done(resp) })
	case stateCompletingRebalance:
		if old := m.syncDone; old != nil {
			failOld := kmsg.NewPtrSyncGroupResponse()
			failOld.ErrorCode = kerr.RebalanceInProgress.Code
			g.later(func() { old(failOld) })
		}
		m.syncDone = done
		g.heartbeat(m)
		if m.id == g.leader {
			g.completeSync(req.GroupAssignment)
		}
	}
}

// completeSync applies the leader's assignments, makes the group Stable,
// saves it, and answers every waiting SyncGroup once the save is done.
func (g *group) completeSync(assignments []kmsg.SyncGroupRequestGroupAssignment) {
	byID := make(map[string][]byte, len(assignments))
	for _, a := range assignments {
		byID[a.MemberID] = bytes.Clone(a.MemberAssignment) // may alias the read buffer
	}
	var waiting []func()
	for _, m := range g.members {
		m.assignment = byID[m.id]
		if m.assignment == nil {
			m.assignment = []byte{}
		}
		if done := m.syncDone; done != nil {
			resp := g.syncResponse(m)
			waiting = append(waiting, func() { done(resp) })
			m.syncDone = nil
			g.heartbeat(m) // the session restarts once the wait is over

		}
	}
	g.state = stateStable
	g.c.log.Debug("group stable", "group", g.name, "generation", g.generation, "members", len(g.members))
	g.saveThen(func() {
		for _, f := range waiting {
			f()
		}
	})
}

func (g *group) syncResponse(m *member) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.ProtocolType = strPtr(g.protocolType)
	resp.Protocol = strPtr(g.protocol)
	resp.MemberAssignment = m.assignment
	return resp
}
