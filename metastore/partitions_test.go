package metastore

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func testState(id byte, p int32, replicas ...int32) PartitionState {
	st := PartitionState{Partition: p, Replicas: replicas, Leader: replicas[0], ISR: slices.Clone(replicas)}
	st.TopicID[0] = id
	return st
}

func TestPartitionStates(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	ctx := testCtx(t)

	a1, a0, b0 := testState(2, 1, 1, 2), testState(2, 0, 2, 3), testState(1, 0, 3)
	a0.LeaderEpoch = 4
	if err := s.CreatePartitionStates(ctx, []PartitionState{a1, a0, b0}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePartitionStates(ctx, []PartitionState{testState(9, 0, 1), a1}); !errors.Is(err, ErrExists) {
		t.Fatalf("create existing = %v, want ErrExists", err)
	}
	if _, err := s.GetPartitionState(ctx, PartitionID{TopicID: [16]byte{9}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("failed create left a state behind: %v", err)
	}
	list, err := s.ListPartitionStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []PartitionID
	for _, st := range list {
		ids = append(ids, st.ID())
	}
	if want := []PartitionID{b0.ID(), a0.ID(), a1.ID()}; !slices.Equal(ids, want) {
		t.Fatalf("list order %v, want %v", ids, want)
	}
	if e, err := s.PartitionEpoch(ctx, a0.TopicID, 0); err != nil || e != 4 {
		t.Fatalf("leader epoch after create = %d, %v; want 4", e, err)
	}

	got, err := s.GetPartitionState(ctx, a0.ID())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Replicas, []int32{2, 3}) || got.Leader != 2 || got.LeaderEpoch != 4 || got.Revision == 0 {
		t.Fatalf("got %+v", got)
	}

	// CAS: a write from a stale read conflicts.
	next := got.Clone()
	next.ISR = []int32{2}
	put, err := s.PutPartitionState(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	if put.Revision <= got.Revision {
		t.Fatalf("revision did not advance: %d -> %d", got.Revision, put.Revision)
	}
	if _, err := s.PutPartitionState(ctx, next); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale put = %v, want ErrConflict", err)
	}

	// A new epoch raises leaderepochs in the same write; a lower one is fenced.
	put.Leader, put.LeaderEpoch = 3, 5
	put.ISR = []int32{3}
	if put, err = s.PutPartitionState(ctx, put); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.PartitionEpoch(ctx, a0.TopicID, 0); e != 5 {
		t.Fatalf("leader epoch = %d, want 5", e)
	}
	if err := s.SetPartitionEpoch(ctx, a0.TopicID, 0, 7); err != nil {
		t.Fatal(err)
	}
	put.ISR = []int32{3, 2}
	if _, err := s.PutPartitionState(ctx, put); !errors.Is(err, ErrFenced) {
		t.Fatalf("put below the stored epoch = %v, want ErrFenced", err)
	}

	// Validation.
	bad := testState(3, 0, 1, 2)
	bad.Leader = 5
	if err := s.CreatePartitionStates(ctx, []PartitionState{bad}); err == nil {
		t.Fatal("leader outside replicas accepted")
	}
	bad = testState(3, 0, 1, 2)
	bad.ISR = []int32{1, 4}
	if _, err := s.PutPartitionState(ctx, bad); err == nil {
		t.Fatal("ISR outside replicas accepted")
	}
	missing := testState(3, 0, 1)
	missing.Revision = 5
	if _, err := s.PutPartitionState(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Fatalf("put of a missing state = %v, want ErrNotFound", err)
	}
}

func TestUpdatePartitionStateConcurrent(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	ctx := testCtx(t)
	st := testState(1, 0, 1)
	if err := s.CreatePartitionStates(ctx, []PartitionState{st}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := s.UpdatePartitionState(ctx, st.ID(), func(p *PartitionState) error {
				p.LeaderEpoch++
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := s.GetPartitionState(ctx, st.ID())
	if err != nil || got.LeaderEpoch != 8 {
		t.Fatalf("epoch after 8 updates = %d, %v", got.LeaderEpoch, err)
	}
	if e, _ := s.PartitionEpoch(ctx, st.TopicID, 0); e != 8 {
		t.Fatalf("leaderepochs = %d, want 8", e)
	}
	abort := errors.New("no thanks")
	if _, err := s.UpdatePartitionState(ctx, st.ID(), func(*PartitionState) error { return abort }); !errors.Is(err, abort) {
		t.Fatalf("aborted update = %v", err)
	}
}

func TestWatchPartitionStatesAndDeleteTopic(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	ctx := testCtx(t)
	tp, err := s.CreateTopic(ctx, Topic{Name: "t", Partitions: 2, ReplicationFactor: 1})
	if err != nil {
		t.Fatal(err)
	}
	p0 := PartitionState{TopicID: tp.ID, Partition: 0, Replicas: []int32{1}, Leader: 1, ISR: []int32{1}}
	other := testState(0xff, 0, 2)
	if err := s.CreatePartitionStates(ctx, []PartitionState{p0, other}); err != nil {
		t.Fatal(err)
	}
	type update struct {
		changed []PartitionState
		deleted []PartitionID
	}
	updates := make(chan update, 16)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- s.WatchPartitionStates(wctx, func(c []PartitionState, d []PartitionID) { updates <- update{c, d} })
	}()
	next := func() update {
		t.Helper()
		select {
		case u := <-updates:
			return u
		case <-time.After(10 * time.Second):
			t.Fatal("no watch update")
			return update{}
		}
	}
	if u := next(); len(u.changed) != 2 || u.deleted != nil {
		t.Fatalf("initial update %+v", u)
	}
	p1 := PartitionState{TopicID: tp.ID, Partition: 1, Replicas: []int32{1}, Leader: 1, ISR: []int32{1}}
	if err := s.CreatePartitionStates(ctx, []PartitionState{p1}); err != nil {
		t.Fatal(err)
	}
	if u := next(); len(u.changed) != 1 || u.changed[0].ID() != p1.ID() || u.changed[0].Revision == 0 {
		t.Fatalf("create update %+v", u)
	}
	if _, err := s.DeleteTopic(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if u := next(); len(u.changed) != 0 || !slices.Equal(u.deleted, []PartitionID{p0.ID(), p1.ID()}) {
		t.Fatalf("delete-topic update %+v", u)
	}
	list, err := s.ListPartitionStates(ctx)
	if err != nil || len(list) != 1 || list[0].ID() != other.ID() {
		t.Fatalf("after DeleteTopic: %+v, %v", list, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("watch returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch did not stop")
	}
}

func TestNewWatchesStopOnClose(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	started := make(chan struct{}, 2)
	done := make(chan error, 2)
	go func() {
		done <- s.WatchPartitionStates(context.Background(), func([]PartitionState, []PartitionID) { started <- struct{}{} })
	}()
	go func() { done <- s.WatchBrokers(context.Background(), func([]BrokerInfo) { started <- struct{}{} }) }()
	for range 2 {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("no initial call")
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("watch after Close = %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("watch kept running after Close")
		}
	}
}
