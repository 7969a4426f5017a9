package broker

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metastore"
)

func alterReassignments(rc *rawConn, v int16, allowRF bool, topic string, parts map[int32][]int32) map[int32]int16 {
	rc.t.Helper()
	req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	req.TimeoutMillis, req.AllowReplicationFactorChange = 10000, allowRF
	rt := kmsg.AlterPartitionAssignmentsRequestTopic{Topic: topic}
	for p, rs := range parts {
		rt.Partitions = append(rt.Partitions, kmsg.AlterPartitionAssignmentsRequestTopicPartition{Partition: p, Replicas: rs})
	}
	req.Topics = []kmsg.AlterPartitionAssignmentsRequestTopic{rt}
	resp := do[*kmsg.AlterPartitionAssignmentsResponse](rc, v, req)
	out := map[int32]int16{}
	for _, p := range resp.Topics[0].Partitions {
		out[p.Partition] = p.ErrorCode
	}
	return out
}

func listReassignments(rc *rawConn, topics []kmsg.ListPartitionReassignmentsRequestTopic) []kmsg.ListPartitionReassignmentsResponseTopic {
	rc.t.Helper()
	req := kmsg.NewPtrListPartitionReassignmentsRequest()
	req.TimeoutMillis, req.Topics = 10000, topics
	resp := do[*kmsg.ListPartitionReassignmentsResponse](rc, 0, req)
	if resp.ErrorCode != 0 {
		rc.t.Fatalf("list reassignments: error %d", resp.ErrorCode)
	}
	return resp.Topics
}

// registerIdleBroker registers broker id (which never serves or fetches)
// for the rest of the test and waits until tb counts it live.
func registerIdleBroker(t *testing.T, tb *testBroker, id int32) {
	t.Helper()
	want := tb.b.liveBrokerCount() + 1
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := tb.meta.RegisterBroker(ctx, metastore.BrokerInfo{NodeID: id, Host: "127.0.0.1", Port: 1}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); tb.b.liveBrokerCount() < want; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("broker %d never seen", id)
		}
	}
}

// waitState polls the partition state until ok accepts it.
func waitState(t *testing.T, meta *metastore.Store, id metastore.PartitionID, what string, ok func(metastore.PartitionState) bool) metastore.PartitionState {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := meta.GetPartitionState(context.Background(), id)
		if err == nil && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: state %+v (err %v)", what, st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPartitionReassignments(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	topicID := rc.createTopic("ra", 2, nil)
	// A second registered broker that never fetches: a replica moved to it
	// stays out of the ISR, so the reassignment stays in progress.
	registerIdleBroker(t, tb, 2)
	p0 := metastore.PartitionID{TopicID: topicID, Partition: 0}

	if got := listReassignments(rc, nil); len(got) != 0 {
		t.Fatalf("reassignments before any: %+v", got)
	}
	cases := []struct {
		name    string
		v       int16
		allowRF bool
		topic   string
		parts   map[int32][]int32
		code    int16
	}{
		{"unknown broker", 0, true, "ra", map[int32][]int32{0: {9}}, kerr.InvalidReplicaAssignment.Code},
		{"duplicate broker", 0, true, "ra", map[int32][]int32{0: {1, 1}}, kerr.InvalidReplicaAssignment.Code},
		{"empty", 0, true, "ra", map[int32][]int32{0: {}}, kerr.InvalidReplicaAssignment.Code},
		{"unknown partition", 0, true, "ra", map[int32][]int32{7: {1}}, kerr.UnknownTopicOrPartition.Code},
		{"unknown topic", 0, true, "nope", map[int32][]int32{0: {1}}, kerr.UnknownTopicOrPartition.Code},
		{"cancel without one", 0, true, "ra", map[int32][]int32{0: nil}, kerr.NoReassignmentInProgress.Code},
		{"rf change refused", 1, false, "ra", map[int32][]int32{0: {1, 2}}, kerr.InvalidReplicationFactor.Code},
	}
	for _, c := range cases {
		for p, code := range alterReassignments(rc, c.v, c.allowRF, c.topic, c.parts) {
			if code != c.code {
				t.Errorf("%s: partition %d error %d, want %d", c.name, p, code, c.code)
			}
		}
	}
	if st := waitState(t, tb.meta, p0, "after refused requests", func(metastore.PartitionState) bool { return true }); st.TargetReplicas != nil || !slices.Equal(st.Replicas, []int32{1}) {
		t.Fatalf("refused requests changed the state: %+v", st)
	}

	// Move partition 0 to {2, 1}: the controller adds 2, which never
	// catches up, so the reassignment stays listed.
	if codes := alterReassignments(rc, 1, true, "ra", map[int32][]int32{0: {2, 1}}); codes[0] != 0 {
		t.Fatalf("reassign: error %d", codes[0])
	}
	waitState(t, tb.meta, p0, "controller adds replica 2", func(st metastore.PartitionState) bool {
		return slices.Equal(st.Replicas, []int32{1, 2}) && slices.Equal(st.TargetReplicas, []int32{2, 1})
	})
	for _, filter := range [][]kmsg.ListPartitionReassignmentsRequestTopic{nil, {{Topic: "ra", Partitions: []int32{0, 1}}}} {
		got := listReassignments(rc, filter)
		if len(got) != 1 || got[0].Topic != "ra" || len(got[0].Partitions) != 1 {
			t.Fatalf("list (filter %v): %+v", filter, got)
		}
		p := got[0].Partitions[0]
		if p.Partition != 0 || !slices.Equal(p.Replicas, []int32{1, 2}) || !slices.Equal(p.AddingReplicas, []int32{2}) || len(p.RemovingReplicas) != 0 {
			t.Fatalf("list (filter %v): partition %+v", filter, p)
		}
	}
	if got := listReassignments(rc, []kmsg.ListPartitionReassignmentsRequestTopic{{Topic: "ra", Partitions: []int32{1}}}); len(got) != 0 {
		t.Fatalf("partition 1 listed: %+v", got)
	}

	// Cancel: the replica still catching up goes, the original stays.
	if codes := alterReassignments(rc, 0, true, "ra", map[int32][]int32{0: nil}); codes[0] != 0 {
		t.Fatalf("cancel: error %d", codes[0])
	}
	st := waitState(t, tb.meta, p0, "after cancel", func(metastore.PartitionState) bool { return true })
	if st.TargetReplicas != nil || !slices.Equal(st.Replicas, []int32{1}) || st.Leader != 1 {
		t.Fatalf("after cancel: %+v", st)
	}
	if got := listReassignments(rc, nil); len(got) != 0 {
		t.Fatalf("listed after cancel: %+v", got)
	}
	// Data keeps flowing on the partition.
	if off := rc.mustProduce("ra", 0, plainBatch(1, "after")); off != 0 {
		t.Fatalf("produce after cancel: offset %d", off)
	}

	// A reassignment whose target is already in sync completes at once.
	if codes := alterReassignments(rc, 0, true, "ra", map[int32][]int32{1: {1}}); codes[1] != 0 {
		t.Fatalf("trivial reassign: error %d", codes[1])
	}
	waitState(t, tb.meta, metastore.PartitionID{TopicID: topicID, Partition: 1}, "trivial reassignment completes", func(st metastore.PartitionState) bool {
		return st.TargetReplicas == nil && slices.Equal(st.Replicas, []int32{1})
	})
}

func TestReassignmentOf(t *testing.T) {
	st := metastore.PartitionState{Partition: 3, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2}, Leader: 1, TargetReplicas: []int32{2, 3, 4}}
	rp := reassignmentOf(st)
	if !slices.Equal(rp.Replicas, []int32{1, 2, 3, 4}) || !slices.Equal(rp.AddingReplicas, []int32{3, 4}) || !slices.Equal(rp.RemovingReplicas, []int32{1}) {
		t.Fatalf("%+v", rp)
	}
	if err := cancelReassignment(&st); err != nil {
		t.Fatal(err)
	}
	if st.TargetReplicas != nil || !slices.Equal(st.Replicas, []int32{1, 2}) {
		t.Fatalf("cancelled: %+v", st)
	}
	if err := cancelReassignment(&st); err != errNoReassignment {
		t.Fatalf("second cancel: %v", err)
	}
}

// CreatePartitions with an explicit assignment places the new partitions
// on the replicas asked for (the controller places them otherwise).
func TestCreatePartitionsAssignment(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	topicID := rc.createTopic("cpa", 1, nil)
	registerIdleBroker(t, tb, 2)
	// The replication factor must stay the topic's (1).
	r := createPartitions(rc, 3, false, kmsg.CreatePartitionsRequestTopic{Topic: "cpa", Count: 2,
		Assignment: []kmsg.CreatePartitionsRequestTopicAssignment{{Replicas: []int32{1, 2}}}})
	if r[0].ErrorCode != kerr.InvalidReplicaAssignment.Code {
		t.Fatalf("assignment with replication factor 2 on an RF 1 topic: error %d, want INVALID_REPLICA_ASSIGNMENT", r[0].ErrorCode)
	}
	r = createPartitions(rc, 3, false, kmsg.CreatePartitionsRequestTopic{Topic: "cpa", Count: 4,
		Assignment: []kmsg.CreatePartitionsRequestTopicAssignment{{Replicas: []int32{2}}, {Replicas: []int32{1}}, {Replicas: []int32{2}}}})
	if r[0].ErrorCode != 0 {
		t.Fatalf("grow to 4 with an assignment: error %d (%v)", r[0].ErrorCode, r[0].ErrorMessage)
	}
	for p, want := range map[int32][]int32{1: {2}, 2: {1}, 3: {2}} {
		st := waitState(t, tb.meta, metastore.PartitionID{TopicID: topicID, Partition: p}, "assigned partition",
			func(st metastore.PartitionState) bool { return len(st.Replicas) > 0 })
		if !slices.Equal(st.Replicas, want) || st.Leader != want[0] {
			t.Errorf("partition %d: replicas %v leader %d, want %v led by %d", p, st.Replicas, st.Leader, want, want[0])
		}
	}
	// Partition 2 is on this broker: it takes produce.
	rc.mustProduce("cpa", 2, plainBatch(1, "assigned"))
}
