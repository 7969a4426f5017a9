package group

import (
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestRestartKeepsGroupAndOffsets(t *testing.T) {
	store := newMemStore()
	c1 := newTestCoordinator(t, store)
	o := joinOpts{session: 300 * time.Millisecond, clientID: "app", host: "/h", instance: nil}
	s := formGroup(t, c1, "g", 2, o)
	wantCode(t, "commit", commitOne(t, c1, "g", s.ids[0], s.gen, "t", 0, 77), nil)
	commitOne(t, c1, "simple", "", -1, "t", 1, 5)
	c1.Close()
	wantCode(t, "after close", heartbeat(c1, "g", s.ids[0], s.gen, nil), kerr.CoordinatorNotAvailable)

	c2 := newTestCoordinator(t, store)
	d := describe(t, c2, 5, "g", "simple")
	if d[0].State != "Stable" || len(d[0].Members) != 2 || d[0].Protocol != "range" {
		t.Fatalf("restored group: %+v", d[0])
	}
	for _, m := range d[0].Members {
		if string(m.MemberAssignment) != "assign-"+m.MemberID || m.ClientID != "app" || m.ClientHost != "/h" {
			t.Fatalf("restored member %+v", m)
		}
	}
	if d[1].State != "Empty" {
		t.Fatalf("offsets-only group restored as %s", d[1].State)
	}
	got := c2.CommittedOffsets()
	if got[OffsetKey{"g", "t", 0}].Offset != 77 || got[OffsetKey{"simple", "t", 1}].Offset != 5 {
		t.Fatalf("restored offsets %v", got)
	}
	// The members carry on with the same generation.
	sr := await(t, syncAsync(c2, "g", s.ids[1], s.gen, nil))
	if string(sr.MemberAssignment) != "assign-"+s.ids[1] {
		t.Fatalf("assignment after restart %q", sr.MemberAssignment)
	}
	// Only the first keeps heartbeating: the second expires and the first is told to rejoin.
	deadline := time.Now().Add(waitLimit)
	for {
		code := heartbeat(c2, "g", s.ids[0], s.gen, nil)
		if code == kerr.RebalanceInProgress.Code {
			break
		}
		wantCode(t, "heartbeat", code, nil)
		if time.Now().After(deadline) {
			t.Fatal("restored member never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	oo := o
	oo.memberID = s.ids[0]
	r := await(t, joinAsync(c2, "g", oo))
	if r.Generation != s.gen+1 || len(r.Members) != 1 {
		t.Fatalf("after restart rebalance: gen %d members %d", r.Generation, len(r.Members))
	}
}

func TestRestartKeepsStaticMembers(t *testing.T) {
	store := newMemStore()
	c1 := newTestCoordinator(t, store)
	s := formStatic(t, c1)
	c1.Close()
	c2 := newTestCoordinator(t, store)
	r := await(t, joinAsync(c2, "g", joinOpts{instance: strPtr("b")}))
	wantCode(t, "static rejoin after restart", r.ErrorCode, nil)
	if r.Generation != s.gen {
		t.Fatalf("generation %d, want %d", r.Generation, s.gen)
	}
	sr := await(t, syncAsync(c2, "g", r.MemberID, s.gen, nil))
	if string(sr.MemberAssignment) != "assign-"+s.ids[1] {
		t.Fatalf("assignment %q", sr.MemberAssignment)
	}
	wantCode(t, "old id fenced", heartbeat(c2, "g", s.ids[1], s.gen, strPtr("b")), kerr.FencedInstanceID)
}

func TestCloseAnswersWaitingRequests(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	s := formGroup(t, c, "g", 1, joinOpts{})
	id := memberIDFor(t, c, "g", joinOpts{})
	j := joinAsync(c, "g", joinOpts{memberID: id})
	stillWaiting(t, j, 10*time.Millisecond)
	c.Close()
	wantCode(t, "waiting join", await(t, j).ErrorCode, kerr.NotCoordinator)
	wantCode(t, "join after close", await(t, joinAsync(c, "g", joinOpts{memberID: s.ids[0]})).ErrorCode, kerr.CoordinatorNotAvailable)
	wantCode(t, "commit after close", commitOne(t, c, "g", "", -1, "t", 0, 1), kerr.CoordinatorNotAvailable)
	c.Close() // idempotent
}

func TestNewFailsOnBadState(t *testing.T) {
	store := newMemStore()
	store.groups["g"] = []byte("{not json")
	if _, err := New(t.Context(), Config{}, store); err == nil {
		t.Fatal("New accepted a corrupt group state")
	}
}

// TestConcurrentClients drives several groups from many goroutines at once;
// run with -race. Every request must be answered and the groups must settle.
func TestConcurrentClients(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for gi := range 3 {
		group := []string{"ga", "gb", "gc"}[gi]
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if msg := runConsumer(c, group, 40); msg != "" {
					errs <- msg
				}
			}()
		}
	}
	// Admin traffic meanwhile.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 50 {
			req := kmsg.NewPtrDescribeGroupsRequest()
			req.Groups = []string{"ga", "gb", "gc"}
			c.DescribeGroups(req, func(*kmsg.DescribeGroupsResponse) {})
			c.ListGroups(kmsg.NewPtrListGroupsRequest(), func(*kmsg.ListGroupsResponse) {})
			_ = c.CommittedOffsets()
			time.Sleep(time.Millisecond)
		}
	}()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// runConsumer is a minimal consumer loop: join, sync, then heartbeat and
// commit, rejoining whenever told to, for n iterations; then it leaves.
func runConsumer(c *Coordinator, group string, n int) string {
	wait := func(ch <-chan *kmsg.JoinGroupResponse) *kmsg.JoinGroupResponse {
		select {
		case r := <-ch:
			return r
		case <-time.After(waitLimit):
			return nil
		}
	}
	o := joinOpts{rebalance: 2 * time.Second}
	var id string
	var gen int32
	joined := false
	for i := 0; i < n; i++ {
		if !joined {
			oo := o
			oo.memberID = id
			r := wait(joinAsync(c, group, oo))
			if r == nil {
				return "join never answered"
			}
			switch r.ErrorCode {
			case kerr.MemberIDRequired.Code:
				id = r.MemberID
				continue
			case kerr.RebalanceInProgress.Code, kerr.UnknownMemberID.Code:
				if r.ErrorCode == kerr.UnknownMemberID.Code {
					id = ""
				}
				continue
			case 0:
			default:
				return "join: " + kerr.ErrorForCode(r.ErrorCode).Error()
			}
			gen = r.Generation
			assign := map[string][]byte{}
			for _, m := range r.Members {
				assign[m.MemberID] = []byte("x")
			}
			var sr *kmsg.SyncGroupResponse
			select {
			case sr = <-syncAsync(c, group, id, gen, assign):
			case <-time.After(waitLimit):
				return "sync never answered"
			}
			if sr.ErrorCode == 0 {
				joined = true
			}
			continue
		}
		switch code := heartbeat(c, group, id, gen, nil); code {
		case 0:
		case kerr.RebalanceInProgress.Code, kerr.IllegalGeneration.Code:
			joined = false
			continue
		case kerr.UnknownMemberID.Code:
			joined, id = false, ""
			continue
		default:
			return "heartbeat: " + kerr.ErrorForCode(code).Error()
		}
		req := kmsg.NewPtrOffsetCommitRequest()
		req.SetVersion(8)
		req.Group, req.MemberID, req.Generation = group, id, gen
		req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: int64(i)}}}}
		done := make(chan struct{})
		c.OffsetCommit(req, func(*kmsg.OffsetCommitResponse) { close(done) })
		select {
		case <-done:
		case <-time.After(waitLimit):
			return "commit never answered"
		}
	}
	if id != "" {
		req := kmsg.NewPtrLeaveGroupRequest()
		req.SetVersion(0)
		req.Group, req.MemberID = group, id
		c.LeaveGroup(req, func(*kmsg.LeaveGroupResponse) {})
	}
	return ""
}
