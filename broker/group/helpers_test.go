package group

import (
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const waitLimit = 5 * time.Second

func newTestCoordinator(t *testing.T, store Store, mods ...func(*Config)) *Coordinator {
	t.Helper()
	cfg := Config{
		MinSessionTimeout: time.Millisecond,
		MaxSessionTimeout: time.Minute,
		Logger:            slog.New(slog.DiscardHandler),
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(t.Context(), cfg, store)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// await returns the next value of ch or fails the test.
func await[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("no response within %v", waitLimit)
		var zero T
		return zero
	}
}

// stillWaiting asserts that ch yields nothing for d.
func stillWaiting[T any](t *testing.T, ch <-chan T, d time.Duration) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected response: %+v", v)
	case <-time.After(d):
	}
}

func wantCode(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	var wantCode int16
	if want != nil {
		wantCode = want.Code
	}
	if got != wantCode {
		t.Fatalf("%s: error code %v, want %v", what, kerr.ErrorForCode(got), kerr.ErrorForCode(wantCode))
	}
}

// consumerMeta encodes consumer protocol subscription metadata.
func consumerMeta(topics ...string) []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Topics = topics
	return m.AppendTo(nil)
}

// joinV0 asks joinOpts for JoinGroup v0 (zero means the latest, v9).
const joinV0 = -1

// joinOpts describes one JoinGroup.
type joinOpts struct {
	version   int16
	memberID  string
	instance  *string
	session   time.Duration
	rebalance time.Duration
	ptype     string
	protocols []kmsg.JoinGroupRequestProtocol
	clientID  string
	host      string
}

func (o joinOpts) withDefaults() joinOpts {
	switch {
	case o.version == 0:
		o.version = 9
	case o.version == joinV0:
		o.version = 0
	}
	if o.session == 0 {
		o.session = 10 * time.Second
	}
	if o.rebalance == 0 {
		o.rebalance = 10 * time.Second
	}
	if o.ptype == "" {
		o.ptype = "consumer"
	}
	if o.protocols == nil {
		o.protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: consumerMeta("t1")}}
	}
	if o.clientID == "" {
		o.clientID = "client"
	}
	return o
}

func joinAsync(c *Coordinator, group string, o joinOpts) <-chan *kmsg.JoinGroupResponse {
	o = o.withDefaults()
	req := kmsg.NewPtrJoinGroupRequest()
	req.SetVersion(o.version)
	req.Group = group
	req.MemberID = o.memberID
	req.InstanceID = o.instance
	req.SessionTimeoutMillis = int32(o.session.Milliseconds())
	req.RebalanceTimeoutMillis = int32(o.rebalance.Milliseconds())
	req.ProtocolType = o.ptype
	req.Protocols = o.protocols
	ch := make(chan *kmsg.JoinGroupResponse, 1)
	c.JoinGroupWithClient(req, o.clientID, o.host, func(r *kmsg.JoinGroupResponse) { ch <- r })
	return ch
}

// memberIDFor performs the KIP-394 first join and returns the handed-out id.
func memberIDFor(t *testing.T, c *Coordinator, group string, o joinOpts) string {
	t.Helper()
	o.memberID = ""
	r := await(t, joinAsync(c, group, o))
	wantCode(t, "first join", r.ErrorCode, kerr.MemberIDRequired)
	if r.MemberID == "" {
		t.Fatal("MEMBER_ID_REQUIRED without a member id")
	}
	return r.MemberID
}

func heartbeat(c *Coordinator, group, id string, gen int32, instance *string) int16 {
	req := kmsg.NewPtrHeartbeatRequest()
	req.SetVersion(4)
	req.Group, req.MemberID, req.Generation, req.InstanceID = group, id, gen, instance
	var code int16 = -100
	c.Heartbeat(req, func(r *kmsg.HeartbeatResponse) { code = r.ErrorCode })
	return code
}

func syncAsync(c *Coordinator, group, id string, gen int32, assign map[string][]byte) <-chan *kmsg.SyncGroupResponse {
	req := kmsg.NewPtrSyncGroupRequest()
	req.SetVersion(5)
	req.Group, req.MemberID, req.Generation = group, id, gen
	for mid, a := range assign {
		req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: mid, MemberAssignment: a})
	}
	ch := make(chan *kmsg.SyncGroupResponse, 1)
	c.SyncGroup(req, func(r *kmsg.SyncGroupResponse) { ch <- r })
	return ch
}

// stable is a formed group as the test's clients see it.
type stable struct {
	ids    []string // join order
	leader string
	gen    int32
}

// formGroup makes n members join (KIP-394 style) and sync, and returns the
// stable generation. Member i is assigned "assign-<id>".
func formGroup(t *testing.T, c *Coordinator, group string, n int, o joinOpts) stable {
	t.Helper()
	var ids []string
	for range n {
		ids = append(ids, memberIDFor(t, c, group, o))
	}
	var chans []<-chan *kmsg.JoinGroupResponse
	for _, id := range ids {
		oo := o
		oo.memberID = id
		chans = append(chans, joinAsync(c, group, oo))
	}
	return finishRebalance(t, c, group, ids, chans)
}

// finishRebalance awaits the join responses of ids and syncs them.
func finishRebalance(t *testing.T, c *Coordinator, group string, ids []string, chans []<-chan *kmsg.JoinGroupResponse) stable {
	t.Helper()
	var s stable
	s.ids = ids
	var leaderResp *kmsg.JoinGroupResponse
	for i, ch := range chans {
		r := await(t, ch)
		wantCode(t, "join", r.ErrorCode, nil)
		if r.MemberID != ids[i] {
			t.Fatalf("join answered member %q, want %q", r.MemberID, ids[i])
		}
		if s.gen == 0 {
			s.gen, s.leader = r.Generation, r.LeaderID
		} else if r.Generation != s.gen || r.LeaderID != s.leader {
			t.Fatalf("members disagree: gen %d leader %s vs gen %d leader %s", r.Generation, r.LeaderID, s.gen, s.leader)
		}
		if r.MemberID == r.LeaderID {
			leaderResp = r
		} else if len(r.Members) != 0 {
			t.Fatalf("follower %s got the member list", r.MemberID)
		}
	}
	if leaderResp == nil {
		t.Fatalf("no member is the leader %q", s.leader)
	}
	if len(leaderResp.Members) != len(ids) {
		t.Fatalf("leader got %d members, want %d", len(leaderResp.Members), len(ids))
	}
	assign := map[string][]byte{}
	for _, m := range leaderResp.Members {
		assign[m.MemberID] = []byte("assign-" + m.MemberID)
	}
	var syncs []<-chan *kmsg.SyncGroupResponse
	for _, id := range ids {
		if id != s.leader {
			syncs = append(syncs, syncAsync(c, group, id, s.gen, nil))
		}
	}
	for _, ch := range syncs {
		stillWaiting(t, ch, 10*time.Millisecond)
	}
	syncs = append(syncs, syncAsync(c, group, s.leader, s.gen, assign))
	for _, ch := range syncs {
		r := await(t, ch)
		wantCode(t, "sync", r.ErrorCode, nil)
		if len(r.MemberAssignment) < len("assign-") {
			t.Fatalf("sync assignment %q", r.MemberAssignment)
		}
	}
	return s
}
