package controller

import (
	"slices"
	"testing"

	"github.com/strata-io/strata/metastore"
)

func rackBrokers(racks ...string) []metastore.BrokerInfo {
	out := make([]metastore.BrokerInfo, len(racks))
	for i, r := range racks {
		out[i] = metastore.BrokerInfo{NodeID: int32(i + 1), Rack: r}
	}
	return out
}

func TestRackAlternated(t *testing.T) {
	got := rackAlternated(rackBrokers("a", "a", "b", "b", "c"))
	var ids []int32
	for _, b := range got {
		ids = append(ids, b.NodeID)
	}
	if want := []int32{1, 3, 5, 2, 4}; !slices.Equal(ids, want) {
		t.Fatalf("rack-alternated order %v, want %v", ids, want)
	}
}

func TestAssignReplicas(t *testing.T) {
	tests := []struct {
		name       string
		brokers    []metastore.BrokerInfo
		partitions int
		rf         int
		wantRF     int
		rackSpread bool // every partition's replicas in distinct racks
	}{
		{"single broker", rackBrokers(""), 4, 1, 1, false},
		{"rf capped at broker count", rackBrokers("", ""), 4, 3, 2, false},
		{"three brokers rf3", rackBrokers("", "", ""), 30, 3, 3, false},
		{"six brokers in three racks", rackBrokers("a", "a", "b", "b", "c", "c"), 60, 3, 3, true},
		{"uneven racks", rackBrokers("a", "a", "a", "b"), 40, 2, 2, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := [16]byte{7, 1, 2}
			leaders := map[int32]int{}
			replicaCount := map[int32]int{}
			rackOf := map[int32]string{}
			for _, b := range tc.brokers {
				rackOf[b.NodeID] = b.Rack
			}
			for p := range tc.partitions {
				reps := assignReplicas(id, int32(p), tc.rf, tc.brokers)
				if len(reps) != tc.wantRF {
					t.Fatalf("partition %d: %v, want %d replicas", p, reps, tc.wantRF)
				}
				sorted := slices.Clone(reps)
				slices.Sort(sorted)
				if len(slices.Compact(sorted)) != len(reps) {
					t.Fatalf("partition %d: duplicate replica in %v", p, reps)
				}
				if tc.rackSpread {
					racks := map[string]bool{}
					for _, r := range reps {
						racks[rackOf[r]] = true
					}
					if len(racks) != len(reps) {
						t.Fatalf("partition %d: replicas %v share a rack", p, reps)
					}
				}
				if again := assignReplicas(id, int32(p), tc.rf, tc.brokers); !slices.Equal(again, reps) {
					t.Fatalf("partition %d: assignment not stable: %v then %v", p, reps, again)
				}
				leaders[reps[0]]++
				for _, r := range reps {
					replicaCount[r]++
				}
			}
			// Leaders are spread evenly: partitions is a multiple of the
			// broker count in every case.
			for _, b := range tc.brokers {
				if want := tc.partitions / len(tc.brokers); leaders[b.NodeID] != want {
					t.Fatalf("broker %d leads %d partitions, want %d (%v)", b.NodeID, leaders[b.NodeID], want, leaders)
				}
			}
			if !tc.rackSpread || tc.name == "six brokers in three racks" {
				lo, hi := tc.partitions*tc.wantRF, 0
				for _, b := range tc.brokers {
					lo, hi = min(lo, replicaCount[b.NodeID]), max(hi, replicaCount[b.NodeID])
				}
				if hi-lo > 2 {
					t.Fatalf("replica counts uneven: %v", replicaCount)
				}
			}
		})
	}
	if got := assignReplicas([16]byte{1}, 0, 3, nil); got != nil {
		t.Fatalf("no brokers: %v", got)
	}
}

func TestPlan(t *testing.T) {
	v := newView()
	v.brokers = live(1, 2, 3)
	v.brokers = shuttingDown(v.brokers, 3)
	tp := metastore.Topic{Name: "t", ID: [16]byte{5}, Partitions: 2, ReplicationFactor: 3}
	v.topics[tp.ID] = tp
	existing := metastore.PartitionState{TopicID: tp.ID, Partition: 0, Replicas: []int32{3, 1}, Leader: 3, ISR: []int32{3, 1}, Revision: 4}
	v.states[existing.ID()] = existing
	orphan := metastore.PartitionState{TopicID: [16]byte{9}, Partition: 0, Replicas: []int32{1}, Leader: 1, ISR: []int32{1}, Revision: 5}
	v.states[orphan.ID()] = orphan

	res := plan(v, false)
	if len(res.creates) != 1 || res.creates[0].next.Partition != 1 {
		t.Fatalf("creates %+v", res.creates)
	}
	created := res.creates[0].next
	if len(created.Replicas) != 2 || slices.Contains(created.Replicas, 3) || created.Leader != created.Replicas[0] ||
		!slices.Equal(created.ISR, created.Replicas) {
		t.Fatalf("new partition %+v: want 2 replicas on brokers 1 and 2, leader first, ISR = replicas", created)
	}
	if len(res.updates) != 1 || res.updates[0].next.Leader != 1 || res.updates[0].next.LeaderEpoch != 1 {
		t.Fatalf("updates %+v: want leadership moved off shutting-down broker 3", res.updates)
	}
	if !slices.Equal(res.orphans, []metastore.PartitionID{orphan.ID()}) {
		t.Fatalf("orphans %v", res.orphans)
	}

	// Nothing eligible: no assignment planned.
	v.brokers = shuttingDown(live(1), 1)
	if res := plan(v, false); len(res.creates) != 0 {
		t.Fatalf("planned %d creates without eligible brokers", len(res.creates))
	}
}
