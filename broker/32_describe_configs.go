package broker

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeConfigs: v1-4
//
// Behavior:
//   - Topic resources list every topic config with its value and source
//     (DYNAMIC_TOPIC_CONFIG when set on the topic, STATIC_BROKER_CONFIG
//     when the broker overrides Kafka's default, DEFAULT_CONFIG otherwise),
//     its type (v3+) and, on request, synonyms and documentation.
//   - Broker resources (this node's id, or "" for cluster defaults) list
//     the broker's settings, all read-only.
//   - Unknown topics get UNKNOWN_TOPIC_OR_PARTITION, other brokers' ids
//     INVALID_REQUEST, other resource types INVALID_REQUEST.
//
// Version notes:
//   - v1: synonyms and sources; v3: config types and documentation
//   - v4: flexible
func init() { register(32, 1, 4, handleDescribeConfigs) }

const (
	resourceTopic  kmsg.ConfigResourceType = 2
	resourceBroker kmsg.ConfigResourceType = 4
)

func handleDescribeConfigs(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		sr := kmsg.NewDescribeConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		wanted := func(name string) bool {
			if rr.ConfigNames == nil {
				return true
			}
			for _, n := range rr.ConfigNames {
				if n == name {
					return true
				}
			}
			return false
		}
		add := func(name, value string, source int8, typ int8, readOnly bool, doc string) {
			if !wanted(name) {
				return
			}
			cfg := kmsg.NewDescribeConfigsResponseResourceConfig()
			v := value
			cfg.Name, cfg.Value, cfg.Source, cfg.ConfigType, cfg.ReadOnly = name, &v, kmsg.ConfigSource(source), kmsg.ConfigType(typ), readOnly
			cfg.IsDefault = source == 5
			if req.IncludeSynonyms {
				syn := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
				syn.Name, syn.Value, syn.Source = name, &v, kmsg.ConfigSource(source)
				cfg.ConfigSynonyms = append(cfg.ConfigSynonyms, syn)
			}
			if req.IncludeDocumentation && doc != "" {
				d := doc
				cfg.Documentation = &d
			}
			sr.Configs = append(sr.Configs, cfg)
		}
		switch rr.ResourceType {
		case resourceTopic:
			t := b.topicFresh(c.ctx, rr.ResourceName)
			if t == nil {
				sr.ErrorCode = kerr.UnknownTopicOrPartition.Code
				break
			}
			configs := b.topicConfigs(t)
			for _, name := range sortedTopicConfigNames() {
				v, src := b.topicConfigValue(configs, name)
				d := topicConfigDefs[name]
				add(name, v, src, d.typ, false, d.doc)
			}
		case resourceBroker:
			if rr.ResourceName != "" && rr.ResourceName != strconv.Itoa(int(b.cfg.NodeID)) {
				sr.ErrorCode = kerr.InvalidRequest.Code
				msg := "broker " + rr.ResourceName + " is not this broker"
				sr.ErrorMessage = &msg
				break
			}
			for _, bc := range b.brokerConfigs() {
				add(bc.name, bc.value, bc.source, bc.typ, true, "")
			}
		default:
			sr.ErrorCode = kerr.InvalidRequest.Code
			msg := "unsupported resource type"
			sr.ErrorMessage = &msg
		}
		if sr.ErrorCode != 0 {
			sr.Configs = nil
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return now(resp)
}

type brokerConfig struct {
	name, value string
	source, typ int8
}

// brokerConfigs are the broker settings shown by DescribeConfigs.
func (b *Broker) brokerConfigs() []brokerConfig {
	static := func(name, value string, typ int8) brokerConfig {
		return brokerConfig{name, value, 4, typ}
	}
	out := []brokerConfig{
		static("auto.create.topics.enable", strconv.FormatBool(b.cfg.AutoCreateTopics), cfgBool),
		static("broker.id", strconv.Itoa(int(b.cfg.NodeID)), cfgInt),
		static("broker.rack", b.cfg.Rack, cfgString),
		static("default.replication.factor", strconv.Itoa(int(b.cfg.DefaultReplicationFactor)), cfgInt),
		static("group.initial.rebalance.delay.ms", strconv.FormatInt(b.cfg.GroupInitialRebalanceDelay.Milliseconds(), 10), cfgInt),
		static("group.max.session.timeout.ms", strconv.FormatInt(b.cfg.GroupMaxSessionTimeout.Milliseconds(), 10), cfgInt),
		static("group.min.session.timeout.ms", strconv.FormatInt(b.cfg.GroupMinSessionTimeout.Milliseconds(), 10), cfgInt),
		static("log.dirs", b.cfg.DataDir, cfgString),
		static("log.retention.check.interval.ms", strconv.FormatInt(b.cfg.RetentionCheckInterval.Milliseconds(), 10), cfgLong),
		static("node.id", strconv.Itoa(int(b.cfg.NodeID)), cfgInt),
		static("num.partitions", strconv.Itoa(int(b.cfg.NumPartitions)), cfgInt),
		static("socket.request.max.bytes", strconv.Itoa(int(b.cfg.SocketRequestMaxBytes)), cfgInt),
	}
	// The log.* defaults behind topic configs, as Kafka names them.
	for _, name := range sortedTopicConfigNames() {
		v, src := b.topicConfigValue(nil, name)
		out = append(out, brokerConfig{"log." + name, v, src, topicConfigDefs[name].typ})
	}
	return out
}
