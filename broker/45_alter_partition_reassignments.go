package broker

import (
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metastore"
)

// AlterPartitionReassignments: v0-1
//
// Behavior:
//   - Any broker answers (Kafka sends it to the controller; Strata writes the
//     partition state in etcd directly and the controller acts on it).
//   - Replicas set: the list must be non-empty, name distinct registered
//     brokers (INVALID_REPLICA_ASSIGNMENT). It becomes the partition's
//     TargetReplicas; the controller adds the new replicas, waits until every
//     target replica is in the ISR, then makes the target the replica list.
//     A new target replaces one already in progress.
//   - Replicas null cancels: NO_REASSIGNMENT_IN_PROGRESS if none. The
//     original replica list is not stored, so a cancel clears the target and
//     drops from the replicas the target members that are not in the ISR
//     (the ones still catching up); replicas already in sync stay, so a
//     cancel never removes a copy that holds all the data.
//   - Unknown topics and partitions get UNKNOWN_TOPIC_OR_PARTITION; a
//     partition twice in one request INVALID_REQUEST.
//
// Version notes:
//   - v1: AllowReplicationFactorChange; when false a target whose length
//     differs from the current replication factor gets
//     INVALID_REPLICATION_FACTOR.
func init() { register(45, 0, 1, handleAlterPartitionReassignments) }

// errNoReassignment is returned from a cancel of a partition that has no
// reassignment in progress.
var errNoReassignment = errors.New("no reassignment in progress")

func handleAlterPartitionReassignments(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.AlterPartitionAssignmentsRequest)
	resp := req.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
	resp.AllowReplicationFactorChange = req.AllowReplicationFactorChange
	type tp struct {
		topic     string
		partition int32
	}
	seen := map[tp]int{}
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			seen[tp{rt.Topic, rp.Partition}]++
		}
	}
	for _, rt := range req.Topics {
		st := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		st.Topic = rt.Topic
		t := b.topicFresh(c.ctx, rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			sp.Partition = rp.Partition
			code, msg := alterReassignment(b, c, t, seen[tp{rt.Topic, rp.Partition}] > 1, rp, req.Version >= 1 && !req.AllowReplicationFactorChange)
			if code != 0 {
				sp.ErrorCode, sp.ErrorMessage = code, &msg
				b.log.Info("partition reassignment refused", "topic", rt.Topic, "partition", rp.Partition,
					"code", code, "reason", msg, "client", c.clientID)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return now(resp)
}

// alterReassignment starts, replaces or cancels (rp.Replicas nil) the
// reassignment of one partition and returns the error code and message.
func alterReassignment(b *Broker, c *conn, t *topic, dup bool, rp kmsg.AlterPartitionAssignmentsRequestTopicPartition, keepRF bool) (int16, string) {
	switch {
	case dup:
		return kerr.InvalidRequest.Code, "partition named twice in the request"
	case t == nil || rp.Partition < 0 || int(rp.Partition) >= t.numPartitions(b):
		return kerr.UnknownTopicOrPartition.Code, "unknown topic or partition"
	case rp.Replicas != nil && !b.replicasValid(rp.Replicas):
		return kerr.InvalidReplicaAssignment.Code, fmt.Sprintf("replicas %v must be non-empty, distinct and name live brokers", rp.Replicas)
	}
	id := metastore.PartitionID{TopicID: t.id, Partition: rp.Partition}
	var badRF error
	next, err := b.meta.UpdatePartitionState(c.ctx, id, func(st *metastore.PartitionState) error {
		if rp.Replicas == nil {
			return cancelReassignment(st)
		}
		if keepRF {
			rf := len(st.Replicas)
			if st.TargetReplicas != nil {
				rf = len(st.TargetReplicas)
			}
			if len(rp.Replicas) != rf {
				badRF = fmt.Errorf("replication factor would change from %d to %d", rf, len(rp.Replicas))
				return badRF
			}
		}
		st.TargetReplicas = slices.Clone(rp.Replicas)
		return nil
	})
	switch {
	case err == nil:
	case errors.Is(err, errNoReassignment):
		return kerr.NoReassignmentInProgress.Code, "no reassignment in progress"
	case badRF != nil && errors.Is(err, badRF):
		return kerr.InvalidReplicationFactor.Code, badRF.Error()
	case errors.Is(err, metastore.ErrNotFound):
		return kerr.UnknownTopicOrPartition.Code, "partition has no state yet"
	default:
		b.log.Error("alter partition reassignment", "topic", t.name, "partition", rp.Partition, "err", err)
		return adminErrorCode(err), err.Error()
	}
	if rp.Replicas == nil {
		b.log.Info("partition reassignment cancelled", "topic", t.name, "partition", rp.Partition, "replicas", next.Replicas)
	} else {
		b.log.Info("partition reassignment started", "topic", t.name, "partition", rp.Partition,
			"replicas", next.Replicas, "target", next.TargetReplicas)
	}
	return 0, ""
}

// cancelReassignment clears st's target and drops the target replicas that
// are not in the ISR (added by the reassignment and still catching up). The
// leader and the ISR are never dropped, and at least one replica remains.
func cancelReassignment(st *metastore.PartitionState) error {
	if st.TargetReplicas == nil {
		return errNoReassignment
	}
	kept := slices.DeleteFunc(slices.Clone(st.Replicas), func(r int32) bool {
		return slices.Contains(st.TargetReplicas, r) && !slices.Contains(st.ISR, r) && r != st.Leader
	})
	if len(kept) > 0 {
		st.Replicas = kept
	}
	st.TargetReplicas = nil
	return nil
}
