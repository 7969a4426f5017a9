package group

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// formStatic forms a stable group of static members "a" and "b" ("a" leads).
func formStatic(t *testing.T, c *Coordinator) stable {
	t.Helper()
	ja := joinAsync(c, "g", joinOpts{instance: strPtr("a")})
	ra := await(t, ja)
	wantCode(t, "static join a", ra.ErrorCode, nil) // static members skip MEMBER_ID_REQUIRED
	if !strings.HasPrefix(ra.MemberID, "a-") {
		t.Fatalf("static member id %q not prefixed by its instance id", ra.MemberID)
	}
	sa := await(t, syncAsync(c, "g", ra.MemberID, ra.Generation, map[string][]byte{ra.MemberID: []byte("x")}))
	wantCode(t, "static sync a", sa.ErrorCode, nil)
	jb := joinAsync(c, "g", joinOpts{instance: strPtr("b")})
	stillWaiting(t, jb, 10*time.Millisecond)
	ja = joinAsync(c, "g", joinOpts{memberID: ra.MemberID, instance: strPtr("a")})
	rb := await(t, jb)
	wantCode(t, "static join b", rb.ErrorCode, nil)
	return finishRebalance(t, c, "g", []string{ra.MemberID, rb.MemberID}, []<-chan *kmsg.JoinGroupResponse{ja, replay(rb)})
}

func replay(r *kmsg.JoinGroupResponse) <-chan *kmsg.JoinGroupResponse {
	ch := make(chan *kmsg.JoinGroupResponse, 1)
	ch <- r
	return ch
}

func TestStaticMemberRestartKeepsAssignment(t *testing.T) {
	store := newMemStore()
	c := newTestCoordinator(t, store)
	s := formStatic(t, c)
	oldB := s.ids[1]

	// "b" restarts: empty member id, same instance and metadata.
	r := await(t, joinAsync(c, "g", joinOpts{instance: strPtr("b")}))
	wantCode(t, "static rejoin", r.ErrorCode, nil)
	if r.MemberID == oldB || r.Generation != s.gen || r.LeaderID != s.leader || len(r.Members) != 0 {
		t.Fatalf("static rejoin: id %s (old %s) gen %d (want %d) leader %s members %d", r.MemberID, oldB, r.Generation, s.gen, r.LeaderID, len(r.Members))
	}
	sr := await(t, syncAsync(c, "g", r.MemberID, s.gen, nil))
	wantCode(t, "sync", sr.ErrorCode, nil)
	if string(sr.MemberAssignment) != "assign-"+oldB {
		t.Fatalf("restarted static member got assignment %q, want its old one", sr.MemberAssignment)
	}
	// No rebalance: the leader keeps heartbeating the same generation.
	wantCode(t, "leader heartbeat", heartbeat(c, "g", s.leader, s.gen, strPtr("a")), nil)
	// The old incarnation is fenced everywhere.
	wantCode(t, "old heartbeat", heartbeat(c, "g", oldB, s.gen, strPtr("b")), kerr.FencedInstanceID)
	fj := await(t, joinAsync(c, "g", joinOpts{memberID: oldB, instance: strPtr("b")}))
	wantCode(t, "old join", fj.ErrorCode, kerr.FencedInstanceID)
	wantCode(t, "old commit", commit(t, c, 8, "g", oldB, s.gen, strPtr("b"), map[string]map[int32]int64{"t1": {0: 1}}, "").Topics[0].Partitions[0].ErrorCode, kerr.FencedInstanceID)
	wantCode(t, "new commit", commit(t, c, 8, "g", r.MemberID, s.gen, strPtr("b"), map[string]map[int32]int64{"t1": {0: 1}}, "").Topics[0].Partitions[0].ErrorCode, nil)
	if !strings.Contains(string(mustGroupState(t, store, "g")), r.MemberID) {
		t.Fatal("replacement not persisted")
	}

	// The leader restarts with v9: it is told to skip the assignment.
	rl := await(t, joinAsync(c, "g", joinOpts{instance: strPtr("a")}))
	wantCode(t, "leader rejoin", rl.ErrorCode, nil)
	if !rl.SkipAssignment || rl.LeaderID != rl.MemberID || len(rl.Members) != 2 || rl.Generation != s.gen {
		t.Fatalf("v9 leader restart: skip %v leader %s id %s members %d gen %d", rl.SkipAssignment, rl.LeaderID, rl.MemberID, len(rl.Members), rl.Generation)
	}
	// And again with v8: it is told the old leader id so it acts as a follower.
	rl8 := await(t, joinAsync(c, "g", joinOpts{version: 8, instance: strPtr("a")}))
	wantCode(t, "v8 leader rejoin", rl8.ErrorCode, nil)
	if rl8.LeaderID != rl.MemberID || rl8.MemberID == rl.MemberID || len(rl8.Members) != 0 {
		t.Fatalf("v8 leader restart: leader %s (want old %s) id %s members %d", rl8.LeaderID, rl.MemberID, rl8.MemberID, len(rl8.Members))
	}
	sl := await(t, syncAsync(c, "g", rl8.MemberID, s.gen, nil))
	if string(sl.MemberAssignment) != "assign-"+s.leader {
		t.Fatalf("leader assignment after restart %q", sl.MemberAssignment)
	}
	wantCode(t, "new b still fine", heartbeat(c, "g", r.MemberID, s.gen, strPtr("b")), nil)
}

func TestStaticMemberNewMetadataRebalances(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	s := formStatic(t, c)
	o := joinOpts{instance: strPtr("b"), protocols: []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: consumerMeta("t1", "t2")}}}
	jb := joinAsync(c, "g", o)
	stillWaiting(t, jb, 10*time.Millisecond)
	wantCode(t, "leader heartbeat", heartbeat(c, "g", s.leader, s.gen, strPtr("a")), kerr.RebalanceInProgress)
	ja := joinAsync(c, "g", joinOpts{memberID: s.leader, instance: strPtr("a")})
	rb := await(t, jb)
	s2 := finishRebalance(t, c, "g", []string{s.leader, rb.MemberID}, []<-chan *kmsg.JoinGroupResponse{ja, replay(rb)})
	if s2.gen != s.gen+1 {
		t.Fatalf("generation %d", s2.gen)
	}
}

func TestStaticMemberRestartDuringRebalanceFencesOldJoin(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	s := formStatic(t, c)
	// A third member starts a rebalance; "b"'s old incarnation rejoins, then
	// "b" restarts and joins again with no id.
	j3 := joinAsync(c, "g", joinOpts{instance: strPtr("c")})
	oldJoin := joinAsync(c, "g", joinOpts{memberID: s.ids[1], instance: strPtr("b")})
	newJoin := joinAsync(c, "g", joinOpts{instance: strPtr("b")})
	wantCode(t, "old join", await(t, oldJoin).ErrorCode, kerr.FencedInstanceID)
	ja := joinAsync(c, "g", joinOpts{memberID: s.leader, instance: strPtr("a")})
	rb, r3 := await(t, newJoin), await(t, j3)
	finishRebalance(t, c, "g", []string{s.leader, rb.MemberID, r3.MemberID}, []<-chan *kmsg.JoinGroupResponse{ja, replay(rb), replay(r3)})
}

func TestFencedInstanceID(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	s := formStatic(t, c)
	r := await(t, joinAsync(c, "g", joinOpts{memberID: s.ids[0], instance: strPtr("b")}))
	wantCode(t, "join with another's instance", r.ErrorCode, kerr.FencedInstanceID)
	wantCode(t, "heartbeat", heartbeat(c, "g", s.ids[0], s.gen, strPtr("b")), kerr.FencedInstanceID)
	sr := kmsg.NewPtrSyncGroupRequest()
	sr.SetVersion(3)
	sr.Group, sr.MemberID, sr.Generation, sr.InstanceID = "g", s.ids[0], s.gen, strPtr("b")
	var code int16 = -1
	c.SyncGroup(sr, func(r *kmsg.SyncGroupResponse) { code = r.ErrorCode })
	wantCode(t, "sync", code, kerr.FencedInstanceID)
	lr := leave(t, c, 3, "g", kmsg.LeaveGroupRequestMember{MemberID: s.ids[0], InstanceID: strPtr("b")})
	wantCode(t, "leave", lr.Members[0].ErrorCode, kerr.FencedInstanceID)
	wantCode(t, "unaffected", heartbeat(c, "g", s.ids[0], s.gen, strPtr("a")), nil)
}

func leave(t *testing.T, c *Coordinator, version int16, group string, members ...kmsg.LeaveGroupRequestMember) *kmsg.LeaveGroupResponse {
	t.Helper()
	req := kmsg.NewPtrLeaveGroupRequest()
	req.SetVersion(version)
	req.Group = group
	if version < 3 {
		req.MemberID = members[0].MemberID
	} else {
		req.Members = members
	}
	ch := make(chan *kmsg.LeaveGroupResponse, 1)
	c.LeaveGroup(req, func(r *kmsg.LeaveGroupResponse) { ch <- r })
	return await(t, ch)
}

func TestLeaveGroup(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	s := formStatic(t, c)
	// v3+: admin removal by instance id, plus an unknown member.
	lr := leave(t, c, 5, "g",
		kmsg.LeaveGroupRequestMember{InstanceID: strPtr("b")},
		kmsg.LeaveGroupRequestMember{MemberID: "ghost"})
	wantCode(t, "leave top", lr.ErrorCode, nil)
	if len(lr.Members) != 2 {
		t.Fatalf("members %d", len(lr.Members))
	}
	wantCode(t, "leave b", lr.Members[0].ErrorCode, nil)
	wantCode(t, "leave ghost", lr.Members[1].ErrorCode, kerr.UnknownMemberID)
	wantCode(t, "a told to rejoin", heartbeat(c, "g", s.leader, s.gen, strPtr("a")), kerr.RebalanceInProgress)
	r := await(t, joinAsync(c, "g", joinOpts{memberID: s.leader, instance: strPtr("a")}))
	if r.Generation != s.gen+1 || len(r.Members) != 1 {
		t.Fatalf("after leave: gen %d members %d", r.Generation, len(r.Members))
	}
	// v0-v2: one member, top-level error.
	lr = leave(t, c, 1, "g", kmsg.LeaveGroupRequestMember{MemberID: "ghost"})
	wantCode(t, "v1 unknown", lr.ErrorCode, kerr.UnknownMemberID)
	lr = leave(t, c, 1, "g", kmsg.LeaveGroupRequestMember{MemberID: s.leader})
	wantCode(t, "v1 leave", lr.ErrorCode, nil)
	if d := describe(t, c, 4, "g")[0]; d.State != "Empty" || len(d.Members) != 0 {
		t.Fatalf("after everyone left: %s with %d members", d.State, len(d.Members))
	}
	lr = leave(t, c, 1, "", kmsg.LeaveGroupRequestMember{MemberID: "x"})
	wantCode(t, "empty group id", lr.ErrorCode, kerr.InvalidGroupID)
	lr = leave(t, c, 4, "nogroup", kmsg.LeaveGroupRequestMember{MemberID: "x"})
	wantCode(t, "unknown group member", lr.Members[0].ErrorCode, kerr.UnknownMemberID)
}

func mustGroupState(t *testing.T, s *memStore, name string) []byte {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		b, ok := s.groups[name]
		s.mu.Unlock()
		if ok {
			return b
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("group %q never saved", name)
	return nil
}
