package broker

import (
	"context"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metastore"
)

// Metadata: v0-13
//
// Behavior:
//   - Brokers: every registered (live) broker; partitions with the leader,
//     epoch, replicas, ISR and offline replicas from the controller's
//     partition state (LEADER_NOT_AVAILABLE while it has none).
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
	resp.Brokers = b.metadataBrokers()
	resp.ClusterID = &b.clusterID
	resp.ControllerID = b.controllerID()
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
	b.view.mu.RLock()
	defer b.view.mu.RUnlock()
	for i := range mt.Partitions {
		p := &mt.Partitions[i]
		*p = kmsg.NewMetadataResponseTopicPartition()
		p.Partition = int32(i)
		st, ok := b.view.states[metastore.PartitionID{TopicID: t.id, Partition: int32(i)}]
		if !ok {
			// The controller has not placed it yet.
			p.ErrorCode = kerr.LeaderNotAvailable.Code
			p.Leader, p.LeaderEpoch = -1, -1
			p.Replicas, p.ISR, p.OfflineReplicas = []int32{}, []int32{}, []int32{}
			continue
		}
		p.Leader, p.LeaderEpoch = st.Leader, st.LeaderEpoch
		p.Replicas = slices.Clone(st.Replicas)
		p.ISR = slices.Clone(st.ISR)
		p.OfflineReplicas = []int32{}
		for _, id := range st.Replicas {
			if _, live := b.view.brokers[id]; !live {
				p.OfflineReplicas = append(p.OfflineReplicas, id)
			}
		}
		if _, live := b.view.brokers[st.Leader]; st.Leader < 0 || !live {
			p.ErrorCode = kerr.LeaderNotAvailable.Code
			p.Leader = -1
		}
	}
	return mt
}

// metadataBrokers lists every live broker (this one at least, even before
// the first watch event arrives).
func (b *Broker) metadataBrokers() []kmsg.MetadataResponseBroker {
	live := b.liveBrokers()
	if !slices.ContainsFunc(live, func(bi metastore.BrokerInfo) bool { return bi.NodeID == b.cfg.NodeID }) {
		live = append(live, b.brokerInfo())
	}
	out := make([]kmsg.MetadataResponseBroker, 0, len(live))
	for _, bi := range live {
		out = append(out, kmsg.MetadataResponseBroker{NodeID: bi.NodeID, Host: bi.Host, Port: bi.Port, Rack: rackPtr(bi.Rack)})
	}
	return out
}

// controllerID is the elected controller, or this broker before the first
// lookup (Kafka clients need some live id).
func (b *Broker) controllerID() int32 {
	if id := b.view.controller.Load(); id >= 0 {
		return id
	}
	return b.cfg.NodeID
}

func rackPtr(r string) *string {
	if r == "" {
		return nil
	}
	return &r
}
