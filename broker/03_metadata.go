package broker

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metadata: v0-13
//
// Behavior:
//   - Brokers: this node (and, with more brokers, every registered one).
//   - Null topics (v1+) or an empty list at v0 means every topic.
//   - An unknown topic is auto-created with num.partitions and
//     default.replication.factor when auto.create.topics.enable is on and
//     the request allows it (always before v4); otherwise
//     UNKNOWN_TOPIC_OR_PARTITION. Invalid names get INVALID_TOPIC_EXCEPTION.
//   - Topics requested by id (v10+) that do not exist get UNKNOWN_TOPIC_ID.
//   - Served from memory; the metastore is touched only to auto-create.
//
// Version notes:
//   - v1: controller id, rack, is-internal; null topics = all
//   - v2: cluster id; v4: AllowAutoTopicCreation; v5: offline replicas
//   - v7: leader epoch; v8: authorized operations; v9: flexible
//   - v10: topic ids; v11: drops cluster authorized operations
//   - v12: topic name nullable when requesting by id; v13: top-level error code
func init() { register(3, 0, 13, handleMetadata) }

func handleMetadata(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	info := b.brokerInfo()
	resp.Brokers = []kmsg.MetadataResponseBroker{{NodeID: info.NodeID, Host: info.Host, Port: info.Port, Rack: rackPtr(info.Rack)}}
	resp.ClusterID = &b.clusterID
	resp.ControllerID = b.cfg.NodeID
	resp.AuthorizedOperations = -2147483648

	allowCreate := b.cfg.AutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
	if req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0) {
		ts := b.snapshotTopics()
		sort.Slice(ts, func(i, j int) bool { return ts[i].name < ts[j].name })
		for _, t := range ts {
			resp.Topics = append(resp.Topics, b.metadataTopic(t))
		}
		return now(resp)
	}
	for _, rt := range req.Topics {
		var t *topic
		if rt.Topic == nil || *rt.Topic == "" {
			if rt.TopicID == ([16]byte{}) {
				mt := kmsg.NewMetadataResponseTopic()
				mt.ErrorCode = kerr.InvalidTopicException.Code
				resp.Topics = append(resp.Topics, mt)
				continue
			}
			if t = b.topicByID(rt.TopicID); t == nil {
				mt := kmsg.NewMetadataResponseTopic()
				mt.TopicID = rt.TopicID
				mt.ErrorCode = kerr.UnknownTopicID.Code
				resp.Topics = append(resp.Topics, mt)
				continue
			}
		} else {
			name := *rt.Topic
			t = b.topicByName(name)
			if t == nil {
				mt := kmsg.NewMetadataResponseTopic()
				mt.Topic = rt.Topic
				if err := validateTopicName(name); err != nil {
					mt.ErrorCode = kerr.InvalidTopicException.Code
				} else if !allowCreate {
					mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
				} else if created, err := b.autoCreate(c.ctx, name); err != nil {
					mt.ErrorCode = kerr.LeaderNotAvailable.Code
				} else {
					t = created
				}
				if t == nil {
					resp.Topics = append(resp.Topics, mt)
					continue
				}
			}
		}
		resp.Topics = append(resp.Topics, b.metadataTopic(t))
	}
	return now(resp)
}

// autoCreate creates a topic with the broker defaults; losing a race with
// another creator is fine.
func (b *Broker) autoCreate(ctx context.Context, name string) (*topic, error) {
	t, err := b.createTopic(ctx, name, b.cfg.NumPartitions, b.cfg.DefaultReplicationFactor, nil)
	if err == errTopicExists {
		if t = b.topicByName(name); t != nil {
			return t, nil
		}
	}
	if err == nil {
		b.log.Info("auto-created topic", "topic", name, "partitions", b.cfg.NumPartitions)
	}
	return t, err
}

func (b *Broker) metadataTopic(t *topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := t.name
	mt.Topic = &name
	mt.TopicID = t.id
	mt.AuthorizedOperations = -2147483648
	n := t.numPartitions(b)
	mt.Partitions = make([]kmsg.MetadataResponseTopicPartition, n)
	for i := range mt.Partitions {
		p := &mt.Partitions[i]
		*p = kmsg.NewMetadataResponseTopicPartition()
		p.Partition = int32(i)
		p.Leader = b.cfg.NodeID
		p.LeaderEpoch = 0
		p.Replicas = []int32{b.cfg.NodeID}
		p.ISR = []int32{b.cfg.NodeID}
		p.OfflineReplicas = []int32{}
	}
	return mt
}

func rackPtr(r string) *string {
	if r == "" {
		return nil
	}
	return &r
}
