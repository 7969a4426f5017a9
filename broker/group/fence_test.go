package group

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Two coordinators race on one group: the old owner's view is stale (it
// still thinks it alone coordinates), the new owner takes the group over.
// The takeover's claim fences the old owner: its commit fails with
// NOT_COORDINATOR, it drops the group, and the store keeps the new owner's
// offset.
func TestClaimFencesStaleOwner(t *testing.T) {
	store := newMemStore()
	a := newTestCoordinator(t, store)
	b := newTestCoordinator(t, store)
	both := nodes(1, 2)
	g := groupOwnedBy(t, 2, both)
	a.Place(1, nodes(1), nil)
	wantCode(t, "first owner commit", await(t, commitSimple(a, g, 1)).Topics[0].Partitions[0].ErrorCode, nil)
	if o, ok := store.owner(g); !ok || o.ID != 1 {
		t.Fatalf("owner after first commit = %+v, %v; want node 1", o, ok)
	}

	b.Place(2, both, nil) // b sees both nodes and gains g; a has not heard of b yet
	if p := fetchedOffset(t, fetchV7(t, b, 7, g, map[string][]int32{"t": {0}}), "t", 0); p.Offset != 1 {
		t.Fatalf("new owner fetched %d, want 1", p.Offset)
	}
	if o, _ := store.owner(g); o.ID != 2 {
		t.Fatalf("owner after takeover = %+v, want node 2", o)
	}
	wantCode(t, "new owner commit", await(t, commitSimple(b, g, 3)).Topics[0].Partitions[0].ErrorCode, nil)
	wantCode(t, "stale owner commit", await(t, commitSimple(a, g, 2)).Topics[0].Partitions[0].ErrorCode, kerr.NotCoordinator)
	if o, _ := store.offset(OffsetKey{g, "t", 0}); o.Offset != 3 {
		t.Fatalf("store holds %d, want the new owner's 3", o.Offset)
	}
	if got := a.OwnedGroups(); len(got) != 0 {
		t.Fatalf("fenced owner still holds %v", got)
	}
	// The stale owner learns of b and refuses the group outright.
	a.Place(1, both, nil)
	wantCode(t, "commit after learning", await(t, commitSimple(a, g, 4)).Topics[0].Partitions[0].ErrorCode, kerr.NotCoordinator)
	if o, _ := store.offset(OffsetKey{g, "t", 0}); o.Offset != 3 {
		t.Fatalf("store holds %d, want 3", o.Offset)
	}
}

// A group loaded before the first Place is claimed on its first write; when
// another node claimed it meanwhile, that write fails retriably and the group
// is read afresh.
func TestGroupsLoadedBeforePlaceAreClaimed(t *testing.T) {
	store := newMemStore()
	seed := newTestCoordinator(t, store)
	wantCode(t, "seed commit mine", await(t, commitSimple(seed, "mine", 1)).Topics[0].Partitions[0].ErrorCode, nil)
	wantCode(t, "seed commit theirs", await(t, commitSimple(seed, "theirs", 1)).Topics[0].Partitions[0].ErrorCode, nil)

	a := newTestCoordinator(t, store) // loads both groups, unclaimed
	// Node 2 coordinated "theirs" (and wrote offset 7) before a was placed.
	rev, _, _ := store.ClaimGroup(t.Context(), "theirs", Node{ID: 2, Incarnation: 1})
	if err := store.CommitOffsets(t.Context(), "theirs", rev, map[OffsetKey]Offset{{"theirs", "t", 0}: {Offset: 7}}); err != nil {
		t.Fatal(err)
	}
	a.Place(1, nodes(1), nil)

	wantCode(t, "commit unclaimed group", await(t, commitSimple(a, "mine", 2)).Topics[0].Partitions[0].ErrorCode, nil)
	if o, _ := store.owner("mine"); o.ID != 1 {
		t.Fatalf("owner of mine = %+v, want node 1", o)
	}
	wantCode(t, "commit group claimed elsewhere", await(t, commitSimple(a, "theirs", 2)).Topics[0].Partitions[0].ErrorCode, kerr.NotCoordinator)
	if p := fetchedOffset(t, fetchV7(t, a, 7, "theirs", map[string][]int32{"t": {0}}), "t", 0); p.Offset != 7 {
		t.Fatalf("after the refused write: offset %d, want node 2's 7 read afresh", p.Offset)
	}
	wantCode(t, "retried commit", await(t, commitSimple(a, "theirs", 8)).Topics[0].Partitions[0].ErrorCode, nil)
	if o, _ := store.offset(OffsetKey{"theirs", "t", 0}); o.Offset != 8 {
		t.Fatalf("store holds %d, want 8", o.Offset)
	}
}
