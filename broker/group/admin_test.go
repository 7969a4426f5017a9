package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func listGroups(t *testing.T, c *Coordinator, version int16, states, types []string) map[string]kmsg.ListGroupsResponseGroup {
	t.Helper()
	req := kmsg.NewPtrListGroupsRequest()
	req.SetVersion(version)
	req.StatesFilter, req.TypesFilter = states, types
	ch := make(chan *kmsg.ListGroupsResponse, 1)
	c.ListGroups(req, func(r *kmsg.ListGroupsResponse) { ch <- r })
	r := await(t, ch)
	wantCode(t, "list", r.ErrorCode, nil)
	out := map[string]kmsg.ListGroupsResponseGroup{}
	for _, g := range r.Groups {
		out[g.Group] = g
	}
	return out
}

func deleteGroups(t *testing.T, c *Coordinator, groups ...string) map[string]int16 {
	t.Helper()
	req := kmsg.NewPtrDeleteGroupsRequest()
	req.SetVersion(2)
	req.Groups = groups
	ch := make(chan *kmsg.DeleteGroupsResponse, 1)
	c.DeleteGroups(req, func(r *kmsg.DeleteGroupsResponse) { ch <- r })
	r := await(t, ch)
	out := map[string]int16{}
	for _, g := range r.Groups {
		out[g.Group] = g.ErrorCode
	}
	return out
}

func TestDescribeAndListGroups(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	commitOne(t, c, "simple", "", -1, "t", 0, 1)
	s := formGroup(t, c, "live", 1, joinOpts{})
	// "joining" is stuck in PreparingRebalance behind a pending member.
	idp := memberIDFor(t, c, "joining", joinOpts{})
	memberIDFor(t, c, "joining", joinOpts{})
	stillWaiting(t, joinAsync(c, "joining", joinOpts{memberID: idp}), 5*time.Millisecond)

	d := describe(t, c, 5, "live", "simple", "joining", "missing")
	if d[0].State != "Stable" || len(d[0].Members) != 1 || d[0].Members[0].MemberID != s.ids[0] || d[0].ErrorCode != 0 {
		t.Fatalf("live: %+v", d[0])
	}
	if d[1].State != "Empty" || d[1].ProtocolType != "" || len(d[1].Members) != 0 {
		t.Fatalf("simple: %+v", d[1])
	}
	if d[2].State != "PreparingRebalance" || d[2].Protocol != "" || len(d[2].Members) != 1 || d[2].Members[0].ProtocolMetadata != nil {
		t.Fatalf("joining: %+v", d[2])
	}
	if d[3].State != "Dead" || d[3].ErrorCode != 0 {
		t.Fatalf("missing (v5): %+v", d[3])
	}
	if d := describe(t, c, 6, "missing")[0]; d.State != "Dead" || d.ErrorCode != kerr.GroupIDNotFound.Code || d.ErrorMessage == nil {
		t.Fatalf("missing (v6): %+v", d)
	}

	all := listGroups(t, c, 5, nil, nil)
	if len(all) != 3 || all["live"].GroupState != "Stable" || all["live"].ProtocolType != "consumer" || all["live"].GroupType != "classic" {
		t.Fatalf("list all: %+v", all)
	}
	if got := listGroups(t, c, 4, []string{"stable", "Empty"}, nil); len(got) != 2 || got["live"].Group == "" || got["simple"].Group == "" {
		t.Fatalf("list stable+empty: %+v", got)
	}
	if got := listGroups(t, c, 4, []string{"PreparingRebalance"}, nil); len(got) != 1 || got["joining"].Group == "" {
		t.Fatalf("list preparing: %+v", got)
	}
	if got := listGroups(t, c, 5, nil, []string{"Consumer"}); len(got) != 0 {
		t.Fatalf("list consumer type: %+v", got)
	}
	if got := listGroups(t, c, 5, nil, []string{"Classic"}); len(got) != 3 {
		t.Fatalf("list classic type: %+v", got)
	}
	if got := listGroups(t, c, 3, []string{"Dead"}, nil); len(got) != 3 {
		t.Fatalf("v3 ignores the states filter: %+v", got)
	}
}

func TestDeleteGroups(t *testing.T) {
	store := newMemStore()
	c := newTestCoordinator(t, store)
	commitOne(t, c, "simple", "", -1, "t", 0, 1)
	formGroup(t, c, "live", 1, joinOpts{})
	// A group that went Empty after its only member left.
	s := formGroup(t, c, "left", 1, joinOpts{})
	leave(t, c, 1, "left", kmsg.LeaveGroupRequestMember{MemberID: s.ids[0]})
	commitOne(t, c, "left", "", -1, "t", 1, 1)
	mustGroupState(t, store, "left")

	codes := deleteGroups(t, c, "simple", "live", "missing", "left")
	wantCode(t, "simple", codes["simple"], nil)
	wantCode(t, "live", codes["live"], kerr.NonEmptyGroup)
	wantCode(t, "missing", codes["missing"], kerr.GroupIDNotFound)
	wantCode(t, "left", codes["left"], nil)
	if _, ok := store.offset(OffsetKey{"simple", "t", 0}); ok {
		t.Fatal("offsets of deleted group still stored")
	}
	if store.hasGroup("left") {
		t.Fatal("state of deleted group still stored")
	}
	if got := c.CommittedOffsets(); len(got) != 0 {
		t.Fatalf("offsets remain: %v", got)
	}
	f := fetchV7(t, c, 7, "simple", map[string][]int32{"t": {0}})
	if fetchedOffset(t, f, "t", 0).Offset != -1 {
		t.Fatal("deleted group's offset still fetchable")
	}
	if d := describe(t, c, 5, "simple")[0]; d.State != "Dead" {
		t.Fatalf("deleted group state %s", d.State)
	}
	wantCode(t, "delete again", deleteGroups(t, c, "simple")["simple"], kerr.GroupIDNotFound)
	// The name can be used again.
	wantCode(t, "reuse", commitOne(t, c, "simple", "", -1, "t", 0, 9), nil)
	if o, ok := store.offset(OffsetKey{"simple", "t", 0}); !ok || o.Offset != 9 {
		t.Fatalf("reused group offset %+v %v", o, ok)
	}
}
