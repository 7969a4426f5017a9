package group

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestTwoMemberJoinSyncHeartbeat(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	o := joinOpts{clientID: "app", host: "/10.0.0.1"}

	// First member: KIP-394 id, then a generation of its own.
	id1 := memberIDFor(t, c, "g", o)
	if !strings.HasPrefix(id1, "app-") {
		t.Fatalf("member id %q does not start with the client id", id1)
	}
	o1 := o
	o1.memberID = id1
	r1 := await(t, joinAsync(c, "g", o1))
	wantCode(t, "join 1", r1.ErrorCode, nil)
	if r1.Generation != 1 || r1.LeaderID != id1 || len(r1.Members) != 1 {
		t.Fatalf("first generation: gen %d leader %q members %d", r1.Generation, r1.LeaderID, len(r1.Members))
	}
	if r1.ProtocolType == nil || *r1.ProtocolType != "consumer" || r1.Protocol == nil || *r1.Protocol != "range" {
		t.Fatalf("protocol type/name not set: %v %v", r1.ProtocolType, r1.Protocol)
	}
	s1 := await(t, syncAsync(c, "g", id1, 1, map[string][]byte{id1: []byte("all")}))
	wantCode(t, "sync 1", s1.ErrorCode, nil)
	if string(s1.MemberAssignment) != "all" {
		t.Fatalf("assignment %q", s1.MemberAssignment)
	}
	wantCode(t, "heartbeat", heartbeat(c, "g", id1, 1, nil), nil)

	// Second member: it waits until the first rejoins.
	id2 := memberIDFor(t, c, "g", o)
	o2 := o
	o2.memberID = id2
	j2 := joinAsync(c, "g", o2)
	stillWaiting(t, j2, 20*time.Millisecond)
	wantCode(t, "heartbeat during rebalance", heartbeat(c, "g", id1, 1, nil), kerr.RebalanceInProgress)
	j1 := joinAsync(c, "g", o1)
	s := finishRebalance(t, c, "g", []string{id1, id2}, []<-chan *kmsg.JoinGroupResponse{j1, j2})
	if s.gen != 2 || s.leader != id1 {
		t.Fatalf("second generation %d leader %q", s.gen, s.leader)
	}
	for _, id := range s.ids {
		wantCode(t, "heartbeat "+id, heartbeat(c, "g", id, 2, nil), nil)
	}
	wantCode(t, "old generation", heartbeat(c, "g", id1, 1, nil), kerr.IllegalGeneration)
	wantCode(t, "unknown member", heartbeat(c, "g", "nobody", 2, nil), kerr.UnknownMemberID)
	wantCode(t, "unknown group", heartbeat(c, "nogroup", id1, 2, nil), kerr.UnknownMemberID)

	// A follower re-syncing in a stable group gets its assignment again.
	r := await(t, syncAsync(c, "g", id2, 2, nil))
	if string(r.MemberAssignment) != "assign-"+id2 || r.Protocol == nil || *r.Protocol != "range" {
		t.Fatalf("stable sync: %q %v", r.MemberAssignment, r.Protocol)
	}
	// A follower rejoining with unchanged metadata gets the current generation, no rebalance.
	rj := await(t, joinAsync(c, "g", o2))
	wantCode(t, "follower rejoin", rj.ErrorCode, nil)
	if rj.Generation != 2 || len(rj.Members) != 0 {
		t.Fatalf("follower rejoin: gen %d members %d", rj.Generation, len(rj.Members))
	}
	wantCode(t, "heartbeat after rejoin", heartbeat(c, "g", id1, 2, nil), nil)

	d := describe(t, c, 5, "g")[0]
	if d.State != "Stable" || d.Protocol != "range" || d.ProtocolType != "consumer" || len(d.Members) != 2 {
		t.Fatalf("describe: %+v", d)
	}
	for _, m := range d.Members {
		if m.ClientID != "app" || m.ClientHost != "/10.0.0.1" || string(m.MemberAssignment) != "assign-"+m.MemberID {
			t.Fatalf("describe member: %+v", m)
		}
		if string(m.ProtocolMetadata) != string(consumerMeta("t1")) {
			t.Fatalf("describe member metadata %q", m.ProtocolMetadata)
		}
	}
}

func TestThirdMemberTriggersRebalance(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	s := formGroup(t, c, "g", 2, joinOpts{})
	if s.gen != 1 {
		t.Fatalf("generation %d", s.gen)
	}
	id3 := memberIDFor(t, c, "g", joinOpts{})
	j3 := joinAsync(c, "g", joinOpts{memberID: id3})
	stillWaiting(t, j3, 20*time.Millisecond)
	if st := describe(t, c, 0, "g")[0].State; st != "PreparingRebalance" {
		t.Fatalf("state %s", st)
	}
	var chans []<-chan *kmsg.JoinGroupResponse
	for _, id := range s.ids {
		wantCode(t, "heartbeat", heartbeat(c, "g", id, s.gen, nil), kerr.RebalanceInProgress)
		// Commits of the old generation are still accepted while preparing.
		wantCode(t, "commit while preparing", commitOne(t, c, "g", id, s.gen, "t1", 0, 5), nil)
		chans = append(chans, joinAsync(c, "g", joinOpts{memberID: id}))
	}
	chans = append(chans, j3)
	s2 := finishRebalance(t, c, "g", append(append([]string{}, s.ids...), id3), chans)
	if s2.gen != 2 || s2.leader != s.leader {
		t.Fatalf("gen %d leader %s (was %s)", s2.gen, s2.leader, s.leader)
	}
}

func TestSessionTimeoutRemovesMember(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	o := joinOpts{session: 300 * time.Millisecond}
	s := formGroup(t, c, "g", 2, o)
	alive, dead := s.ids[0], s.ids[1]
	deadline := time.Now().Add(waitLimit)
	for {
		code := heartbeat(c, "g", alive, s.gen, nil)
		if code == kerr.RebalanceInProgress.Code {
			break
		}
		wantCode(t, "heartbeat", code, nil)
		if time.Now().After(deadline) {
			t.Fatal("silent member never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	oa := o
	oa.memberID = alive
	r := await(t, joinAsync(c, "g", oa))
	wantCode(t, "rejoin", r.ErrorCode, nil)
	if r.Generation != s.gen+1 || len(r.Members) != 1 || r.LeaderID != alive {
		t.Fatalf("after expiry: gen %d members %d leader %s", r.Generation, len(r.Members), r.LeaderID)
	}
	wantCode(t, "expired member heartbeat", heartbeat(c, "g", dead, s.gen, nil), kerr.UnknownMemberID)
}

func TestRebalanceTimeoutDropsNonRejoiningMember(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	o := joinOpts{rebalance: 200 * time.Millisecond}
	s := formGroup(t, c, "g", 2, o)
	id3 := memberIDFor(t, c, "g", o)
	o3 := o
	o3.memberID = id3
	j3 := joinAsync(c, "g", o3)
	o1 := o
	o1.memberID = s.ids[0]
	start := time.Now()
	j1 := joinAsync(c, "g", o1)
	// s.ids[1] never rejoins (a cooperative member stuck revoking, say).
	stillWaiting(t, j1, 100*time.Millisecond)
	r1, r3 := await(t, j1), await(t, j3)
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("join completed after %v, before the rebalance timeout", el)
	}
	wantCode(t, "join 1", r1.ErrorCode, nil)
	wantCode(t, "join 3", r3.ErrorCode, nil)
	leaderResp := r1
	if r3.MemberID == r3.LeaderID {
		leaderResp = r3
	}
	if len(leaderResp.Members) != 2 || r1.Generation != s.gen+1 {
		t.Fatalf("gen %d, leader saw %d members", r1.Generation, len(leaderResp.Members))
	}
	for _, m := range leaderResp.Members {
		if m.MemberID == s.ids[1] {
			t.Fatal("non-rejoining member still in the group")
		}
	}
	wantCode(t, "dropped member", heartbeat(c, "g", s.ids[1], s.gen, nil), kerr.UnknownMemberID)
}

func TestInitialRebalanceDelayGathersMembers(t *testing.T) {
	c := newTestCoordinator(t, newMemStore(), func(cfg *Config) { cfg.InitialRebalanceDelay = 150 * time.Millisecond })
	o := joinOpts{version: 3} // pre-KIP-394: ids are generated directly
	j1 := joinAsync(c, "g", o)
	time.Sleep(50 * time.Millisecond)
	j2 := joinAsync(c, "g", o)
	stillWaiting(t, j1, 50*time.Millisecond)
	r1, r2 := await(t, j1), await(t, j2)
	wantCode(t, "join 1", r1.ErrorCode, nil)
	wantCode(t, "join 2", r2.ErrorCode, nil)
	if r1.Generation != 1 || r2.Generation != 1 || r1.LeaderID != r1.MemberID || len(r1.Members) != 2 {
		t.Fatalf("gen %d/%d leader %s members %d", r1.Generation, r2.Generation, r1.LeaderID, len(r1.Members))
	}
}

func TestJoinValidation(t *testing.T) {
	c := newTestCoordinator(t, newMemStore(), func(cfg *Config) {
		cfg.MinSessionTimeout = time.Second
		cfg.MaxSessionTimeout = time.Minute
	})
	r := await(t, joinAsync(c, "", joinOpts{}))
	wantCode(t, "empty group", r.ErrorCode, kerr.InvalidGroupID)
	r = await(t, joinAsync(c, "g", joinOpts{session: 10 * time.Millisecond}))
	wantCode(t, "short session", r.ErrorCode, kerr.InvalidSessionTimeout)
	r = await(t, joinAsync(c, "g", joinOpts{session: time.Hour}))
	wantCode(t, "long session", r.ErrorCode, kerr.InvalidSessionTimeout)
	r = await(t, joinAsync(c, "g", joinOpts{memberID: "ghost"}))
	wantCode(t, "unknown member, no group", r.ErrorCode, kerr.UnknownMemberID)
	r = await(t, joinAsync(c, "g", joinOpts{protocols: []kmsg.JoinGroupRequestProtocol{}}))
	wantCode(t, "no protocols", r.ErrorCode, kerr.InconsistentGroupProtocol)
	if d := describe(t, c, 0, "g")[0]; d.State != "Dead" {
		t.Fatalf("failed join left a group behind: %s", d.State)
	}

	s := formGroup(t, c, "g", 1, joinOpts{})
	r = await(t, joinAsync(c, "g", joinOpts{version: 3, ptype: "connect"}))
	wantCode(t, "other protocol type", r.ErrorCode, kerr.InconsistentGroupProtocol)
	r = await(t, joinAsync(c, "g", joinOpts{version: 3, protocols: []kmsg.JoinGroupRequestProtocol{{Name: "roundrobin"}}}))
	wantCode(t, "no common protocol", r.ErrorCode, kerr.InconsistentGroupProtocol)
	r = await(t, joinAsync(c, "g", joinOpts{memberID: "ghost"}))
	wantCode(t, "unknown member", r.ErrorCode, kerr.UnknownMemberID)
	wantCode(t, "still stable", heartbeat(c, "g", s.ids[0], s.gen, nil), nil)
}

func TestProtocolSelectionByVotes(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	p := func(names ...string) []kmsg.JoinGroupRequestProtocol {
		var ps []kmsg.JoinGroupRequestProtocol
		for _, n := range names {
			ps = append(ps, kmsg.JoinGroupRequestProtocol{Name: n, Metadata: []byte(n)})
		}
		return ps
	}
	// Two of three prefer cooperative-sticky; range is supported by all too.
	id1 := memberIDFor(t, c, "g", joinOpts{})
	id2 := memberIDFor(t, c, "g", joinOpts{})
	id3 := memberIDFor(t, c, "g", joinOpts{})
	j1 := joinAsync(c, "g", joinOpts{memberID: id1, protocols: p("range", "cooperative-sticky")})
	j2 := joinAsync(c, "g", joinOpts{memberID: id2, protocols: p("cooperative-sticky", "range")})
	j3 := joinAsync(c, "g", joinOpts{memberID: id3, protocols: p("cooperative-sticky", "range", "roundrobin")})
	for _, ch := range []<-chan *kmsg.JoinGroupResponse{j1, j2, j3} {
		r := await(t, ch)
		wantCode(t, "join", r.ErrorCode, nil)
		if *r.Protocol != "cooperative-sticky" {
			t.Fatalf("selected %q", *r.Protocol)
		}
		for _, m := range r.Members {
			if string(m.ProtocolMetadata) != "cooperative-sticky" {
				t.Fatalf("leader got metadata %q", m.ProtocolMetadata)
			}
		}
	}
}

func TestCompletingRebalanceSemantics(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	id1 := memberIDFor(t, c, "g", joinOpts{})
	id2 := memberIDFor(t, c, "g", joinOpts{})
	j1 := joinAsync(c, "g", joinOpts{memberID: id1})
	j2 := joinAsync(c, "g", joinOpts{memberID: id2})
	r1, r2 := await(t, j1), await(t, j2)
	leader, follower := r1, r2
	if r2.MemberID == r2.LeaderID {
		leader, follower = r2, r1
	}
	gen := r1.Generation
	// CompletingRebalance: heartbeats fine, commits refused, retried join answered at once.
	wantCode(t, "heartbeat", heartbeat(c, "g", follower.MemberID, gen, nil), nil)
	wantCode(t, "commit", commitOne(t, c, "g", follower.MemberID, gen, "t1", 0, 1), kerr.RebalanceInProgress)
	rr := await(t, joinAsync(c, "g", joinOpts{memberID: leader.MemberID}))
	if rr.Generation != gen || len(rr.Members) != 2 {
		t.Fatalf("retried leader join: gen %d members %d", rr.Generation, len(rr.Members))
	}
	// A follower waiting in SyncGroup is told to rejoin when the group rebalances.
	sf := syncAsync(c, "g", follower.MemberID, gen, nil)
	stillWaiting(t, sf, 10*time.Millisecond)
	wrong := await(t, syncAsync(c, "g", follower.MemberID, gen+1, nil))
	wantCode(t, "wrong generation sync", wrong.ErrorCode, kerr.IllegalGeneration)
	req := kmsg.NewPtrSyncGroupRequest()
	req.SetVersion(5)
	req.Group, req.MemberID, req.Generation, req.Protocol = "g", follower.MemberID, gen, strPtr("roundrobin")
	var code int16 = -1
	c.SyncGroup(req, func(r *kmsg.SyncGroupResponse) { code = r.ErrorCode })
	wantCode(t, "wrong protocol sync", code, kerr.InconsistentGroupProtocol)

	id3 := memberIDFor(t, c, "g", joinOpts{})
	j3 := joinAsync(c, "g", joinOpts{memberID: id3})
	wantCode(t, "pending sync", await(t, sf).ErrorCode, kerr.RebalanceInProgress)
	r := await(t, syncAsync(c, "g", leader.MemberID, gen, nil))
	wantCode(t, "sync while preparing", r.ErrorCode, kerr.RebalanceInProgress)
	j1 = joinAsync(c, "g", joinOpts{memberID: id1})
	j2 = joinAsync(c, "g", joinOpts{memberID: id2})
	finishRebalance(t, c, "g", []string{id1, id2, id3}, []<-chan *kmsg.JoinGroupResponse{j1, j2, j3})
}

func TestPendingMemberExpires(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	s := formGroup(t, c, "g", 1, joinOpts{})
	// A client that got MEMBER_ID_REQUIRED but never comes back does not hold
	// the rebalance beyond its session timeout.
	memberIDFor(t, c, "g", joinOpts{session: 100 * time.Millisecond})
	memberIDFor(t, c, "abandoned", joinOpts{session: 50 * time.Millisecond})
	if d := describe(t, c, 0, "abandoned")[0]; d.State != "Empty" {
		t.Fatalf("group with a pending member: %s", d.State)
	}
	id2 := memberIDFor(t, c, "g", joinOpts{})
	j2 := joinAsync(c, "g", joinOpts{memberID: id2})
	j1 := joinAsync(c, "g", joinOpts{memberID: s.ids[0]})
	stillWaiting(t, j1, 30*time.Millisecond)
	finishRebalance(t, c, "g", []string{s.ids[0], id2}, []<-chan *kmsg.JoinGroupResponse{j1, j2})
	if d := describe(t, c, 0, "abandoned")[0]; d.State != "Dead" {
		t.Fatalf("abandoned group still %s", d.State)
	}
}

func TestLeaderThatNeverSyncsIsRemoved(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	o := joinOpts{session: 150 * time.Millisecond}
	id1 := memberIDFor(t, c, "g", o)
	id2 := memberIDFor(t, c, "g", o)
	o1, o2 := o, o
	o1.memberID, o2.memberID = id1, id2
	j1, j2 := joinAsync(c, "g", o1), joinAsync(c, "g", o2)
	r1, r2 := await(t, j1), await(t, j2)
	follower := r2
	if r2.MemberID == r2.LeaderID {
		follower = r1
	}
	// The follower waits in SyncGroup; the leader vanishes. Its session
	// expires and the follower is told to rejoin.
	fs := syncAsync(c, "g", follower.MemberID, follower.Generation, nil)
	wantCode(t, "follower sync", await(t, fs).ErrorCode, kerr.RebalanceInProgress)
	of := o
	of.memberID = follower.MemberID
	r := await(t, joinAsync(c, "g", of))
	wantCode(t, "rejoin", r.ErrorCode, nil)
	if r.LeaderID != follower.MemberID || len(r.Members) != 1 || r.Generation != follower.Generation+1 {
		t.Fatalf("after leader loss: leader %s members %d gen %d", r.LeaderID, len(r.Members), r.Generation)
	}
}

func TestJoinV0GeneratesMemberID(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	r := await(t, joinAsync(c, "g", joinOpts{version: joinV0, clientID: "old"}))
	wantCode(t, "v0 join", r.ErrorCode, nil)
	if !strings.HasPrefix(r.MemberID, "old-") || r.LeaderID != r.MemberID || r.Generation != 1 {
		t.Fatalf("v0 join: %+v", r)
	}
}

func TestRequestBuffersAreNotRetained(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	meta := consumerMeta("t1")
	r := await(t, joinAsync(c, "g", joinOpts{version: 3, protocols: []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: meta}}}))
	assign := []byte("mine")
	req := kmsg.NewPtrSyncGroupRequest()
	req.Group, req.MemberID, req.Generation = "g", r.MemberID, r.Generation
	req.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: r.MemberID, MemberAssignment: assign}}
	ch := make(chan *kmsg.SyncGroupResponse, 1)
	c.SyncGroup(req, func(r *kmsg.SyncGroupResponse) { ch <- r })
	await(t, ch)
	// The broker reuses its read buffer for the next request.
	for i := range meta {
		meta[i] = 'X'
	}
	copy(assign, "XXXX")
	d := describe(t, c, 5, "g")[0]
	if string(d.Members[0].ProtocolMetadata) != string(consumerMeta("t1")) || string(d.Members[0].MemberAssignment) != "mine" {
		t.Fatalf("stored state aliases request buffers: %q %q", d.Members[0].ProtocolMetadata, d.Members[0].MemberAssignment)
	}
}
