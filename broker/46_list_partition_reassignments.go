package broker

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metastore"
)

// ListPartitionReassignments: v0
//
// Behavior:
//   - Reads the partition states from etcd (any broker answers). Topics null
//     lists every partition with a reassignment in progress; otherwise the
//     named partitions that have one (others, and unknown ones, are left
//     out, as in Kafka).
//   - Replicas is the full set (current replicas plus target replicas the
//     controller has not added yet). AddingReplicas are the target replicas
//     not in the ISR (the original replica list is not stored: a replica
//     that was there before but fell out of the ISR shows as adding too);
//     RemovingReplicas are the replicas not in the target.
//   - A metastore failure gets a top-level error code.
func init() { register(46, 0, 0, handleListPartitionReassignments) }

func handleListPartitionReassignments(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.ListPartitionReassignmentsRequest)
	resp := req.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	states, err := b.meta.ListPartitionStates(c.ctx)
	if err != nil {
		b.log.Error("list partition reassignments", "err", err)
		msg := err.Error()
		resp.ErrorCode, resp.ErrorMessage = adminErrorCode(err), &msg
		return now(resp)
	}
	var want map[string]map[int32]bool // nil: all
	if req.Topics != nil {
		want = map[string]map[int32]bool{}
		for _, rt := range req.Topics {
			if want[rt.Topic] == nil {
				want[rt.Topic] = map[int32]bool{}
			}
			for _, p := range rt.Partitions {
				want[rt.Topic][p] = true
			}
		}
	}
	byTopic := map[string]int{} // index in resp.Topics
	for _, st := range states {
		if st.TargetReplicas == nil {
			continue
		}
		t := b.topicByID(st.TopicID)
		if t == nil || (want != nil && !want[t.name][st.Partition]) {
			continue
		}
		i, ok := byTopic[t.name]
		if !ok {
			rt := kmsg.NewListPartitionReassignmentsResponseTopic()
			rt.Topic = t.name
			resp.Topics = append(resp.Topics, rt)
			i = len(resp.Topics) - 1
			byTopic[t.name] = i
		}
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, reassignmentOf(st))
	}
	return now(resp)
}

// reassignmentOf describes the reassignment in progress in st.
func reassignmentOf(st metastore.PartitionState) kmsg.ListPartitionReassignmentsResponseTopicPartition {
	rp := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
	rp.Partition = st.Partition
	rp.Replicas = slices.Clone(st.Replicas)
	rp.AddingReplicas, rp.RemovingReplicas = []int32{}, []int32{}
	for _, r := range st.TargetReplicas {
		if !slices.Contains(rp.Replicas, r) {
			rp.Replicas = append(rp.Replicas, r)
		}
		if !slices.Contains(st.ISR, r) {
			rp.AddingReplicas = append(rp.AddingReplicas, r)
		}
	}
	for _, r := range st.Replicas {
		if !slices.Contains(st.TargetReplicas, r) {
			rp.RemovingReplicas = append(rp.RemovingReplicas, r)
		}
	}
	return rp
}
