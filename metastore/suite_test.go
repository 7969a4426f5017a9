package metastore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// opener returns a fresh, empty store for one test; it must register cleanup.
type opener func(t *testing.T) *Store

// runSuite runs every behaviour test against stores made by open, so the
// embedded server and an external etcd are held to the same contract.
func runSuite(t *testing.T, open opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *Store)
	}{
		{"ClusterID", testClusterID},
		{"Topics", testTopics},
		{"TopicValidation", testTopicValidation},
		{"UpdateTopicConcurrent", testUpdateTopicConcurrent},
		{"PutTopicCAS", testPutTopicCAS},
		{"Offsets", testOffsets},
		{"OffsetsManyPartitions", testOffsetsMany},
		{"Groups", testGroups},
		{"ProducerIDs", testProducerIDs},
		{"Brokers", testBrokers},
		{"BrokerLeaseLoss", testBrokerLeaseLoss},
		{"WatchTopics", testWatchTopics},
		{"WatchStopsOnClose", testWatchStopsOnClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testClusterID(t *testing.T, s *Store) {
	ctx := testCtx(t)
	id, err := s.ClusterID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 22 {
		t.Fatalf("cluster id %q: want 22 chars", id)
	}
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Go(func() {
			got, err := s.ClusterID(ctx)
			if err != nil {
				t.Error(err)
			}
			ids[i] = got
		})
	}
	wg.Wait()
	for _, got := range ids {
		if got != id {
			t.Fatalf("cluster id changed: %q then %q", id, got)
		}
	}
}

func testTopics(t *testing.T, s *Store) {
	ctx := testCtx(t)
	if ts, err := s.ListTopics(ctx); err != nil || len(ts) != 0 {
		t.Fatalf("ListTopics on empty store = %v, %v", ts, err)
	}
	a, err := s.CreateTopic(ctx, Topic{Name: "orders", Partitions: 3, ReplicationFactor: 1,
		Configs: map[string]string{"retention.ms": "1000"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == ([16]byte{}) || a.Revision == 0 {
		t.Fatalf("created topic lacks id or revision: %+v", a)
	}
	fixedID := [16]byte{1, 2, 3}
	b, err := s.CreateTopic(ctx, Topic{Name: "a.b_c-d", ID: fixedID, Partitions: 1, ReplicationFactor: 3})
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != fixedID {
		t.Fatalf("given id not kept: %v", b.ID)
	}
	if _, err := s.CreateTopic(ctx, Topic{Name: "orders", Partitions: 9, ReplicationFactor: 1}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate create: err = %v, want ErrExists", err)
	}

	got, err := s.GetTopic(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "orders" || got.ID != a.ID || got.Partitions != 3 || got.ReplicationFactor != 1 ||
		!maps.Equal(got.Configs, a.Configs) || got.Revision != a.Revision {
		t.Fatalf("GetTopic = %+v, want %+v", got, a)
	}
	if _, err := s.GetTopic(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetTopic(missing) err = %v", err)
	}

	list, err := s.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "a.b_c-d" || list[1].Name != "orders" {
		t.Fatalf("ListTopics = %+v", list)
	}

	up, err := s.UpdateTopic(ctx, "orders", func(tp *Topic) error {
		tp.Partitions = 6
		tp.Configs["cleanup.policy"] = "compact"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Partitions != 6 || up.Revision <= a.Revision || up.Configs["cleanup.policy"] != "compact" {
		t.Fatalf("UpdateTopic = %+v", up)
	}
	if len(a.Configs) != 1 {
		t.Fatalf("UpdateTopic mutated the caller's earlier copy: %v", a.Configs)
	}
	got, _ = s.GetTopic(ctx, "orders")
	if got.Partitions != 6 || got.Configs["cleanup.policy"] != "compact" || got.Configs["retention.ms"] != "1000" {
		t.Fatalf("after update GetTopic = %+v", got)
	}
	sentinel := errors.New("refused")
	if _, err := s.UpdateTopic(ctx, "orders", func(*Topic) error { return sentinel }); !errors.Is(err, sentinel) {
		t.Fatalf("UpdateTopic fn error not returned: %v", err)
	}
	if _, err := s.UpdateTopic(ctx, "orders", func(tp *Topic) error { tp.ID = [16]byte{9}; return nil }); err == nil {
		t.Fatal("UpdateTopic allowed changing the id")
	}
	if _, err := s.UpdateTopic(ctx, "nope", func(*Topic) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("UpdateTopic(missing) err = %v", err)
	}

	del, err := s.DeleteTopic(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if del.ID != a.ID || del.Partitions != 6 {
		t.Fatalf("DeleteTopic returned %+v", del)
	}
	if _, err := s.DeleteTopic(ctx, "orders"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete err = %v", err)
	}
	if _, err := s.GetTopic(ctx, "orders"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete err = %v", err)
	}
	// Re-creating the name gets a new id.
	again, err := s.CreateTopic(ctx, Topic{Name: "orders", Partitions: 1, ReplicationFactor: 1})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == a.ID {
		t.Fatal("re-created topic reused the old id")
	}
}

func testTopicValidation(t *testing.T, s *Store) {
	ctx := testCtx(t)
	for _, bad := range []Topic{
		{Name: "", Partitions: 1, ReplicationFactor: 1},
		{Name: "x", Partitions: 0, ReplicationFactor: 1},
		{Name: "x", Partitions: 1, ReplicationFactor: 0},
	} {
		if _, err := s.CreateTopic(ctx, bad); err == nil {
			t.Errorf("CreateTopic(%+v) accepted", bad)
		}
	}
	if ts, _ := s.ListTopics(ctx); len(ts) != 0 {
		t.Fatalf("invalid topics were stored: %+v", ts)
	}
}

func testUpdateTopicConcurrent(t *testing.T, s *Store) {
	ctx := testCtx(t)
	if _, err := s.CreateTopic(ctx, Topic{Name: "counter", Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 10
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		successes int
		conflicts int
	)
	for range workers {
		wg.Go(func() {
			for range each {
				_, err := s.UpdateTopic(ctx, "counter", func(tp *Topic) error {
					n, _ := strconv.Atoi(tp.Configs["n"])
					if tp.Configs == nil {
						tp.Configs = map[string]string{}
					}
					tp.Configs["n"] = strconv.Itoa(n + 1)
					return nil
				})
				mu.Lock()
				switch {
				case err == nil:
					successes++
				case errors.Is(err, ErrConflict):
					conflicts++
				default:
					t.Error(err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got, err := s.GetTopic(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	// No increment may be lost: the count equals the successful updates.
	if got.Configs["n"] != strconv.Itoa(successes) {
		t.Fatalf("counter = %s, successful updates = %d (conflicts %d)", got.Configs["n"], successes, conflicts)
	}
	if successes < workers*each/2 {
		t.Fatalf("too few updates succeeded: %d of %d", successes, workers*each)
	}
}

func testPutTopicCAS(t *testing.T, s *Store) {
	ctx := testCtx(t)
	orig, err := s.CreateTopic(ctx, Topic{Name: "cas", Partitions: 1, ReplicationFactor: 1})
	if err != nil {
		t.Fatal(err)
	}
	first := orig
	first.Partitions = 2
	if _, err := s.PutTopic(ctx, first); err != nil {
		t.Fatal(err)
	}
	stale := orig
	stale.Partitions = 5
	if _, err := s.PutTopic(ctx, stale); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale PutTopic err = %v, want ErrConflict", err)
	}
	if got, _ := s.GetTopic(ctx, "cas"); got.Partitions != 2 {
		t.Fatalf("stale write landed: %+v", got)
	}
	missing := orig
	missing.Name = "missing"
	if _, err := s.PutTopic(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PutTopic(missing) err = %v, want ErrNotFound", err)
	}
}

func testOffsets(t *testing.T, s *Store) {
	ctx := testCtx(t)
	g1 := map[OffsetKey]Offset{
		{Topic: "t1", Partition: 0}:               {Offset: 10, LeaderEpoch: 1, Metadata: "m", CommitTimestamp: 111},
		{Group: "g/1", Topic: "t1", Partition: 1}: {Offset: 20, LeaderEpoch: -1},
		{Topic: "t2", Partition: 7}:               {Offset: 0},
	}
	if err := s.CommitOffsets(ctx, "g/1", g1); err != nil {
		t.Fatal(err)
	}
	// "g" is a prefix of "g/1" as a string: its offsets must not mix.
	if err := s.CommitOffsets(ctx, "g", map[OffsetKey]Offset{{Topic: "t1", Partition: 0}: {Offset: 99}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitOffsets(ctx, "g", map[OffsetKey]Offset{{Group: "other", Topic: "t", Partition: 0}: {}}); err == nil {
		t.Fatal("commit with a key naming another group accepted")
	}

	got, err := s.FetchOffsets(ctx, "g/1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[OffsetKey]Offset{}
	for k, v := range g1 {
		k.Group = "g/1"
		want[k] = v
	}
	if !maps.Equal(got, want) {
		t.Fatalf("FetchOffsets(g/1) = %v, want %v", got, want)
	}
	// Overwrite one.
	if err := s.CommitOffsets(ctx, "g/1", map[OffsetKey]Offset{{Topic: "t1", Partition: 0}: {Offset: 11, LeaderEpoch: 2}}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.FetchOffsets(ctx, "g/1")
	if got[OffsetKey{"g/1", "t1", 0}].Offset != 11 || len(got) != 3 {
		t.Fatalf("after overwrite = %v", got)
	}

	all, err := s.AllOffsets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[OffsetKey{"g", "t1", 0}].Offset != 99 {
		t.Fatalf("AllOffsets = %v", all)
	}

	if err := s.DeleteOffsets(ctx, "g/1", []OffsetKey{{Topic: "t1", Partition: 0}, {Topic: "absent", Partition: 3}}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.FetchOffsets(ctx, "g/1")
	if _, ok := got[OffsetKey{"g/1", "t1", 0}]; ok || len(got) != 2 {
		t.Fatalf("after delete = %v", got)
	}
	if empty, err := s.FetchOffsets(ctx, "nobody"); err != nil || len(empty) != 0 {
		t.Fatalf("FetchOffsets(unknown) = %v, %v", empty, err)
	}
}

func testOffsetsMany(t *testing.T, s *Store) {
	ctx := testCtx(t)
	n := s.maxTxnOps*2 + 17
	offs := make(map[OffsetKey]Offset, n)
	keys := make([]OffsetKey, 0, n)
	for i := range n {
		k := OffsetKey{Topic: fmt.Sprintf("topic-%d", i%5), Partition: int32(i)}
		offs[k] = Offset{Offset: int64(i) * 3, LeaderEpoch: 4, Metadata: "meta"}
		keys = append(keys, k)
	}
	if err := s.CommitOffsets(ctx, "big", offs); err != nil {
		t.Fatal(err)
	}
	got, err := s.FetchOffsets(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("fetched %d offsets, want %d", len(got), n)
	}
	for k, v := range offs {
		k.Group = "big"
		if got[k] != v {
			t.Fatalf("offset %v = %v, want %v", k, got[k], v)
		}
	}
	if err := s.DeleteOffsets(ctx, "big", keys[:n-1]); err != nil {
		t.Fatal(err)
	}
	got, _ = s.FetchOffsets(ctx, "big")
	last := keys[n-1]
	last.Group = "big"
	if len(got) != 1 || got[last] != offs[keys[n-1]] {
		t.Fatalf("after deleting all but one: %v", got)
	}
}

func testGroups(t *testing.T, s *Store) {
	ctx := testCtx(t)
	if gs, err := s.LoadGroups(ctx); err != nil || len(gs) != 0 {
		t.Fatalf("LoadGroups on empty store = %v, %v", gs, err)
	}
	if err := s.SaveGroup(ctx, "g", []byte("state-1")); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveGroup(ctx, "g/sub", []byte{0, 1, 2, 0xff}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveGroup(ctx, "g", []byte("state-2")); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitOffsets(ctx, "g", map[OffsetKey]Offset{{Topic: "t", Partition: 0}: {Offset: 5}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitOffsets(ctx, "g/sub", map[OffsetKey]Offset{{Topic: "t", Partition: 0}: {Offset: 6}}); err != nil {
		t.Fatal(err)
	}
	gs, err := s.LoadGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 2 || string(gs["g"]) != "state-2" || !slices.Equal(gs["g/sub"], []byte{0, 1, 2, 0xff}) {
		t.Fatalf("LoadGroups = %q", gs)
	}
	if err := s.DeleteGroup(ctx, "g"); err != nil {
		t.Fatal(err)
	}
	gs, _ = s.LoadGroups(ctx)
	if _, ok := gs["g"]; ok || len(gs) != 1 {
		t.Fatalf("after DeleteGroup(g) LoadGroups = %q", gs)
	}
	all, _ := s.AllOffsets(ctx)
	if len(all) != 1 || all[OffsetKey{"g/sub", "t", 0}].Offset != 6 {
		t.Fatalf("DeleteGroup(g) must delete only g's offsets; left %v", all)
	}
	// The empty group id round-trips too.
	if err := s.SaveGroup(ctx, "", []byte("anon")); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitOffsets(ctx, "", map[OffsetKey]Offset{{Topic: "t", Partition: 3}: {Offset: 8}}); err != nil {
		t.Fatal(err)
	}
	gs, err = s.LoadGroups(ctx)
	if err != nil || string(gs[""]) != "anon" || len(gs) != 2 {
		t.Fatalf("LoadGroups with empty group id = %q, %v", gs, err)
	}
	if offs, err := s.FetchOffsets(ctx, ""); err != nil || len(offs) != 1 || offs[OffsetKey{"", "t", 3}].Offset != 8 {
		t.Fatalf("FetchOffsets(\"\") = %v, %v", offs, err)
	}
	if err := s.DeleteGroup(ctx, "never-existed"); err != nil {
		t.Fatalf("DeleteGroup(missing) = %v", err)
	}
}

func testProducerIDs(t *testing.T, s *Store) {
	ctx := testCtx(t)
	if _, err := s.AllocateProducerIDs(ctx, 0); err == nil {
		t.Fatal("block size 0 accepted")
	}
	first, err := s.AllocateProducerIDs(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if first != 0 {
		t.Fatalf("first block starts at %d, want 0", first)
	}
	const workers, each, size = 6, 8, 1000
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		starts []int64
	)
	for range workers {
		wg.Go(func() {
			for range each {
				st, err := s.AllocateProducerIDs(ctx, size)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				starts = append(starts, st)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(starts) != workers*each {
		t.Fatalf("got %d blocks, want %d", len(starts), workers*each)
	}
	slices.Sort(starts)
	// Blocks are disjoint and contiguous after the first one.
	for i, st := range starts {
		if want := int64(10 + i*size); st != want {
			t.Fatalf("block %d starts at %d, want %d (blocks overlap or leave gaps)", i, st, want)
		}
	}
}

func testBrokers(t *testing.T, s *Store) {
	ctx := testCtx(t)
	b1 := BrokerInfo{NodeID: 2, Host: "10.0.0.2", Port: 9092, Rack: "az-b"}
	b0 := BrokerInfo{NodeID: 1, Host: "10.0.0.1", Port: 9092}
	if err := s.RegisterBroker(ctx, b1); err != nil {
		t.Fatal(err)
	}
	regCtx, unregister := context.WithCancel(ctx)
	if err := s.RegisterBroker(regCtx, b0); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListBrokers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(plainBrokers(got), []BrokerInfo{b0, b1}) {
		t.Fatalf("ListBrokers = %+v", got)
	}
	first := got[1]
	// Re-registering a node id replaces the entry, as a new incarnation.
	b1moved := b1
	b1moved.Port = 19092
	if err := s.RegisterBroker(ctx, b1moved); err != nil {
		t.Fatal(err)
	}
	// Cancelling the registration context removes the broker promptly.
	unregister()
	waitFor(t, 5*time.Second, func() bool {
		got, err = s.ListBrokers(ctx)
		return err == nil && slices.Equal(plainBrokers(got), []BrokerInfo{b1moved})
	})
	if got[0].Incarnation == first.Incarnation || got[0].Revision <= first.Revision {
		t.Fatalf("re-registration %+v has the incarnation/revision of %+v", got[0], first)
	}
}

func testWatchTopics(t *testing.T, s *Store) {
	ctx, cancel := context.WithCancel(testCtx(t))
	if _, err := s.CreateTopic(ctx, Topic{Name: "before", Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	updates := make(chan []Topic, 100)
	done := make(chan error, 1)
	go func() { done <- s.WatchTopics(ctx, func(ts []Topic) { updates <- ts }) }()

	names := func(ts []Topic) string {
		var out []string
		for _, t := range ts {
			out = append(out, fmt.Sprintf("%s:%d", t.Name, t.Partitions))
		}
		return fmt.Sprint(out)
	}
	expect := func(want string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case ts := <-updates:
				if names(ts) == want {
					return
				}
			case <-deadline:
				t.Fatalf("never saw topic list %s", want)
			}
		}
	}
	expect("[before:1]")
	if _, err := s.CreateTopic(ctx, Topic{Name: "after", Partitions: 2, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	expect("[after:2 before:1]")
	if _, err := s.UpdateTopic(ctx, "after", func(tp *Topic) error { tp.Partitions = 4; return nil }); err != nil {
		t.Fatal(err)
	}
	expect("[after:4 before:1]")
	if _, err := s.DeleteTopic(ctx, "before"); err != nil {
		t.Fatal(err)
	}
	expect("[after:4]")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("WatchTopics returned %v after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchTopics did not return after cancel")
	}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testBrokerLeaseLoss(t *testing.T, s *Store) {
	ctx := testCtx(t)
	b := BrokerInfo{NodeID: 7, Host: "h", Port: 9092}
	if err := s.RegisterBroker(ctx, b); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	lease := s.leases[0]
	s.mu.Unlock()
	// Revoking the lease behind the store's back deletes the registration;
	// the keep-alive loop must notice and register again on a new lease.
	if _, err := s.cli.Revoke(ctx, lease); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.leases) == 1 && s.leases[0] != lease
	})
	var got []BrokerInfo
	waitFor(t, 5*time.Second, func() bool {
		var err error
		got, err = s.ListBrokers(ctx)
		return err == nil && slices.Equal(plainBrokers(got), []BrokerInfo{b})
	})
	s.mu.Lock()
	current := s.leases[0]
	s.mu.Unlock()
	if got[0].Incarnation != int64(current) {
		t.Fatalf("registration incarnation %d, want the new lease %d", got[0].Incarnation, current)
	}
}

func testWatchStopsOnClose(t *testing.T, s *Store) {
	done := make(chan error, 1)
	seen := make(chan struct{}, 10)
	go func() {
		done <- s.WatchTopics(context.Background(), func([]Topic) { seen <- struct{}{} })
	}()
	select {
	case <-seen:
	case <-time.After(10 * time.Second):
		t.Fatal("no initial topic list")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("WatchTopics after Close = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchTopics kept running after Close")
	}
}
