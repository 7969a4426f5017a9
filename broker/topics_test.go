package broker

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestCreateTopicsValidation(t *testing.T) {
	tb := startBroker(t, func(c *Config) { c.NumPartitions = 4 })
	rc := tb.dial(t)
	rc.createTopic("exists", 1, nil)
	topic := func(name string, parts int32, rf int16, cfg ...string) kmsg.CreateTopicsRequestTopic {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, parts, rf
		for i := 0; i < len(cfg); i += 2 {
			rt.Configs = append(rt.Configs, kmsg.CreateTopicsRequestTopicConfig{Name: cfg[i], Value: kmsg.StringPtr(cfg[i+1])})
		}
		return rt
	}
	cases := []struct {
		name string
		rt   kmsg.CreateTopicsRequestTopic
		code int16
	}{
		{"exists", topic("exists", 1, 1), kerr.TopicAlreadyExists.Code},
		{"bad name", topic("a/b", 1, 1), kerr.InvalidTopicException.Code},
		{"dot", topic(".", 1, 1), kerr.InvalidTopicException.Code},
		{"long name", topic(strings.Repeat("x", 250), 1, 1), kerr.InvalidTopicException.Code},
		{"zero partitions", topic("zp", 0, 1), kerr.InvalidPartitions.Code},
		{"rf 0", topic("rf0", 1, 0), kerr.InvalidReplicationFactor.Code},
		{"rf 3 on one broker", topic("rf3", 1, 3), kerr.InvalidReplicationFactor.Code},
		{"bad config", topic("bc", 1, 1, "retention.ms", "x"), kerr.InvalidConfig.Code},
		{"unknown config", topic("uc", 1, 1, "no.such", "1"), kerr.InvalidConfig.Code},
	}
	for _, c := range cases {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.Topics = []kmsg.CreateTopicsRequestTopic{c.rt}
		r := do[*kmsg.CreateTopicsResponse](rc, 7, req).Topics[0]
		if r.ErrorCode != c.code {
			t.Errorf("%s: error %d, want %d", c.name, r.ErrorCode, c.code)
		}
		if r.ErrorCode != 0 && (r.ErrorMessage == nil || *r.ErrorMessage == "") {
			t.Errorf("%s: no error message", c.name)
		}
		if c.rt.Topic != "exists" && tb.b.topicByName(c.rt.Topic) != nil {
			t.Errorf("%s: topic created", c.name)
		}
	}
	// -1 takes the broker defaults (v4+); ValidateOnly creates nothing.
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Topics = []kmsg.CreateTopicsRequestTopic{topic("defaults", -1, -1)}
	req.ValidateOnly = true
	r := do[*kmsg.CreateTopicsResponse](rc, 5, req).Topics[0]
	if r.ErrorCode != 0 || r.NumPartitions != 4 || r.ReplicationFactor != 1 || tb.b.topicByName("defaults") != nil {
		t.Fatalf("validate only with defaults: %+v", r)
	}
	req.ValidateOnly = false
	r = do[*kmsg.CreateTopicsResponse](rc, 5, req).Topics[0]
	if r.ErrorCode != 0 || r.NumPartitions != 4 || tb.b.topicByName("defaults") == nil {
		t.Fatalf("create with defaults: %+v", r)
	}
	// The same name twice in one request.
	req = kmsg.NewPtrCreateTopicsRequest()
	req.Topics = []kmsg.CreateTopicsRequestTopic{topic("dup", 1, 1), topic("dup", 1, 1)}
	for _, r := range do[*kmsg.CreateTopicsResponse](rc, 7, req).Topics {
		if r.ErrorCode != kerr.InvalidRequest.Code {
			t.Fatalf("duplicate in request: error %d", r.ErrorCode)
		}
	}
}

func TestDeleteTopics(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("del-name", 1, nil)
	id := rc.createTopic("del-id", 1, nil)
	rc.mustProduce("del-name", 0, plainBatch(1, "x"))

	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = 10000
	req.TopicNames = []string{"del-name", "nope"}
	resp := do[*kmsg.DeleteTopicsResponse](rc, 5, req)
	if resp.Topics[0].ErrorCode != 0 || resp.Topics[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("by name: %+v", resp.Topics)
	}
	if r := rc.produce("del-name", 0, plainBatch(1, "y")); r.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("produce after delete: error %d", r.ErrorCode)
	}
	req = kmsg.NewPtrDeleteTopicsRequest()
	req.Topics = []kmsg.DeleteTopicsRequestTopic{{TopicID: id}, {TopicID: [16]byte{7}}}
	resp = do[*kmsg.DeleteTopicsResponse](rc, 6, req)
	if resp.Topics[0].ErrorCode != 0 || resp.Topics[0].Topic == nil || *resp.Topics[0].Topic != "del-id" {
		t.Fatalf("by id: %+v", resp.Topics[0])
	}
	if resp.Topics[1].ErrorCode != kerr.UnknownTopicID.Code {
		t.Fatalf("unknown id: error %d", resp.Topics[1].ErrorCode)
	}
	// The name can be reused, with a fresh log.
	newID := rc.createTopic("del-name", 1, nil)
	if newID == id {
		t.Fatal("recreated topic reused an id")
	}
	if p := listOffsets(rc, 5, "del-name", 0, -1); p.Offset != 0 {
		t.Fatalf("recreated topic has log end %d", p.Offset)
	}
}
