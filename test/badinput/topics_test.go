package badinput

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func createTopicsReq(name string, partitions int32, rf int16, configs map[string]string) *kmsg.CreateTopicsRequest {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 15000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, partitions, rf
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	return req
}

// createTopicCode sends one CreateTopics and returns the topic's error code.
func (e *env) createTopicCode(t testing.TB, req *kmsg.CreateTopicsRequest) int16 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, e.cl)
	if err != nil {
		t.Fatalf("CreateTopics: %v", err)
	}
	if len(resp.Topics) != 1 {
		t.Fatalf("CreateTopics answered %d topics, want 1", len(resp.Topics))
	}
	return resp.Topics[0].ErrorCode
}

// topicExists asks Metadata about one topic.
func (e *env) topicExists(t testing.TB, name string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(name)
	req.Topics = append(req.Topics, mt)
	resp, err := req.RequestWith(ctx, e.cl)
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	if len(resp.Topics) != 1 {
		t.Fatalf("Metadata answered %d topics, want 1", len(resp.Topics))
	}
	switch code := resp.Topics[0].ErrorCode; code {
	case 0:
		return true
	case kerr.UnknownTopicOrPartition.Code:
		return false
	default:
		t.Fatalf("Metadata for %q: error %v", name, kerr.ErrorForCode(code))
		return false
	}
}

// TestCreateTopicsInvalid: names, counts and configs Kafka refuses.
func TestCreateTopicsInvalid(t *testing.T) {
	e := shared(t)
	for _, name := range []string{"", ".", "..", "a/b", strings.Repeat("a", 250), "with space", "ünïcode", "a\x00b"} {
		code := e.createTopicCode(t, createTopicsReq(name, 1, 1, nil))
		wantCode(t, "create topic "+shorten(name), code, kerr.InvalidTopicException)
	}
	// 249 characters is the longest valid name.
	long := strings.Repeat("b", 249)
	wantNoErr(t, "create 249-char topic", e.createTopicCode(t, createTopicsReq(long, 1, 1, nil)))

	const dup = "create-dup"
	wantNoErr(t, "create "+dup, e.createTopicCode(t, createTopicsReq(dup, 2, 1, nil)))
	wantCode(t, "create "+dup+" again", e.createTopicCode(t, createTopicsReq(dup, 2, 1, nil)), kerr.TopicAlreadyExists)
	wantCode(t, "create "+dup+" again with other settings", e.createTopicCode(t, createTopicsReq(dup, 5, 1, nil)), kerr.TopicAlreadyExists)

	for _, p := range []int32{0, -2, -100} {
		name := "create-partitions-bad"
		wantCode(t, "partitions "+itoa(int64(p)), e.createTopicCode(t, createTopicsReq(name, p, 1, nil)), kerr.InvalidPartitions)
		if e.topicExists(t, name) {
			t.Errorf("topic %s exists after a refused create", name)
		}
	}
	for _, rf := range []int16{3, 2, 0, -2} {
		name := "create-rf-bad"
		wantCode(t, "replication factor "+itoa(int64(rf)), e.createTopicCode(t, createTopicsReq(name, 1, rf, nil)), kerr.InvalidReplicationFactor)
		if e.topicExists(t, name) {
			t.Errorf("topic %s exists after a refused create", name)
		}
	}
	for _, cfg := range invalidConfigs {
		name := "create-config-bad"
		code := e.createTopicCode(t, createTopicsReq(name, 1, 1, map[string]string{cfg.name: cfg.value}))
		wantCode(t, "create with "+cfg.name+"="+cfg.value, code, kerr.InvalidConfig)
		if e.topicExists(t, name) {
			t.Errorf("topic %s exists after a create refused for %s=%s", name, cfg.name, cfg.value)
		}
	}
	// The duplicate's partition count did not change.
	if _, end := offsets(t, e.b.Addr, dup, 1); end != 0 {
		t.Errorf("%s/1 end offset %d", dup, end)
	}
	e.afterCase(t)
}

type kv struct{ name, value string }

var invalidConfigs = []kv{
	{"no.such.config", "1"},
	{"retention.ms", "abc"},
	{"retention.ms", "-5"},
	{"cleanup.policy", "bogus"},
	{"max.message.bytes", "-1"},
	{"segment.bytes", "1"},
	{"min.insync.replicas", "0"},
	{"unclean.leader.election.enable", "maybe"},
}

// TestAlterConfigsInvalid: AlterConfigs and IncrementalAlterConfigs refuse
// invalid configs with INVALID_CONFIG and leave the topic's configs as
// they were.
func TestAlterConfigsInvalid(t *testing.T) {
	e := shared(t)
	const topic = "alter-bad"
	e.createTopic(t, topic, 1, map[string]*string{"retention.ms": kmsg.StringPtr("123456"), "cleanup.policy": kmsg.StringPtr("delete")})
	before := e.describeTopicConfigs(t, topic)
	if before["retention.ms"] != "123456" || before["cleanup.policy"] != "delete" {
		t.Fatalf("configs after create: retention.ms=%q cleanup.policy=%q", before["retention.ms"], before["cleanup.policy"])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, cfg := range invalidConfigs {
		// AlterConfigs (replaces all configs): one valid and one invalid.
		areq := kmsg.NewPtrAlterConfigsRequest()
		ar := kmsg.NewAlterConfigsRequestResource()
		ar.ResourceType, ar.ResourceName = kmsg.ConfigResourceTypeTopic, topic
		for _, c := range []kv{{"retention.ms", "999"}, cfg} {
			rc := kmsg.NewAlterConfigsRequestResourceConfig()
			rc.Name, rc.Value = c.name, kmsg.StringPtr(c.value)
			ar.Configs = append(ar.Configs, rc)
		}
		areq.Resources = append(areq.Resources, ar)
		aresp, err := areq.RequestWith(ctx, e.cl)
		if err != nil || len(aresp.Resources) != 1 {
			t.Fatalf("AlterConfigs: %v %+v", err, aresp)
		}
		wantCode(t, "AlterConfigs "+cfg.name+"="+cfg.value, aresp.Resources[0].ErrorCode, kerr.InvalidConfig)

		// IncrementalAlterConfigs SET, again with a valid one beside it.
		ireq := kmsg.NewPtrIncrementalAlterConfigsRequest()
		ir := kmsg.NewIncrementalAlterConfigsRequestResource()
		ir.ResourceType, ir.ResourceName = kmsg.ConfigResourceTypeTopic, topic
		for _, c := range []kv{{"segment.ms", "1000000"}, cfg} {
			rc := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			rc.Name, rc.Op, rc.Value = c.name, kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr(c.value)
			ir.Configs = append(ir.Configs, rc)
		}
		ireq.Resources = append(ireq.Resources, ir)
		iresp, err := ireq.RequestWith(ctx, e.cl)
		if err != nil || len(iresp.Resources) != 1 {
			t.Fatalf("IncrementalAlterConfigs: %v %+v", err, iresp)
		}
		wantCode(t, "IncrementalAlterConfigs SET "+cfg.name+"="+cfg.value, iresp.Resources[0].ErrorCode, kerr.InvalidConfig)

		after := e.describeTopicConfigs(t, topic)
		for name, v := range before {
			if after[name] != v {
				t.Errorf("after refused %s=%s: %s changed %q -> %q", cfg.name, cfg.value, name, v, after[name])
			}
		}
	}
	// APPEND to a non-list config is INVALID_CONFIG in Kafka too.
	ireq := kmsg.NewPtrIncrementalAlterConfigsRequest()
	ir := kmsg.NewIncrementalAlterConfigsRequestResource()
	ir.ResourceType, ir.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	rc := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	rc.Name, rc.Op, rc.Value = "retention.ms", kmsg.IncrementalAlterConfigOpAppend, kmsg.StringPtr("5")
	ir.Configs = append(ir.Configs, rc)
	ireq.Resources = append(ireq.Resources, ir)
	iresp, err := ireq.RequestWith(ctx, e.cl)
	if err != nil || len(iresp.Resources) != 1 {
		t.Fatalf("IncrementalAlterConfigs: %v", err)
	}
	wantCode(t, "IncrementalAlterConfigs APPEND retention.ms", iresp.Resources[0].ErrorCode, kerr.InvalidConfig)
	if after := e.describeTopicConfigs(t, topic); after["retention.ms"] != "123456" {
		t.Errorf("retention.ms = %q after refused APPEND", after["retention.ms"])
	}
	e.afterCase(t)
}

// describeTopicConfigs returns every config value of a topic.
func (e *env) describeTopicConfigs(t testing.TB, topic string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req := kmsg.NewPtrDescribeConfigsRequest()
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	req.Resources = append(req.Resources, r)
	resp, err := req.RequestWith(ctx, e.cl)
	if err != nil || len(resp.Resources) != 1 {
		t.Fatalf("DescribeConfigs %s: %v", topic, err)
	}
	if code := resp.Resources[0].ErrorCode; code != 0 {
		t.Fatalf("DescribeConfigs %s: %v", topic, kerr.ErrorForCode(code))
	}
	out := map[string]string{}
	for _, c := range resp.Resources[0].Configs {
		if c.Value != nil {
			out[c.Name] = *c.Value
		}
	}
	if len(out) == 0 {
		t.Fatalf("DescribeConfigs %s returned no configs", topic)
	}
	return out
}

func shorten(s string) string {
	if len(s) > 20 {
		return s[:10] + "...(" + itoa(int64(len(s))) + " chars)"
	}
	return "\"" + s + "\""
}
