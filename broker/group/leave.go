package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// LeaveGroup serves a LeaveGroup: v0-v2 name one member; v3+ a list of
// members, each by member id or (administratively) by instance id alone.
func (c *Coordinator) LeaveGroup(req *kmsg.LeaveGroupRequest, done func(*kmsg.LeaveGroupResponse)) {
	version := req.GetVersion()
	resp := kmsg.NewPtrLeaveGroupResponse()
	leaving := req.Members
	if version < 3 {
		leaving = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		done(resp)
		return
	}
	codes := make([]int16, len(leaving))
	g, code := c.lockGroup(req.Group, false)
	if g == nil {
		if code != 0 {
			resp.ErrorCode = code
			done(resp)
			return
		}
		for i := range codes {
			codes[i] = kerr.UnknownMemberID.Code
		}
	} else {
		for i, lm := range leaving {
			codes[i] = g.leave(lm)
		}
		g.unlock()
	}
	if version < 3 {
		resp.ErrorCode = codes[0]
	} else {
		for i, lm := range leaving {
			rm := kmsg.NewLeaveGroupResponseMember()
			rm.MemberID = lm.MemberID
			rm.InstanceID = lm.InstanceID
			rm.ErrorCode = codes[i]
			resp.Members = append(resp.Members, rm)
		}
	}
	done(resp)
}

// leave removes one leaving member; called with g.mu held.
func (g *group) leave(lm kmsg.LeaveGroupRequestMember) int16 {
	reason := "member left the group"
	if lm.Reason != nil {
		reason += ": " + *lm.Reason
	}
	if lm.MemberID == "" {
		if lm.InstanceID == nil {
			return kerr.UnknownMemberID.Code
		}
		id, ok := g.static[*lm.InstanceID]
		if !ok || g.members[id] == nil {
			return kerr.UnknownMemberID.Code
		}
		g.removeMember(g.members[id], reason)
		return 0
	}
	if g.removePending(lm.MemberID) {
		g.tryCompleteJoin()
		return 0
	}
	if g.isStaticFenced(lm.MemberID, lm.InstanceID) {
		return kerr.FencedInstanceID.Code
	}
	m := g.members[lm.MemberID]
	if m == nil {
		return kerr.UnknownMemberID.Code
	}
	g.removeMember(m, reason)
	return 0
}
