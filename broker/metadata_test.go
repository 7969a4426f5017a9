package broker

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func metadataFor(names ...string) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	for _, n := range names {
		req.Topics = append(req.Topics, kmsg.MetadataRequestTopic{Topic: kmsg.StringPtr(n)})
	}
	return req
}

func TestMetadataAutoCreate(t *testing.T) {
	tb := startBroker(t, func(c *Config) { c.AutoCreateTopics, c.NumPartitions = true, 3 })
	rc := tb.dial(t)

	// v4+ honours AllowAutoTopicCreation=false.
	req := metadataFor("auto-no")
	req.AllowAutoTopicCreation = false
	resp := do[*kmsg.MetadataResponse](rc, 12, req)
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("allow=false: %+v", resp.Topics)
	}
	if tb.b.topicByName("auto-no") != nil {
		t.Fatal("topic created although the request did not allow it")
	}

	req = metadataFor("auto-yes")
	req.AllowAutoTopicCreation = true
	resp = do[*kmsg.MetadataResponse](rc, 12, req)
	mt := resp.Topics[0]
	if mt.ErrorCode != 0 || len(mt.Partitions) != 3 || mt.TopicID == ([16]byte{}) {
		t.Fatalf("auto-created topic: error %d, %d partitions, id %x", mt.ErrorCode, len(mt.Partitions), mt.TopicID)
	}
	for i, p := range mt.Partitions {
		if p.Partition != int32(i) || p.Leader != 1 || len(p.Replicas) != 1 || len(p.ISR) != 1 {
			t.Fatalf("partition %d: %+v", i, p)
		}
	}
	// Before v4 there is no flag: creation is always allowed.
	resp = do[*kmsg.MetadataResponse](rc, 3, metadataFor("auto-v3"))
	if resp.Topics[0].ErrorCode != 0 || tb.b.topicByName("auto-v3") == nil {
		t.Fatalf("v3 auto-create: error %d", resp.Topics[0].ErrorCode)
	}
	// Invalid names are refused, never created.
	req = metadataFor("bad/name")
	req.AllowAutoTopicCreation = true
	resp = do[*kmsg.MetadataResponse](rc, 12, req)
	if resp.Topics[0].ErrorCode != kerr.InvalidTopicException.Code {
		t.Fatalf("invalid name: error %d", resp.Topics[0].ErrorCode)
	}
}

func TestMetadataAutoCreateOff(t *testing.T) {
	tb := startBroker(t, func(c *Config) { c.AutoCreateTopics = false })
	rc := tb.dial(t)
	for _, v := range []int16{0, 3, 12} {
		req := metadataFor("nope")
		req.AllowAutoTopicCreation = true
		resp := do[*kmsg.MetadataResponse](rc, v, req)
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("v%d: %+v", v, resp.Topics)
		}
	}
	if tb.b.topicByName("nope") != nil {
		t.Fatal("topic created with auto.create.topics.enable off")
	}
}

func TestMetadataAllTopicsAndBrokers(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("b-topic", 2, nil)
	rc.createTopic("a-topic", 1, nil)
	// Null topics (v1+) and an empty list at v0 both mean all topics.
	for _, v := range []int16{0, 1, 9, 13} {
		req := kmsg.NewPtrMetadataRequest()
		if v == 0 {
			req.Topics = []kmsg.MetadataRequestTopic{}
		}
		resp := do[*kmsg.MetadataResponse](rc, v, req)
		if len(resp.Topics) != 2 || *resp.Topics[0].Topic != "a-topic" || *resp.Topics[1].Topic != "b-topic" {
			t.Fatalf("v%d: topics %+v", v, resp.Topics)
		}
		if len(resp.Topics[1].Partitions) != 2 {
			t.Fatalf("v%d: b-topic has %d partitions", v, len(resp.Topics[1].Partitions))
		}
		if len(resp.Brokers) != 1 || resp.Brokers[0].NodeID != 1 || resp.Brokers[0].Port == 0 {
			t.Fatalf("v%d: brokers %+v", v, resp.Brokers)
		}
		if v >= 2 && (resp.ClusterID == nil || *resp.ClusterID == "") {
			t.Fatalf("v%d: no cluster id", v)
		}
		if v >= 1 && resp.ControllerID != 1 {
			t.Fatalf("v%d: controller %d", v, resp.ControllerID)
		}
	}
	// v1+ with an empty list means no topics.
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{}
	if resp := do[*kmsg.MetadataResponse](rc, 9, req); len(resp.Topics) != 0 {
		t.Fatalf("empty list at v9 returned %d topics", len(resp.Topics))
	}
}

func TestMetadataByTopicID(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	id := rc.createTopic("by-id", 2, nil)

	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{{TopicID: id}, {TopicID: [16]byte{0xde, 0xad}}}
	resp := do[*kmsg.MetadataResponse](rc, 12, req)
	if len(resp.Topics) != 2 {
		t.Fatalf("%d topics", len(resp.Topics))
	}
	known, unknown := resp.Topics[0], resp.Topics[1]
	if known.ErrorCode != 0 || known.Topic == nil || *known.Topic != "by-id" || known.TopicID != id || len(known.Partitions) != 2 {
		t.Fatalf("by id: %+v", known)
	}
	if unknown.ErrorCode != kerr.UnknownTopicID.Code || unknown.TopicID != ([16]byte{0xde, 0xad}) {
		t.Fatalf("unknown id: error %d id %x", unknown.ErrorCode, unknown.TopicID)
	}
	// By name at v10+ the response carries the id.
	resp = do[*kmsg.MetadataResponse](rc, 10, metadataFor("by-id"))
	if resp.Topics[0].TopicID != id {
		t.Fatalf("by name v10: id %x, want %x", resp.Topics[0].TopicID, id)
	}
}
