package broker

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metastore"
)

// CreatePartitions: v0-3
//
// Behavior:
//   - Count is the new total; it must exceed the current count
//     (INVALID_PARTITIONS). Assignments may name only live brokers
//     (INVALID_REPLICA_ASSIGNMENT). Unknown topics get
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
		case !newAssignmentValid(b, rt.Assignment, int(rt.Count)-t.numPartitions(b)):
			fail(kerr.InvalidReplicaAssignment.Code, "assignment names unknown brokers or has the wrong length")
		case req.ValidateOnly:
		default:
			mt, err := b.meta.UpdateTopic(c.ctx, t.name, func(mt *metastore.Topic) error {
				if mt.Partitions >= rt.Count {
					return fmt.Errorf("partition count is already %d", mt.Partitions)
				}
				mt.Partitions = rt.Count
				return nil
			})
			if err == nil {
				b.applyMu.Lock()
				b.addTopic(mt)
				b.applyMu.Unlock()
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

func newAssignmentValid(b *Broker, as []kmsg.CreatePartitionsRequestTopicAssignment, added int) bool {
	if as == nil {
		return true
	}
	if len(as) != added {
		return false
	}
	for _, a := range as {
		if !b.replicasValid(a.Replicas) {
			return false
		}
	}
	return true
}
