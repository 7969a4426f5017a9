package group

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup serves a JoinGroup without client identity; see JoinGroupWithClient.
func (c *Coordinator) JoinGroup(req *kmsg.JoinGroupRequest, done func(*kmsg.JoinGroupResponse)) {
	c.JoinGroupWithClient(req, "", "", done)
}

// JoinGroupWithClient serves a JoinGroup. clientID (from the request header)
// and clientHost (the connection's remote host) are recorded for
// DescribeGroups; clientID also prefixes generated member ids. done is called
// once the rebalance completes (or at once on an error).
func (c *Coordinator) JoinGroupWithClient(req *kmsg.JoinGroupRequest, clientID, clientHost string, done func(*kmsg.JoinGroupResponse)) {
	version := req.GetVersion()
	fail := func(code int16) {
		resp := kmsg.NewPtrJoinGroupResponse()
		resp.ErrorCode = code
		resp.MemberID = req.MemberID
		done(resp)
	}
	if req.Group == "" {
		fail(kerr.InvalidGroupID.Code)
		return
	}
	session := millis(req.SessionTimeoutMillis)
	if session < c.cfg.MinSessionTimeout || session > c.cfg.MaxSessionTimeout {
		fail(kerr.InvalidSessionTimeout.Code)
		return
	}
	rebalance := millis(req.RebalanceTimeoutMillis)
	if version < 1 || rebalance <= 0 {
		rebalance = session
	}
	var instanceID *string
	if version >= 5 && req.InstanceID != nil {
		instanceID = strPtr(*req.InstanceID)
	}
	g, code := c.lockGroup(req.Group, req.MemberID == "")
	if g == nil {
		if code != 0 {
			fail(code)
		} else {
			fail(kerr.UnknownMemberID.Code)
		}
		return
	}
	defer g.unlock()
	defer g.dropIfUnused()

	j := &joinRequest{
		version:    version,
		memberID:   req.MemberID,
		instanceID: instanceID,
		clientID:   clientID,
		clientHost: clientHost,
		session:    session,
		rebalance:  rebalance,
		ptype:      req.ProtocolType,
		protocols:  protocolsOf(req),
		done:       done,
	}
	if !g.supportsProtocols(req.MemberID, j.ptype, j.protocols) {
		g.later(func() { fail(kerr.InconsistentGroupProtocol.Code) })
		return
	}
	if req.MemberID == "" {
		g.joinUnknown(j)
	} else {
		g.joinKnown(j)
	}
}

// joinRequest is a validated JoinGroup.
type joinRequest struct {
	version            int16
	memberID           string
	instanceID         *string
	clientID           string
	clientHost         string
	session, rebalance time.Duration
	ptype              string
	protocols          []protocol
	done               func(*kmsg.JoinGroupResponse)
}

func (j *joinRequest) fail(g *group, memberID string, code int16) {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.ErrorCode = code
	resp.MemberID = memberID
	done := j.done
	g.later(func() { done(resp) })
}

// joinUnknown handles a JoinGroup without a member id.
func (g *group) joinUnknown(j *joinRequest) {
	prefix := j.clientID
	if j.instanceID != nil {
		prefix = *j.instanceID
	}
	id := prefix + "-" + newUUID()
	switch {
	case j.instanceID != nil:
		if old, ok := g.static[*j.instanceID]; ok && g.members[old] != nil {
			g.replaceStatic(g.members[old], id, j)
			return
		}
		g.addMember(id, j)
	case j.version >= 4:
		// KIP-394: hand out the id and let the client join with it.
		g.addPending(id, j.session)
		j.fail(g, id, kerr.MemberIDRequired.Code)
	default:
		g.addMember(id, j)
	}
}

// joinKnown handles a JoinGroup from a member that has an id.
func (g *group) joinKnown(j *joinRequest) {
	id := j.memberID
	if g.removePending(id) {
		g.addMember(id, j)
		return
	}
	if g.isStaticFenced(id, j.instanceID) {
		j.fail(g, id, kerr.FencedInstanceID.Code)
		return
	}
	m := g.members[id]
	if m == nil {
		j.fail(g, id, kerr.UnknownMemberID.Code)
		return
	}
	switch g.state {
	case statePreparingRebalance:
		g.updateMember(m, j)
		g.tryCompleteJoin()
	case stateCompletingRebalance:
		if m.matches(j.protocols) {
			// A retried JoinGroup: the generation is already formed.
			g.respondCurrent(m, j, m.id == g.leader)
			return
		}
		g.updateMember(m, j)
		g.prepareRebalance("member " + id + " changed its metadata")
	case stateStable:
		if m.id == g.leader || !m.matches(j.protocols) {
			// The leader rejoining (e.g. to reassign after a metadata change)
			// or a follower changing its subscription starts a rebalance.
			g.updateMember(m, j)
			g.prepareRebalance("member " + id + " rejoined")
			return
		}
		g.respondCurrent(m, j, false)
	default:
		j.fail(g, id, kerr.UnknownMemberID.Code)
	}
}

// respondCurrent answers a JoinGroup with the current generation.
func (g *group) respondCurrent(m *member, j *joinRequest, withMembers bool) {
	m.clientID, m.clientHost = j.clientID, j.clientHost
	g.heartbeat(m)
	resp := g.joinResponse(m, withMembers)
	done := j.done
	g.later(func() { done(resp) })
}

// addMember adds a new member waiting for the rebalance it triggers (or joins).
func (g *group) addMember(id string, j *joinRequest) {
	if len(g.members) == 0 {
		g.protocolType = j.ptype
	}
	g.nextSeq++
	m := &member{
		id:               id,
		instanceID:       j.instanceID,
		clientID:         j.clientID,
		clientHost:       j.clientHost,
		seq:              g.nextSeq,
		sessionTimeout:   j.session,
		rebalanceTimeout: j.rebalance,
		protocols:        j.protocols,
		joinDone:         j.done,
	}
	g.members[id] = m
	if m.instanceID != nil {
		g.static[*m.instanceID] = id
	}
	if g.leader == "" {
		g.leader = id
	}
	if g.state == statePreparingRebalance {
		g.newMemberAdded = true
	}
	g.maybePrepareRebalance("member " + id + " joined")
	g.tryCompleteJoin()
}

// updateMember records a rejoin: new protocols and timeouts, and the
// JoinGroup to answer when the rebalance completes.
func (g *group) updateMember(m *member, j *joinRequest) {
	if old := m.joinDone; old != nil && j.done != nil {
		// A newer JoinGroup from the same member supersedes the older one.
		resp := kmsg.NewPtrJoinGroupResponse()
		resp.ErrorCode = kerr.RebalanceInProgress.Code
		resp.MemberID = m.id
		g.later(func() { old(resp) })
	}
	m.protocols = j.protocols
	m.sessionTimeout = j.session
	m.rebalanceTimeout = j.rebalance
	m.clientID, m.clientHost = j.clientID, j.clientHost
	m.joinDone = j.done
}

// replaceStatic hands a static member's place (and assignment) to a new
// member id: the instance restarted. The old id is fenced.
func (g *group) replaceStatic(old *member, newID string, j *joinRequest) {
	if old.hbTimer != nil {
		old.hbTimer.Stop()
	}
	old.hbSeq++
	if done := old.joinDone; done != nil {
		resp := kmsg.NewPtrJoinGroupResponse()
		resp.ErrorCode = kerr.FencedInstanceID.Code
		resp.MemberID = old.id
		g.later(func() { done(resp) })
		old.joinDone = nil
	}
	if done := old.syncDone; done != nil {
		resp := kmsg.NewPtrSyncGroupResponse()
		resp.ErrorCode = kerr.FencedInstanceID.Code
		g.later(func() { done(resp) })
		old.syncDone = nil
	}
	oldLeader := g.leader
	oldMetadata := old.metadataFor(g.protocol)
	m := &member{
		id:               newID,
		instanceID:       old.instanceID,
		seq:              old.seq,
		assignment:       old.assignment,
		sessionTimeout:   old.sessionTimeout,
		rebalanceTimeout: old.rebalanceTimeout,
	}
	delete(g.members, old.id)
	g.members[newID] = m
	g.static[*m.instanceID] = newID
	if g.leader == old.id {
		g.leader = newID
	}
	g.c.log.Info("static member replaced", "group", g.name, "instance", *m.instanceID, "old", old.id, "new", newID)

	switch g.state {
	case stateStable:
		m.protocols, m.sessionTimeout, m.rebalanceTimeout = j.protocols, j.session, j.rebalance
		m.clientID, m.clientHost = j.clientID, j.clientHost
		if g.selectProtocol() != g.protocol || !bytesEqual(m.metadataFor(g.protocol), oldMetadata) {
			m.joinDone = j.done
			g.prepareRebalance("static member " + *m.instanceID + " rejoined with new metadata")
			return
		}
		// Same metadata: keep the generation and the assignment, no rebalance.
		g.heartbeat(m)
		isLeader := g.leader == newID
		resp := g.joinResponse(m, false)
		if isLeader {
			if j.version >= 9 {
				resp.Members = g.memberList()
				resp.SkipAssignment = true
			} else {
				// Before v9 the client cannot be told to skip the assignment:
				// answer with the old leader id so it acts as a follower and
				// simply syncs (a stable group would ignore its assignment).
				resp.LeaderID = oldLeader
			}
		}
		done := j.done
		g.saveThen(func() { done(resp) })
	case stateCompletingRebalance:
		// The leader may be assigning to the old id: rebalance again.
		g.updateMember(m, j)
		g.prepareRebalance("static member " + *m.instanceID + " rejoined during sync")
	default: // PreparingRebalance: wait for the join phase to complete.
		g.updateMember(m, j)
		g.tryCompleteJoin()
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// newUUID returns a random (version 4) UUID string, as Kafka appends to member ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
