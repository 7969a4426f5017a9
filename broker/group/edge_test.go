package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestLeaveWhileWaitingInJoin(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	s := formGroup(t, c, "g", 2, joinOpts{})
	id3 := memberIDFor(t, c, "g", joinOpts{})
	j3 := joinAsync(c, "g", joinOpts{memberID: id3})
	j1 := joinAsync(c, "g", joinOpts{memberID: s.ids[0]})
	// The third member gives up while waiting and leaves.
	lr := leave(t, c, 3, "g", kmsg.LeaveGroupRequestMember{MemberID: id3})
	wantCode(t, "leave", lr.Members[0].ErrorCode, nil)
	wantCode(t, "abandoned join", await(t, j3).ErrorCode, kerr.UnknownMemberID)
	j2 := joinAsync(c, "g", joinOpts{memberID: s.ids[1]})
	finishRebalance(t, c, "g", s.ids, []<-chan *kmsg.JoinGroupResponse{j1, j2})
}

func TestDuplicateJoinSupersedesOlder(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	s := formGroup(t, c, "g", 2, joinOpts{})
	first := joinAsync(c, "g", joinOpts{memberID: s.ids[0]}) // leader rejoin: rebalance
	second := joinAsync(c, "g", joinOpts{memberID: s.ids[0]})
	wantCode(t, "superseded join", await(t, first).ErrorCode, kerr.RebalanceInProgress)
	j2 := joinAsync(c, "g", joinOpts{memberID: s.ids[1]})
	s2 := finishRebalance(t, c, "g", s.ids, []<-chan *kmsg.JoinGroupResponse{second, j2})
	if s2.gen != s.gen+1 {
		t.Fatalf("generation %d", s2.gen)
	}
}

func TestFollowerMetadataChangeDuringCompletingRebalance(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	id1 := memberIDFor(t, c, "g", joinOpts{})
	id2 := memberIDFor(t, c, "g", joinOpts{})
	j1, j2 := joinAsync(c, "g", joinOpts{memberID: id1}), joinAsync(c, "g", joinOpts{memberID: id2})
	r1, r2 := await(t, j1), await(t, j2)
	if r1.Generation != 1 || r2.Generation != 1 {
		t.Fatalf("generations %d %d", r1.Generation, r2.Generation)
	}
	// Before the leader syncs, member 2 changes its subscription.
	o := joinOpts{memberID: id2, protocols: []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: consumerMeta("t1", "t9")}}}
	j2 = joinAsync(c, "g", o)
	wantCode(t, "leader sync", await(t, syncAsync(c, "g", id1, 1, nil)).ErrorCode, kerr.RebalanceInProgress)
	j1 = joinAsync(c, "g", joinOpts{memberID: id1})
	s := finishRebalance(t, c, "g", []string{id1, id2}, []<-chan *kmsg.JoinGroupResponse{j1, j2})
	if s.gen != 2 {
		t.Fatalf("generation %d", s.gen)
	}
	d := describe(t, c, 5, "g")[0]
	for _, m := range d.Members {
		if m.MemberID == id2 && string(m.ProtocolMetadata) != string(consumerMeta("t1", "t9")) {
			t.Fatal("new subscription not recorded")
		}
	}
}

func TestStaticMemberNotRejoiningIsKeptUntilSessionExpires(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	a := await(t, joinAsync(c, "g", joinOpts{instance: strPtr("a"), rebalance: 100 * time.Millisecond, session: 400 * time.Millisecond}))
	wantCode(t, "sync", await(t, syncAsync(c, "g", a.MemberID, a.Generation, nil)).ErrorCode, nil)
	// "b" joins; "a" (static) never rejoins: after the rebalance timeout the
	// generation forms with "a" still in it (as Kafka keeps static members).
	rb := await(t, joinAsync(c, "g", joinOpts{instance: strPtr("b"), rebalance: 100 * time.Millisecond, session: 5 * time.Second}))
	wantCode(t, "b join", rb.ErrorCode, nil)
	if rb.LeaderID != rb.MemberID || len(rb.Members) != 2 {
		t.Fatalf("b: leader %s members %d", rb.LeaderID, len(rb.Members))
	}
	// Then "a"'s session expires and "b" is alone in the next generation.
	sb := await(t, syncAsync(c, "g", rb.MemberID, rb.Generation, nil))
	wantCode(t, "b sync", sb.ErrorCode, nil)
	deadline := time.Now().Add(waitLimit)
	for heartbeat(c, "g", rb.MemberID, rb.Generation, strPtr("b")) != kerr.RebalanceInProgress.Code {
		if time.Now().After(deadline) {
			t.Fatal("static member never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := await(t, joinAsync(c, "g", joinOpts{memberID: rb.MemberID, instance: strPtr("b")}))
	if len(r.Members) != 1 || r.Generation != rb.Generation+1 {
		t.Fatalf("after expiry: members %d gen %d", len(r.Members), r.Generation)
	}
}

func TestJoinGroupWithoutClientInfo(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	req := kmsg.NewPtrJoinGroupRequest()
	req.SetVersion(3)
	req.Group, req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = "g", 10000, 10000
	req.ProtocolType = "consumer"
	req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: consumerMeta("t")}}
	ch := make(chan *kmsg.JoinGroupResponse, 1)
	c.JoinGroup(req, func(r *kmsg.JoinGroupResponse) { ch <- r })
	r := await(t, ch)
	wantCode(t, "join", r.ErrorCode, nil)
	if len(r.MemberID) < 2 || r.MemberID[0] != '-' {
		t.Fatalf("member id %q: want an empty client id prefix", r.MemberID)
	}
}

func TestDefaultConfigIsKafkas(t *testing.T) {
	cfg := DefaultConfig()
	if cfg.MinSessionTimeout != 6*time.Second || cfg.MaxSessionTimeout != 30*time.Minute ||
		cfg.InitialRebalanceDelay != 3*time.Second || cfg.MaxMetadataBytes != 4096 {
		t.Fatalf("%+v", cfg)
	}
	d := Config{}.withDefaults()
	if d.InitialRebalanceDelay != 0 || d.MinSessionTimeout != 6*time.Second || d.TopicPartitionExists == nil || d.Logger == nil {
		t.Fatalf("zero config defaults: %+v", d)
	}
}
