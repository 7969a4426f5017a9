package group

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func nodes(ids ...int32) []Node {
	out := make([]Node, len(ids))
	for i, id := range ids {
		out[i] = Node{ID: id, Incarnation: 1}
	}
	return out
}

func TestOwnerSpreadsAndMovesOnlyWhatItMust(t *testing.T) {
	const n = 3000
	three, two, four := nodes(1, 2, 3), nodes(1, 2), nodes(1, 2, 3, 4)
	count := map[int32]int{}
	for i := range n {
		g := fmt.Sprintf("group-%d", i)
		o3 := Owner(g, three)
		count[o3]++
		if o2 := Owner(g, two); o3 != 3 && o2 != o3 {
			t.Fatalf("%s moved from %d to %d when node 3 left", g, o3, o2)
		}
		if o4 := Owner(g, four); o4 != 4 && o4 != o3 {
			t.Fatalf("%s moved from %d to %d when node 4 joined", g, o3, o4)
		}
	}
	for id := int32(1); id <= 3; id++ {
		if c := count[id]; c < n/4 || c > n/2 {
			t.Errorf("node %d owns %d of %d groups: not spread", id, c, n)
		}
	}
	if Owner("g", nil) != -1 {
		t.Fatal("owner among no nodes")
	}
}

// groupOwnedBy returns a group id that Owner gives to want among ns.
func groupOwnedBy(t *testing.T, want int32, ns []Node) string {
	for i := range 1000 {
		if g := fmt.Sprintf("g%d", i); Owner(g, ns) == want {
			return g
		}
	}
	t.Fatalf("no group owned by %d", want)
	return ""
}

func commitSimple(c *Coordinator, group string, offset int64) <-chan *kmsg.OffsetCommitResponse {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.SetVersion(8)
	req.Group, req.Generation = group, -1
	req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: offset}}}}
	ch := make(chan *kmsg.OffsetCommitResponse, 1)
	c.OffsetCommit(req, func(r *kmsg.OffsetCommitResponse) { ch <- r })
	return ch
}

func TestFailoverMovesGroupWithMembersAndOffsets(t *testing.T) {
	store := newMemStore()
	a := newTestCoordinator(t, store)
	b := newTestCoordinator(t, store)
	both := nodes(1, 2)
	a.Place(1, both, nil)
	b.Place(2, both, nil)
	g := groupOwnedBy(t, 1, both)

	s := formGroup(t, a, g, 2, joinOpts{session: time.Minute})
	req := kmsg.NewPtrOffsetCommitRequest()
	req.SetVersion(8)
	req.Group, req.Generation, req.MemberID = g, s.gen, s.ids[0]
	req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 42}}}}
	ch := make(chan *kmsg.OffsetCommitResponse, 1)
	a.OffsetCommit(req, func(r *kmsg.OffsetCommitResponse) { ch <- r })
	wantCode(t, "commit", await(t, ch).Topics[0].Partitions[0].ErrorCode, nil)

	// The non-owner refuses the group.
	wantCode(t, "heartbeat on non-owner", heartbeat(b, g, s.ids[0], s.gen, nil), kerr.NotCoordinator)
	wantCode(t, "fetch on non-owner", fetchV7(t, b, 7, g, map[string][]int32{"t": {0}}).ErrorCode, kerr.NotCoordinator)
	lg := make(chan *kmsg.ListGroupsResponse, 1)
	b.ListGroups(kmsg.NewPtrListGroupsRequest(), func(r *kmsg.ListGroupsResponse) { lg <- r })
	if r := await(t, lg); len(r.Groups) != 0 {
		t.Fatalf("non-owner lists %d groups", len(r.Groups))
	}

	// Node 1 is gone: node 2 takes the group over from the store.
	only2 := nodes(2)
	b.Place(2, only2, nil)
	a.Place(1, only2, nil)
	wantCode(t, "heartbeat on new owner", heartbeat(b, g, s.ids[0], s.gen, nil), nil)
	if p := fetchedOffset(t, fetchV7(t, b, 7, g, map[string][]int32{"t": {0}}), "t", 0); p.Offset != 42 {
		t.Fatalf("new owner fetched offset %d, want 42", p.Offset)
	}
	wantCode(t, "heartbeat on old owner", heartbeat(a, g, s.ids[0], s.gen, nil), kerr.NotCoordinator)
	if got := a.OwnedGroups(); len(got) != 0 {
		t.Fatalf("old owner still holds %v", got)
	}

	// Node 1 returns: it reloads what node 2 committed meanwhile.
	ch2 := make(chan *kmsg.OffsetCommitResponse, 1)
	req.Topics[0].Partitions[0].Offset = 50
	b.OffsetCommit(req, func(r *kmsg.OffsetCommitResponse) { ch2 <- r })
	wantCode(t, "commit on new owner", await(t, ch2).Topics[0].Partitions[0].ErrorCode, nil)
	back := []Node{{ID: 1, Incarnation: 2}, {ID: 2, Incarnation: 1}}
	a.Place(1, back, nil)
	b.Place(2, back, nil)
	if p := fetchedOffset(t, fetchV7(t, a, 7, g, map[string][]int32{"t": {0}}), "t", 0); p.Offset != 50 {
		t.Fatalf("returning owner fetched offset %d, want 50", p.Offset)
	}
}

func TestLostOwnerCannotOverwrite(t *testing.T) {
	store := newMemStore()
	a := newTestCoordinator(t, store)
	a.Place(1, nodes(1), nil)
	store.setDelay(100 * time.Millisecond)
	g := groupOwnedBy(t, 2, nodes(1, 2))
	first := commitSimple(a, g, 1)
	second := commitSimple(a, g, 2) // queued behind the first write
	time.Sleep(20 * time.Millisecond)
	a.Place(1, nodes(1, 2), nil) // node 2 arrives and owns g
	wantCode(t, "in-flight commit", await(t, first).Topics[0].Partitions[0].ErrorCode, nil)
	wantCode(t, "queued commit after losing the group", await(t, second).Topics[0].Partitions[0].ErrorCode, kerr.NotCoordinator)
	if o, _ := store.offset(OffsetKey{g, "t", 0}); o.Offset != 1 {
		t.Fatalf("store holds %d, want 1: a refused write landed", o.Offset)
	}
	wantCode(t, "commit after losing the group", await(t, commitSimple(a, g, 3)).Topics[0].Partitions[0].ErrorCode, kerr.NotCoordinator)
}

func TestFenceRefusesGroups(t *testing.T) {
	store := newMemStore()
	a := newTestCoordinator(t, store)
	var fenced atomic.Bool
	a.Place(1, nodes(1), func() bool { return !fenced.Load() })
	wantCode(t, "commit", await(t, commitSimple(a, "g", 1)).Topics[0].Partitions[0].ErrorCode, nil)
	fenced.Store(true)
	wantCode(t, "commit while fenced", await(t, commitSimple(a, "g", 2)).Topics[0].Partitions[0].ErrorCode, kerr.NotCoordinator)
	fenced.Store(false)
	if p := fetchedOffset(t, fetchV7(t, a, 7, "g", map[string][]int32{"t": {0}}), "t", 0); p.Offset != 1 {
		t.Fatalf("after the fence: offset %d, want 1", p.Offset)
	}
}
