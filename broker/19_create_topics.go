package broker

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreateTopics: v0-7
//
// Behavior:
//   - Names follow Kafka's rules (INVALID_TOPIC_EXCEPTION); a name twice in
//     one request is INVALID_REQUEST; an existing topic
//     TOPIC_ALREADY_EXISTS.
//   - NumPartitions / ReplicationFactor -1 take num.partitions /
//     default.replication.factor; other values < 1 are INVALID_PARTITIONS /
//     INVALID_REPLICATION_FACTOR, as is a factor above the live brokers.
//   - Manual replica assignments may name only live brokers
//     (INVALID_REPLICA_ASSIGNMENT).
//   - Configs are validated by name and value (INVALID_CONFIG);
//     ValidateOnly checks everything and creates nothing.
//
// Version notes:
//   - v1: validate only, error messages; v2: throttle
//   - v4: -1 partitions / replication factor (KIP-464)
//   - v5: flexible, configs and counts in the response; v7: topic id
func init() { register(19, 0, 7, handleCreateTopics) }

func handleCreateTopics(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	seen := map[string]int{}
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		st.NumPartitions, st.ReplicationFactor = -1, -1
		fail := func(code int16, msg string) {
			st.ErrorCode = code
			st.ErrorMessage = &msg
			b.log.Info("create topic refused", "topic", rt.Topic, "code", code, "reason", msg, "client", c.clientID)
		}
		partitions, rf := rt.NumPartitions, rt.ReplicationFactor
		if len(rt.ReplicaAssignment) > 0 {
			partitions = int32(len(rt.ReplicaAssignment))
			if len(rt.ReplicaAssignment[0].Replicas) > 0 {
				rf = int16(len(rt.ReplicaAssignment[0].Replicas))
			}
		}
		if partitions == -1 {
			partitions = b.cfg.NumPartitions
		}
		if rf == -1 {
			rf = b.cfg.DefaultReplicationFactor
		}
		configs := map[string]string{}
		var cfgErr error
		for _, kv := range rt.Configs {
			if err := validateTopicConfig(kv.Name, kv.Value); err != nil && cfgErr == nil {
				cfgErr = err
			} else if err == nil {
				configs[kv.Name] = *kv.Value
			}
		}
		switch {
		case seen[rt.Topic] > 1:
			fail(kerr.InvalidRequest.Code, "topic "+rt.Topic+" appears more than once in the request")
		case validateTopicName(rt.Topic) != nil:
			fail(kerr.InvalidTopicException.Code, validateTopicName(rt.Topic).Error())
		case b.topicByName(rt.Topic) != nil:
			fail(kerr.TopicAlreadyExists.Code, "topic '"+rt.Topic+"' already exists")
		case partitions < 1:
			fail(kerr.InvalidPartitions.Code, fmt.Sprintf("number of partitions must be larger than 0, got %d", partitions))
		case partitions > maxPartitionsPerTopic:
			fail(kerr.InvalidPartitions.Code, fmt.Sprintf("number of partitions %d exceeds this broker's limit of %d per topic", partitions, maxPartitionsPerTopic))
		case rf < 1:
			fail(kerr.InvalidReplicationFactor.Code, fmt.Sprintf("replication factor must be larger than 0, got %d", rf))
		case int(rf) > b.liveBrokerCount():
			fail(kerr.InvalidReplicationFactor.Code, fmt.Sprintf("replication factor: %d larger than available brokers: %d", rf, b.liveBrokerCount()))
		case !assignmentValid(b, rt.ReplicaAssignment):
			fail(kerr.InvalidReplicaAssignment.Code, "replica assignment names an unknown broker or is uneven")
		case cfgErr != nil:
			fail(kerr.InvalidConfig.Code, cfgErr.Error())
		case req.ValidateOnly:
		default:
			t, err := b.createTopicAssigned(c.ctx, rt.Topic, partitions, rf, configs, replicaAssignment(rt.ReplicaAssignment))
			if err == errTopicExists {
				fail(kerr.TopicAlreadyExists.Code, "topic '"+rt.Topic+"' already exists")
				break
			} else if err != nil {
				b.log.Error("create topic", "topic", rt.Topic, "err", err)
				fail(adminErrorCode(err), err.Error())
				break
			}
			st.TopicID = t.id
			b.log.Info("created topic", "topic", rt.Topic, "partitions", partitions)
		}
		if st.ErrorCode == 0 {
			st.NumPartitions, st.ReplicationFactor = partitions, rf
			for _, name := range sortedTopicConfigNames() {
				v, src := b.topicConfigValue(configs, name)
				cfg := kmsg.NewCreateTopicsResponseTopicConfig()
				cfg.Name, cfg.Value, cfg.Source = name, &v, src
				st.Configs = append(st.Configs, cfg)
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return now(resp)
}

// maxPartitionsPerTopic bounds one topic so a single request cannot ask a
// broker to open millions of logs.
const maxPartitionsPerTopic = 10000

func assignmentValid(b *Broker, as []kmsg.CreateTopicsRequestTopicReplicaAssignment) bool {
	for i, a := range as {
		if a.Partition != int32(i) || len(a.Replicas) != len(as[0].Replicas) {
			return false
		}
		if !b.replicasValid(a.Replicas) {
			return false
		}
	}
	return true
}

func replicaAssignment(as []kmsg.CreateTopicsRequestTopicReplicaAssignment) [][]int32 {
	if len(as) == 0 {
		return nil
	}
	out := make([][]int32, len(as))
	for i, a := range as {
		out[i] = a.Replicas
	}
	return out
}
