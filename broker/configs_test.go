package broker

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type cfgVal struct {
	value  string
	source kmsg.ConfigSource
}

// describeTopic returns the topic's configs by name.
func describeTopic(rc *rawConn, v int16, topic string) (int16, map[string]cfgVal) {
	rc.t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.Resources = []kmsg.DescribeConfigsRequestResource{{ResourceType: resourceTopic, ResourceName: topic}}
	resp := do[*kmsg.DescribeConfigsResponse](rc, v, req)
	if len(resp.Resources) != 1 {
		rc.t.Fatalf("%d resources", len(resp.Resources))
	}
	out := map[string]cfgVal{}
	for _, c := range resp.Resources[0].Configs {
		if c.Value == nil {
			rc.t.Fatalf("%s: null value", c.Name)
		}
		out[c.Name] = cfgVal{*c.Value, c.Source}
	}
	return resp.Resources[0].ErrorCode, out
}

func alterConfigs(rc *rawConn, topic string, validateOnly bool, kv ...string) kmsg.AlterConfigsResponseResource {
	rc.t.Helper()
	req := kmsg.NewPtrAlterConfigsRequest()
	req.ValidateOnly = validateOnly
	rr := kmsg.AlterConfigsRequestResource{ResourceType: resourceTopic, ResourceName: topic}
	for i := 0; i < len(kv); i += 2 {
		rr.Configs = append(rr.Configs, kmsg.AlterConfigsRequestResourceConfig{Name: kv[i], Value: kmsg.StringPtr(kv[i+1])})
	}
	req.Resources = append(req.Resources, rr)
	return do[*kmsg.AlterConfigsResponse](rc, 2, req).Resources[0]
}

type op struct {
	name  string
	op    kmsg.IncrementalAlterConfigOp
	value *string
}

func incAlter(rc *rawConn, typ kmsg.ConfigResourceType, name string, validateOnly bool, ops ...op) kmsg.IncrementalAlterConfigsResponseResource {
	rc.t.Helper()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	req.ValidateOnly = validateOnly
	rr := kmsg.IncrementalAlterConfigsRequestResource{ResourceType: typ, ResourceName: name}
	for _, o := range ops {
		rr.Configs = append(rr.Configs, kmsg.IncrementalAlterConfigsRequestResourceConfig{Name: o.name, Op: o.op, Value: o.value})
	}
	req.Resources = append(req.Resources, rr)
	return do[*kmsg.IncrementalAlterConfigsResponse](rc, 1, req).Resources[0]
}

func TestDescribeConfigsTopic(t *testing.T) {
	tb := startBroker(t, func(c *Config) { c.TopicDefaults = map[string]string{"segment.ms": "3600000"} })
	rc := tb.dial(t)
	rc.createTopic("dc", 1, map[string]string{"retention.ms": "1000"})
	for _, v := range []int16{1, 3, 4} {
		code, cfgs := describeTopic(rc, v, "dc")
		if code != 0 {
			t.Fatalf("v%d: error %d", v, code)
		}
		want := map[string]cfgVal{
			"retention.ms":          {"1000", kmsg.ConfigSourceDynamicTopicConfig},
			"segment.ms":            {"3600000", kmsg.ConfigSourceStaticBrokerConfig},
			"cleanup.policy":        {"delete", kmsg.ConfigSourceDefaultConfig},
			"remote.storage.enable": {"true", kmsg.ConfigSourceDefaultConfig},
			"max.message.bytes":     {"1048588", kmsg.ConfigSourceDefaultConfig},
		}
		for name, w := range want {
			if got, ok := cfgs[name]; !ok || got != w {
				t.Errorf("v%d %s = %+v, want %+v", v, name, got, w)
			}
		}
	}
	// Only the named configs when names are given.
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.Resources = []kmsg.DescribeConfigsRequestResource{{ResourceType: resourceTopic, ResourceName: "dc", ConfigNames: []string{"retention.ms"}}}
	req.IncludeSynonyms, req.IncludeDocumentation = true, true
	resp := do[*kmsg.DescribeConfigsResponse](rc, 4, req)
	if cs := resp.Resources[0].Configs; len(cs) != 1 || cs[0].Name != "retention.ms" || len(cs[0].ConfigSynonyms) == 0 || cs[0].ConfigType != kmsg.ConfigTypeLong {
		t.Fatalf("named config: %+v", cs)
	}
	if code, _ := describeTopic(rc, 4, "nope"); code != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic: error %d", code)
	}
}

func TestDescribeConfigsBroker(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.Resources = []kmsg.DescribeConfigsRequestResource{
		{ResourceType: resourceBroker, ResourceName: "1"},
		{ResourceType: resourceBroker, ResourceName: "2"},
	}
	resp := do[*kmsg.DescribeConfigsResponse](rc, 4, req)
	mine, other := resp.Resources[0], resp.Resources[1]
	if mine.ErrorCode != 0 {
		t.Fatalf("broker 1: error %d", mine.ErrorCode)
	}
	found := false
	for _, c := range mine.Configs {
		if !c.ReadOnly {
			t.Errorf("broker config %s is not read-only", c.Name)
		}
		if c.Name == "broker.id" {
			found = c.Value != nil && *c.Value == "1"
		}
	}
	if !found {
		t.Error("broker.id=1 not listed")
	}
	if other.ErrorCode == 0 || len(other.Configs) != 0 {
		t.Fatalf("other broker: error %d, %d configs", other.ErrorCode, len(other.Configs))
	}
}

func TestAlterConfigs(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("ac", 1, map[string]string{"retention.ms": "1000"})

	// Non-incremental: the given set replaces every explicit config.
	if r := alterConfigs(rc, "ac", false, "segment.ms", "60000"); r.ErrorCode != 0 {
		t.Fatalf("alter: error %d", r.ErrorCode)
	}
	_, cfgs := describeTopic(rc, 4, "ac")
	if cfgs["segment.ms"] != (cfgVal{"60000", kmsg.ConfigSourceDynamicTopicConfig}) {
		t.Fatalf("segment.ms = %+v", cfgs["segment.ms"])
	}
	if cfgs["retention.ms"].source != kmsg.ConfigSourceDefaultConfig {
		t.Fatalf("retention.ms not reset by non-incremental alter: %+v", cfgs["retention.ms"])
	}
	// Invalid values and unknown names: INVALID_CONFIG, nothing changes.
	for _, kv := range [][]string{
		{"retention.ms", "1000", "segment.ms", "soon"},
		{"retention.ms", "1000", "no.such.config", "1"},
		{"cleanup.policy", "forever"},
		{"min.insync.replicas", "0"},
	} {
		r := alterConfigs(rc, "ac", false, kv...)
		if r.ErrorCode != kerr.InvalidConfig.Code {
			t.Fatalf("alter %v: error %d, want INVALID_CONFIG", kv, r.ErrorCode)
		}
	}
	// ValidateOnly changes nothing.
	if r := alterConfigs(rc, "ac", true, "retention.ms", "5"); r.ErrorCode != 0 {
		t.Fatalf("validate only: error %d", r.ErrorCode)
	}
	_, after := describeTopic(rc, 4, "ac")
	if after["segment.ms"].value != "60000" || after["retention.ms"].source != kmsg.ConfigSourceDefaultConfig {
		t.Fatalf("configs changed by failed or validate-only alters: segment.ms %+v retention.ms %+v", after["segment.ms"], after["retention.ms"])
	}
	if r := alterConfigs(rc, "nope", false, "retention.ms", "5"); r.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic: error %d", r.ErrorCode)
	}
	// Broker configs are static.
	req := kmsg.NewPtrAlterConfigsRequest()
	req.Resources = []kmsg.AlterConfigsRequestResource{{ResourceType: resourceBroker, ResourceName: "1",
		Configs: []kmsg.AlterConfigsRequestResourceConfig{{Name: "num.partitions", Value: kmsg.StringPtr("3")}}}}
	if r := do[*kmsg.AlterConfigsResponse](rc, 0, req).Resources[0]; r.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("broker alter: error %d", r.ErrorCode)
	}
}

func TestAlterConfigsAppliesToLog(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("ac-max", 1, nil)
	big := plainBatch(1, string(make([]byte, 300)))
	rc.mustProduce("ac-max", 0, big)
	if r := alterConfigs(rc, "ac-max", false, "max.message.bytes", "200"); r.ErrorCode != 0 {
		t.Fatalf("alter: error %d", r.ErrorCode)
	}
	if r := rc.produce("ac-max", 0, big); r.ErrorCode != kerr.MessageTooLarge.Code {
		t.Fatalf("produce above the new max.message.bytes: error %d", r.ErrorCode)
	}
}

func TestIncrementalAlterConfigs(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("iac", 1, map[string]string{"retention.ms": "1000"})
	s := kmsg.StringPtr
	const (
		set      = kmsg.IncrementalAlterConfigOpSet
		del      = kmsg.IncrementalAlterConfigOpDelete
		appendOp = kmsg.IncrementalAlterConfigOpAppend
		subtract = kmsg.IncrementalAlterConfigOpSubtract
	)
	// SET keeps the other explicit configs.
	if r := incAlter(rc, resourceTopic, "iac", false, op{"segment.ms", set, s("60000")}); r.ErrorCode != 0 {
		t.Fatalf("SET: error %d", r.ErrorCode)
	}
	_, cfgs := describeTopic(rc, 4, "iac")
	if cfgs["segment.ms"].value != "60000" || cfgs["retention.ms"] != (cfgVal{"1000", kmsg.ConfigSourceDynamicTopicConfig}) {
		t.Fatalf("after SET: segment.ms %+v retention.ms %+v", cfgs["segment.ms"], cfgs["retention.ms"])
	}
	// DELETE returns to the default.
	if r := incAlter(rc, resourceTopic, "iac", false, op{"retention.ms", del, nil}); r.ErrorCode != 0 {
		t.Fatalf("DELETE: error %d", r.ErrorCode)
	}
	if _, cfgs = describeTopic(rc, 4, "iac"); cfgs["retention.ms"] != (cfgVal{"604800000", kmsg.ConfigSourceDefaultConfig}) {
		t.Fatalf("after DELETE: %+v", cfgs["retention.ms"])
	}
	// APPEND and SUBTRACT edit list configs.
	if r := incAlter(rc, resourceTopic, "iac", false, op{"cleanup.policy", appendOp, s("compact")}); r.ErrorCode != 0 {
		t.Fatalf("APPEND: error %d", r.ErrorCode)
	}
	if _, cfgs = describeTopic(rc, 4, "iac"); cfgs["cleanup.policy"].value != "delete,compact" {
		t.Fatalf("after APPEND: %+v", cfgs["cleanup.policy"])
	}
	if r := incAlter(rc, resourceTopic, "iac", false, op{"cleanup.policy", appendOp, s("compact")}); r.ErrorCode != 0 {
		t.Fatalf("APPEND again: error %d", r.ErrorCode)
	}
	if _, cfgs = describeTopic(rc, 4, "iac"); cfgs["cleanup.policy"].value != "delete,compact" {
		t.Fatalf("APPEND of a present item duplicated it: %+v", cfgs["cleanup.policy"])
	}
	if r := incAlter(rc, resourceTopic, "iac", false, op{"cleanup.policy", subtract, s("delete")}); r.ErrorCode != 0 {
		t.Fatalf("SUBTRACT: error %d", r.ErrorCode)
	}
	if _, cfgs = describeTopic(rc, 4, "iac"); cfgs["cleanup.policy"].value != "compact" {
		t.Fatalf("after SUBTRACT: %+v", cfgs["cleanup.policy"])
	}

	// Errors: nothing in the resource is applied.
	bad := []struct {
		name string
		ops  []op
		code int16
	}{
		{"invalid value", []op{{"segment.ms", set, s("1")}, {"retention.ms", set, s("-7")}}, kerr.InvalidConfig.Code},
		{"unknown name", []op{{"segment.ms", set, s("1")}, {"bogus", set, s("1")}}, kerr.InvalidConfig.Code},
		{"APPEND to non-list", []op{{"segment.ms", set, s("1")}, {"retention.ms", appendOp, s("5")}}, kerr.InvalidConfig.Code},
		{"SUBTRACT from non-list", []op{{"retention.ms", subtract, s("5")}}, kerr.InvalidConfig.Code},
		{"APPEND invalid item", []op{{"cleanup.policy", appendOp, s("shred")}}, kerr.InvalidConfig.Code},
		{"name twice", []op{{"segment.ms", set, s("1")}, {"segment.ms", set, s("2")}}, kerr.InvalidRequest.Code},
		{"unknown op", []op{{"segment.ms", 9, s("1")}}, kerr.InvalidRequest.Code},
	}
	for _, b := range bad {
		r := incAlter(rc, resourceTopic, "iac", false, b.ops...)
		if r.ErrorCode != b.code {
			t.Errorf("%s: error %d, want %d", b.name, r.ErrorCode, b.code)
		}
	}
	// ValidateOnly changes nothing.
	if r := incAlter(rc, resourceTopic, "iac", true, op{"segment.ms", set, s("5")}); r.ErrorCode != 0 {
		t.Fatalf("validate only: error %d", r.ErrorCode)
	}
	if _, cfgs = describeTopic(rc, 4, "iac"); cfgs["segment.ms"].value != "60000" || cfgs["cleanup.policy"].value != "compact" {
		t.Fatalf("configs changed by failed or validate-only requests: segment.ms %+v cleanup.policy %+v", cfgs["segment.ms"], cfgs["cleanup.policy"])
	}
	if r := incAlter(rc, resourceTopic, "nope", false, op{"segment.ms", set, s("5")}); r.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic: error %d", r.ErrorCode)
	}
	if r := incAlter(rc, resourceBroker, "1", false, op{"num.partitions", set, s("5")}); r.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("broker resource: error %d", r.ErrorCode)
	}
}
