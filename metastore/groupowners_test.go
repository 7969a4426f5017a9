package metastore

import (
	"errors"
	"testing"
)

// Two coordinators race on one group: once the second claims it, every write
// fenced by the first claim fails and what the second wrote stays.
func TestGroupClaimFencesOldOwner(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	ctx := testCtx(t)
	const g = "race/group"
	key := map[OffsetKey]Offset{{Topic: "t", Partition: 0}: {Offset: 5}}

	revA, prev, err := s.ClaimGroup(ctx, g, GroupOwner{NodeID: 1, Incarnation: 10})
	if err != nil || prev != nil {
		t.Fatalf("first claim = %d, %v, %v; want no previous owner", revA, prev, err)
	}
	if err := s.CommitOffsetsOwned(ctx, g, revA, key); err != nil {
		t.Fatalf("owner commit: %v", err)
	}
	if err := s.SaveGroupOwned(ctx, g, revA, []byte("state-a")); err != nil {
		t.Fatalf("owner save: %v", err)
	}

	revB, prev, err := s.ClaimGroup(ctx, g, GroupOwner{NodeID: 2, Incarnation: 20})
	if err != nil || prev == nil || *prev != (GroupOwner{NodeID: 1, Incarnation: 10}) || revB <= revA {
		t.Fatalf("second claim = %d, %+v, %v; want owner 1/10 before and a newer revision than %d", revB, prev, err, revA)
	}
	if o, rev, err := s.GroupOwnerOf(ctx, g); err != nil || o.NodeID != 2 || rev != revB {
		t.Fatalf("GroupOwnerOf = %+v, %d, %v; want node 2 at %d", o, rev, err, revB)
	}
	if err := s.CommitOffsetsOwned(ctx, g, revB, map[OffsetKey]Offset{{Topic: "t", Partition: 0}: {Offset: 9}}); err != nil {
		t.Fatalf("new owner commit: %v", err)
	}

	// The old owner's writes all fail and change nothing.
	if err := s.CommitOffsetsOwned(ctx, g, revA, map[OffsetKey]Offset{{Topic: "t", Partition: 0}: {Offset: 6}}); !errors.Is(err, ErrFenced) {
		t.Fatalf("old owner commit = %v, want ErrFenced", err)
	}
	if err := s.SaveGroupOwned(ctx, g, revA, []byte("state-a2")); !errors.Is(err, ErrFenced) {
		t.Fatalf("old owner save = %v, want ErrFenced", err)
	}
	if err := s.DeleteOffsetsOwned(ctx, g, revA, []OffsetKey{{Topic: "t", Partition: 0}}); !errors.Is(err, ErrFenced) {
		t.Fatalf("old owner offset delete = %v, want ErrFenced", err)
	}
	if err := s.DeleteGroupOwned(ctx, g, revA); !errors.Is(err, ErrFenced) {
		t.Fatalf("old owner group delete = %v, want ErrFenced", err)
	}
	state, offs, err := s.LoadGroup(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	if string(state) != "state-a" {
		t.Fatalf("state %q, want the one saved before the claim", state)
	}
	if o := offs[OffsetKey{Group: g, Topic: "t", Partition: 0}]; len(offs) != 1 || o.Offset != 9 {
		t.Fatalf("offsets %+v, want only the new owner's 9", offs)
	}

	// The new owner can still delete, and its claim survives the delete.
	if err := s.DeleteGroupOwned(ctx, g, revB); err != nil {
		t.Fatalf("new owner delete: %v", err)
	}
	if state, offs, err := s.LoadGroup(ctx, g); err != nil || state != nil || len(offs) != 0 {
		t.Fatalf("after delete LoadGroup = %q, %v, %v", state, offs, err)
	}
	if err := s.SaveGroupOwned(ctx, g, revB, []byte("again")); err != nil {
		t.Fatalf("save after delete: %v", err)
	}
}

// A split offset commit is fenced in every part.
func TestGroupClaimFencesSplitCommit(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	ctx := testCtx(t)
	rev, _, err := s.ClaimGroup(ctx, "g", GroupOwner{NodeID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ClaimGroup(ctx, "g", GroupOwner{NodeID: 2}); err != nil {
		t.Fatal(err)
	}
	offs := map[OffsetKey]Offset{}
	for p := range int32(3 * s.maxTxnOps) {
		offs[OffsetKey{Topic: "t", Partition: p}] = Offset{Offset: 1}
	}
	if err := s.CommitOffsetsOwned(ctx, "g", rev, offs); !errors.Is(err, ErrFenced) {
		t.Fatalf("fenced split commit = %v, want ErrFenced", err)
	}
	if got, err := s.FetchOffsets(ctx, "g"); err != nil || len(got) != 0 {
		t.Fatalf("fenced split commit left %d offsets (%v)", len(got), err)
	}
	if _, _, err := s.GroupOwnerOf(ctx, "never"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("owner of unclaimed group: %v, want ErrNotFound", err)
	}
}
