package broker

import (
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metastore"
)

// CreatePartitions: v0-3
//
// Behavior:
//   - Count is the new total; it must exceed the current count
//     (INVALID_PARTITIONS). An assignment lists the replicas of each new
//     partition, the first its leader; it may name only live brokers, once
//     each, as many as the topic's replication factor
//     (INVALID_REPLICA_ASSIGNMENT). Without one the controller places the
//     new partitions (rack-aware). Unknown topics get
//     UNKNOWN_TOPIC_OR_PARTITION; a topic twice in one request INVALID_REQUEST.
//   - ValidateOnly checks and changes nothing.
//
// Version notes:
//   - v1: no schema change; v2: flexible; v3: no schema change
func init() { register(37, 0, 3, handleCreatePartitions) }

func handleCreatePartitions(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	seen := map[string]int{}
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		fail := func(code int16, msg string) {
			st.ErrorCode = code
			st.ErrorMessage = &msg
			b.log.Info("create partitions refused", "topic", rt.Topic, "code", code, "reason", msg, "client", c.clientID)
		}
		t := b.topicFresh(c.ctx, rt.Topic)
		switch {
		case seen[rt.Topic] > 1:
			fail(kerr.InvalidRequest.Code, "duplicate topic in request")
		case t == nil:
			fail(kerr.UnknownTopicOrPartition.Code, "topic "+rt.Topic+" does not exist")
		case int(rt.Count) <= t.numPartitions(b):
			fail(kerr.InvalidPartitions.Code, fmt.Sprintf("topic currently has %d partitions, %d would not be an increase", t.numPartitions(b), rt.Count))
		case rt.Count > maxPartitionsPerTopic:
			fail(kerr.InvalidPartitions.Code, fmt.Sprintf("number of partitions %d exceeds this broker's limit of %d per topic", rt.Count, maxPartitionsPerTopic))
		case !newAssignmentValid(b, rt.Assignment, int(rt.Count)-t.numPartitions(b), int(t.rf)):
			fail(kerr.InvalidReplicaAssignment.Code, fmt.Sprintf("assignment names unknown brokers, lists a broker twice, has the wrong length or a replication factor other than the topic's %d", t.rf))
		case req.ValidateOnly:
		default:
			// An assignment's states go in first: the controller places
			// every partition without a state as soon as the count grows.
			first := int32(t.numPartitions(b))
			var err error
			if len(rt.Assignment) > 0 {
				err = b.assignNewPartitions(c, t.id, first, rt.Assignment)
			}
			var mt metastore.Topic
			if err == nil {
				mt, err = b.meta.UpdateTopic(c.ctx, t.name, func(mt *metastore.Topic) error {
					if mt.Partitions != first {
						return fmt.Errorf("partition count changed to %d meanwhile", mt.Partitions)
					}
					mt.Partitions = rt.Count
					return nil
				})
			}
			if err == nil {
				b.applyTopic(mt)
				b.waitPartitionsReady(c.ctx, t)
			}
			if err != nil {
				b.log.Error("create partitions", "topic", t.name, "err", err)
				code := adminErrorCode(err)
				if code == kerr.UnknownServerError.Code {
					code = kerr.InvalidPartitions.Code
				}
				fail(code, err.Error())
				break
			}
			b.log.Info("created partitions", "topic", t.name, "count", rt.Count)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return now(resp)
}

func newAssignmentValid(b *Broker, as []kmsg.CreatePartitionsRequestTopicAssignment, added, rf int) bool {
	if as == nil {
		return true
	}
	if len(as) != added {
		return false
	}
	for _, a := range as {
		if len(a.Replicas) != rf || !b.replicasValid(a.Replicas) {
			return false
		}
	}
	return true
}

// assignNewPartitions writes the states of the partitions to be added from
// first on, before the topic grows, with the replicas asked for, the first
// replica leading, all in sync (they are empty). Brokers apply them once
// the count includes them. A state already there (left by an earlier
// attempt, or a concurrent one) must name the same replicas, or the request
// fails rather than leave a placement other than the one asked for.
func (b *Broker) assignNewPartitions(c *conn, topicID [16]byte, first int32, as []kmsg.CreatePartitionsRequestTopicAssignment) error {
	for i, a := range as {
		r := slices.Clone(a.Replicas)
		want := metastore.PartitionState{TopicID: topicID, Partition: first + int32(i), Replicas: r, Leader: r[0], ISR: slices.Clone(r)}
		err := b.meta.CreatePartitionStates(c.ctx, []metastore.PartitionState{want})
		if !errors.Is(err, metastore.ErrExists) {
			if err != nil {
				return err
			}
			continue
		}
		got, err := b.meta.GetPartitionState(c.ctx, metastore.PartitionID{TopicID: topicID, Partition: want.Partition})
		if err != nil {
			return err
		}
		if !slices.Equal(got.Replicas, want.Replicas) {
			return fmt.Errorf("partition %d was placed on %v before the assignment %v could be written; reassign it", want.Partition, got.Replicas, want.Replicas)
		}
	}
	return nil
}
