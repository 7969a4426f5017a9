package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// heartbeat restarts the member's session timer. When it fires, a member that
// is not waiting in a JoinGroup or SyncGroup is removed from the group.
func (g *group) heartbeat(m *member) {
	if m.hbTimer != nil {
		m.hbTimer.Stop()
	}
	m.hbSeq++
	seq := m.hbSeq
	m.hbTimer = time.AfterFunc(m.sessionTimeout, func() { g.sessionExpired(m, seq) })
}

func (g *group) sessionExpired(m *member, seq uint64) {
	g.mu.Lock()
	defer g.unlock()
	if g.c.isClosed() || g.members[m.id] != m || m.hbSeq != seq {
		return
	}
	if m.joinDone != nil || m.syncDone != nil {
		// Waiting members are bounded by the rebalance, not the session.
		g.heartbeat(m)
		return
	}
	g.c.log.Info("member session expired", "group", g.name, "member", m.id)
	g.removeMember(m, "session timeout")
}

// addPending remembers a member id handed out with MEMBER_ID_REQUIRED; it
// blocks the rebalance from completing until it joins or its session expires.
func (g *group) addPending(id string, session time.Duration) {
	if t := g.pending[id]; t != nil {
		t.Stop()
	}
	var t *time.Timer
	t = time.AfterFunc(session, func() {
		g.mu.Lock()
		defer g.unlock()
		if g.pending[id] != t {
			return
		}
		delete(g.pending, id)
		g.tryCompleteJoin()
		g.dropIfUnused()
	})
	g.pending[id] = t
}

func (g *group) removePending(id string) bool {
	t, ok := g.pending[id]
	if ok {
		t.Stop()
		delete(g.pending, id)
	}
	return ok
}

// removeMember drops a member and moves the group along: a stable group
// rebalances, a preparing one may now complete.
func (g *group) removeMember(m *member, reason string) {
	if m.hbTimer != nil {
		m.hbTimer.Stop()
	}
	m.hbSeq++
	if done := m.joinDone; done != nil {
		resp := kmsg.NewPtrJoinGroupResponse()
		resp.ErrorCode = kerr.UnknownMemberID.Code
		resp.MemberID = m.id
		g.later(func() { done(resp) })
		m.joinDone = nil
	}
	if done := m.syncDone; done != nil {
		resp := kmsg.NewPtrSyncGroupResponse()
		resp.ErrorCode = kerr.UnknownMemberID.Code
		g.later(func() { done(resp) })
		m.syncDone = nil
	}
	delete(g.members, m.id)
	if m.instanceID != nil && g.static[*m.instanceID] == m.id {
		delete(g.static, *m.instanceID)
	}
	if g.leader == m.id {
		g.leader = ""
		if ms := g.sortedMembers(); len(ms) > 0 {
			g.leader = ms[0].id
		}
	}
	g.c.log.Debug("member removed", "group", g.name, "member", m.id, "reason", reason)
	switch g.state {
	case stateStable, stateCompletingRebalance:
		g.prepareRebalance(reason)
	case statePreparingRebalance:
		g.tryCompleteJoin()
	}
}

// maybePrepareRebalance starts a rebalance unless one is already being prepared.
func (g *group) maybePrepareRebalance(reason string) {
	switch g.state {
	case stateStable, stateCompletingRebalance, stateEmpty:
		g.prepareRebalance(reason)
	}
}

// prepareRebalance moves the group to PreparingRebalance: members waiting for
// an assignment get REBALANCE_IN_PROGRESS, and the join phase is bounded by
// the largest rebalance timeout (after the initial delay for an empty group).
func (g *group) prepareRebalance(reason string) {
	if g.state == stateCompletingRebalance {
		for _, m := range g.members {
			m.assignment = nil
			if done := m.syncDone; done != nil {
				resp := kmsg.NewPtrSyncGroupResponse()
				resp.ErrorCode = kerr.RebalanceInProgress.Code
				g.later(func() { done(resp) })
				m.syncDone = nil
				// Its session was not counting while it waited: restart it.
				g.heartbeat(m)
			}
		}
	}
	timeout := g.maxRebalanceTimeout()
	delay := g.c.cfg.InitialRebalanceDelay
	if g.state == stateEmpty && delay > 0 {
		g.initialDelay = true
		g.newMemberAdded = false
		g.delayRemaining = max(timeout-delay, 0)
		g.armRebalanceTimer(delay)
	} else {
		g.initialDelay = false
		g.armRebalanceTimer(timeout)
	}
	g.c.log.Debug("preparing rebalance", "group", g.name, "generation", g.generation, "reason", reason)
	g.state = statePreparingRebalance
	g.tryCompleteJoin()
}

func (g *group) maxRebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

func (g *group) armRebalanceTimer(d time.Duration) {
	g.stopRebalanceTimer()
	seq := g.rebalanceSeq
	g.rebalanceTimer = time.AfterFunc(d, func() { g.rebalanceTimerFired(seq) })
}

func (g *group) stopRebalanceTimer() {
	if g.rebalanceTimer != nil {
		g.rebalanceTimer.Stop()
		g.rebalanceTimer = nil
	}
	g.rebalanceSeq++
}

func (g *group) rebalanceTimerFired(seq uint64) {
	g.mu.Lock()
	defer g.unlock()
	if g.c.isClosed() || seq != g.rebalanceSeq || g.state != statePreparingRebalance {
		return
	}
	if g.initialDelay {
		if g.newMemberAdded && g.delayRemaining > 0 {
			// Members keep arriving: wait another delay, within the rebalance timeout.
			d := min(g.c.cfg.InitialRebalanceDelay, g.delayRemaining)
			g.delayRemaining -= d
			g.newMemberAdded = false
			g.armRebalanceTimer(d)
			return
		}
		g.initialDelay = false
	}
	g.completeJoin()
}

// tryCompleteJoin completes the join phase once every member has rejoined
// and no member id handed out with MEMBER_ID_REQUIRED is still outstanding.
func (g *group) tryCompleteJoin() {
	if g.state != statePreparingRebalance || g.initialDelay {
		return
	}
	if len(g.pending) > 0 {
		return
	}
	for _, m := range g.members {
		if m.joinDone == nil {
			return
		}
	}
	g.completeJoin()
}

// completeJoin ends the join phase: dynamic members that did not rejoin are
// dropped, the generation advances, a protocol is chosen and every waiting
// JoinGroup is answered (the leader with the member list).
func (g *group) completeJoin() {
	g.stopRebalanceTimer()
	g.initialDelay = false
	for _, m := range g.sortedMembers() {
		if m.joinDone == nil && !m.isStatic() {
			g.c.log.Info("member did not rejoin within the rebalance timeout", "group", g.name, "member", m.id)
			if m.hbTimer != nil {
				m.hbTimer.Stop()
			}
			m.hbSeq++
			if done := m.syncDone; done != nil {
				resp := kmsg.NewPtrSyncGroupResponse()
				resp.ErrorCode = kerr.UnknownMemberID.Code
				g.later(func() { done(resp) })
				m.syncDone = nil
			}
			delete(g.members, m.id)
		}
	}
	var joined []*member
	for _, m := range g.sortedMembers() {
		if m.joinDone != nil {
			joined = append(joined, m)
		}
	}
	if len(g.members) > 0 && len(joined) == 0 {
		// Only static members that have not rejoined are left: wait for them
		// to come back or for their sessions to expire.
		g.armRebalanceTimer(g.maxRebalanceTimeout())
		return
	}
	if m := g.members[g.leader]; m == nil || m.joinDone == nil {
		g.leader = ""
		if len(joined) > 0 {
			g.leader = joined[0].id
		}
	}
	g.generation++
	if len(g.members) == 0 {
		g.state = stateEmpty
		g.protocol = ""
		g.leader = ""
		g.save()
		return
	}
	g.protocol = g.selectProtocol()
	g.state = stateCompletingRebalance
	g.c.log.Debug("rebalance joined", "group", g.name, "generation", g.generation, "protocol", g.protocol, "members", len(g.members))
	for _, m := range joined {
		resp := g.joinResponse(m, m.id == g.leader)
		done := m.joinDone
		m.joinDone = nil
		g.heartbeat(m)
		g.later(func() { done(resp) })
	}
}

// joinResponse describes the current generation to member m.
func (g *group) joinResponse(m *member, withMembers bool) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Generation = g.generation
	resp.ProtocolType = strPtr(g.protocolType)
	resp.Protocol = strPtr(g.protocol)
	resp.LeaderID = g.leader
	resp.MemberID = m.id
	if withMembers {
		resp.Members = g.memberList()
	}
	return resp
}

// shutdown stops the group's timers and answers waiting requests with
// NOT_COORDINATOR (the coordinator is going away).
func (g *group) shutdown() {
	g.stopRebalanceTimer()
	for id, t := range g.pending {
		t.Stop()
		delete(g.pending, id)
	}
	for _, m := range g.members {
		if m.hbTimer != nil {
			m.hbTimer.Stop()
		}
		m.hbSeq++
		if done := m.joinDone; done != nil {
			resp := kmsg.NewPtrJoinGroupResponse()
			resp.ErrorCode = kerr.NotCoordinator.Code
			resp.MemberID = m.id
			g.later(func() { done(resp) })
			m.joinDone = nil
		}
		if done := m.syncDone; done != nil {
			resp := kmsg.NewPtrSyncGroupResponse()
			resp.ErrorCode = kerr.NotCoordinator.Code
			g.later(func() { done(resp) })
			m.syncDone = nil
		}
	}
}

// dropIfUnused forgets a group that a JoinGroup created but that never got a
// member, an offset or a saved state (a failed join, an abandoned
// MEMBER_ID_REQUIRED), so it does not linger in ListGroups; called with g.mu held.
func (g *group) dropIfUnused() {
	if g.state == stateEmpty && g.generation == 0 && len(g.members) == 0 && len(g.pending) == 0 && len(g.offsets) == 0 {
		g.state = stateDead
		g.stopRebalanceTimer()
		g.c.removeGroup(g)
	}
}
