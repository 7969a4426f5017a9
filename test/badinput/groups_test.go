package badinput

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func joinReq(group, member string, sessionMs int32) *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.SetVersion(9)
	req.Group, req.MemberID = group, member
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = sessionMs, 30000
	req.ProtocolType = "consumer"
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = "range", []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	req.Protocols = append(req.Protocols, p)
	return req
}

// TestGroupErrors: group requests with an unknown member, an invalid
// session timeout or an empty group id get Kafka's codes.
func TestGroupErrors(t *testing.T) {
	e := shared(t)
	c := dialRaw(t, e.b.Addr)
	const group = "badinput-group"

	// A real member: join (MEMBER_ID_REQUIRED first, KIP-394), rejoin, sync.
	j := c.roundTrip(t, joinReq(group, "", 30000)).(*kmsg.JoinGroupResponse)
	wantCode(t, "first JoinGroup v9", j.ErrorCode, kerr.MemberIDRequired)
	if j.MemberID == "" {
		t.Fatal("MEMBER_ID_REQUIRED without a member id")
	}
	member := j.MemberID
	j = c.roundTrip(t, joinReq(group, member, 30000)).(*kmsg.JoinGroupResponse)
	if j.ErrorCode != 0 || j.LeaderID != member {
		t.Fatalf("JoinGroup: error %v leader %q (member %q)", kerr.ErrorForCode(j.ErrorCode), j.LeaderID, member)
	}
	gen := j.Generation
	sreq := kmsg.NewPtrSyncGroupRequest()
	sreq.SetVersion(5)
	sreq.Group, sreq.Generation, sreq.MemberID = group, gen, member
	sreq.ProtocolType, sreq.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range")
	a := kmsg.NewSyncGroupRequestGroupAssignment()
	a.MemberID, a.MemberAssignment = member, []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	sreq.GroupAssignment = append(sreq.GroupAssignment, a)
	s := c.roundTrip(t, sreq).(*kmsg.SyncGroupResponse)
	wantNoErr(t, "SyncGroup", s.ErrorCode)

	commit := func(memberID string, generation int32) int16 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.SetVersion(8)
		req.Group, req.Generation, req.MemberID = group, generation, memberID
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = dataTopic
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch = 0, 5, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := c.roundTrip(t, req).(*kmsg.OffsetCommitResponse)
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			t.Fatalf("OffsetCommit response %+v", resp.Topics)
		}
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	wantCode(t, "OffsetCommit unknown member", commit("nobody", gen), kerr.UnknownMemberID)
	wantCode(t, "OffsetCommit simple commit into a live group", commit("", -1), kerr.UnknownMemberID)
	wantCode(t, "OffsetCommit wrong generation", commit(member, gen+7), kerr.IllegalGeneration)
	wantNoErr(t, "OffsetCommit by the member", commit(member, gen))

	hb := func(g, m string, generation int32) int16 {
		req := kmsg.NewPtrHeartbeatRequest()
		req.SetVersion(4)
		req.Group, req.MemberID, req.Generation = g, m, generation
		return c.roundTrip(t, req).(*kmsg.HeartbeatResponse).ErrorCode
	}
	wantCode(t, "Heartbeat unknown member", hb(group, "nobody", gen), kerr.UnknownMemberID)
	wantNoErr(t, "Heartbeat by the member", hb(group, member, gen))

	for _, ms := range []int32{1, 0, -1, 1 << 30} {
		j := c.roundTrip(t, joinReq("badinput-session", "", ms)).(*kmsg.JoinGroupResponse)
		wantCode(t, "JoinGroup session timeout "+itoa(int64(ms))+"ms", j.ErrorCode, kerr.InvalidSessionTimeout)
	}
	// The group id is checked before the session timeout.
	wantCode(t, "JoinGroup empty group", c.roundTrip(t, joinReq("", "", 30000)).(*kmsg.JoinGroupResponse).ErrorCode, kerr.InvalidGroupID)
	wantCode(t, "JoinGroup empty group, bad session", c.roundTrip(t, joinReq("", "", 1)).(*kmsg.JoinGroupResponse).ErrorCode, kerr.InvalidGroupID)
	wantCode(t, "Heartbeat empty group", hb("", member, gen), kerr.InvalidGroupID)
	sreq.Group = ""
	wantCode(t, "SyncGroup empty group", c.roundTrip(t, sreq).(*kmsg.SyncGroupResponse).ErrorCode, kerr.InvalidGroupID)

	// The real member is still in good standing.
	wantNoErr(t, "Heartbeat by the member afterwards", hb(group, member, gen))
	fetch := kmsg.NewPtrOffsetFetchRequest()
	fetch.SetVersion(7)
	fetch.Group = group
	ft := kmsg.NewOffsetFetchRequestTopic()
	ft.Topic, ft.Partitions = dataTopic, []int32{0}
	fetch.Topics = append(fetch.Topics, ft)
	fr := c.roundTrip(t, fetch).(*kmsg.OffsetFetchResponse)
	if fr.ErrorCode != 0 || len(fr.Topics) != 1 || len(fr.Topics[0].Partitions) != 1 || fr.Topics[0].Partitions[0].Offset != 5 {
		t.Errorf("OffsetFetch after the bad commits: %+v (error %d), want offset 5", fr.Topics, fr.ErrorCode)
	}
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.SetVersion(4)
	leave.Group = group
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = member
	leave.Members = append(leave.Members, lm)
	wantNoErr(t, "LeaveGroup", c.roundTrip(t, leave).(*kmsg.LeaveGroupResponse).ErrorCode)
	e.afterCase(t)
}
