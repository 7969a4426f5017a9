package controller

import (
	"cmp"
	"maps"
	"slices"

	"github.com/strata-io/strata/metastore"
)

// uncleanConfig is the topic config that allows electing an out-of-sync
// replica when no in-sync one is left.
const uncleanConfig = "unclean.leader.election.enable"

// view is the controller's picture of the cluster, fed by etcd watches.
type view struct {
	brokers brokers
	topics  map[[16]byte]metastore.Topic
	states  map[metastore.PartitionID]metastore.PartitionState
	pending pendingRestarts // restarts observed by this controller, not yet handled (restart.go)
}

func newView() *view {
	return &view{brokers: brokers{}, topics: map[[16]byte]metastore.Topic{},
		states: map[metastore.PartitionID]metastore.PartitionState{}, pending: pendingRestarts{}}
}

// change is one partition state write the controller wants to make.
type change struct {
	old    metastore.PartitionState // zero Revision: the partition has no state yet
	next   metastore.PartitionState
	reason string
	// restarts are the pending restarts this change handles: resolved once
	// it is written.
	restarts map[int32]int64
}

// handledRestarts are pending restarts that needed no write.
type handledRestarts struct {
	id       metastore.PartitionID
	restarts map[int32]int64
}

// planResult is everything reconcile should write.
type planResult struct {
	updates []change                // existing states to change
	creates []change                // missing states; next.LeaderEpoch still to be set from leaderepochs
	orphans []metastore.PartitionID // states whose topic is gone
	handled []handledRestarts       // pending restarts needing no write
}

// plan decides every write for the view. Missing partitions are only planned
// when some broker is eligible.
func plan(v *view, rebalance bool) planResult {
	var out planResult
	eligible := make([]metastore.BrokerInfo, 0, len(v.brokers))
	for _, b := range v.brokers {
		if !b.ShuttingDown {
			eligible = append(eligible, b)
		}
	}
	slices.SortFunc(eligible, func(a, b metastore.BrokerInfo) int { return cmp.Compare(a.NodeID, b.NodeID) })

	topics := slices.Collect(func(yield func(metastore.Topic) bool) {
		for _, t := range v.topics {
			if !yield(t) {
				return
			}
		}
	})
	slices.SortFunc(topics, func(a, b metastore.Topic) int { return slices.Compare(a.ID[:], b.ID[:]) })
	for _, t := range topics {
		unclean := t.Configs[uncleanConfig] == "true"
		for p := int32(0); p < t.Partitions; p++ {
			id := metastore.PartitionID{TopicID: t.ID, Partition: p}
			cur, ok := v.states[id]
			if !ok {
				replicas := assignReplicas(t.ID, p, int(t.ReplicationFactor), eligible)
				if replicas == nil {
					continue
				}
				next := metastore.PartitionState{TopicID: t.ID, Partition: p, Replicas: replicas,
					Leader: replicas[0], ISR: slices.Clone(replicas)}
				out.creates = append(out.creates, change{next: next, reason: "new partition"})
				continue
			}
			restarted, used := restartedIn(cur, v.brokers, v.pending[id])
			d := decideRestart(cur, v.brokers, restarted, unclean, rebalance)
			if d.reason != "" {
				out.updates = append(out.updates, change{old: cur, next: d.next, reason: d.reason, restarts: used})
			} else if len(v.pending[id]) > 0 {
				out.handled = append(out.handled, handledRestarts{id: id, restarts: maps.Clone(v.pending[id])})
			}
		}
	}
	for id := range v.states {
		if _, ok := v.topics[id.TopicID]; !ok {
			out.orphans = append(out.orphans, id)
		}
	}
	slices.SortFunc(out.orphans, func(a, b metastore.PartitionID) int {
		if c := slices.Compare(a.TopicID[:], b.TopicID[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.Partition, b.Partition)
	})
	return out
}
