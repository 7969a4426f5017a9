package broker

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AlterConfigs: v0-2
//
// Behavior:
//   - Replaces the whole set of a topic's explicit configs with the ones
//     given (Kafka's non-incremental semantics); every name and value is
//     validated first (INVALID_CONFIG) and nothing changes on error.
//   - Broker configs are static in Strata: changes are refused with
//     INVALID_REQUEST naming the limitation.
//   - ValidateOnly checks and changes nothing.
//
// Version notes:
//   - v1: no schema change; v2: flexible
func init() { register(33, 0, 2, handleAlterConfigs) }

func handleAlterConfigs(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, rr := range req.Resources {
		sr := kmsg.NewAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		code, msg := b.alterTopicConfigs(c, rr.ResourceType, rr.ResourceName, req.ValidateOnly, func(map[string]string) (map[string]string, int16, string) {
			configs := map[string]string{}
			for _, kv := range rr.Configs {
				if err := validateTopicConfig(kv.Name, kv.Value); err != nil {
					return nil, kerr.InvalidConfig.Code, err.Error()
				}
				configs[kv.Name] = *kv.Value
			}
			return configs, 0, ""
		})
		sr.ErrorCode = code
		if msg != "" {
			sr.ErrorMessage = &msg
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return now(resp)
}

func brokerAlterRefusal(b *Broker, name string) (int16, string) {
	if name != "" && name != strconv.Itoa(int(b.cfg.NodeID)) {
		return kerr.InvalidRequest.Code, "broker " + name + " is not this broker"
	}
	return kerr.InvalidRequest.Code, "broker configs are static in Strata: set them with flags, environment or the config file"
}

// alterTopicConfigs is the shared body of AlterConfigs and
// IncrementalAlterConfigs for one resource: it resolves the resource, lets
// edit compute the topic's new explicit configs from its current ones, and
// stores them unless validateOnly. It returns the resource's error code and
// message.
func (b *Broker) alterTopicConfigs(c *conn, typ kmsg.ConfigResourceType, name string, validateOnly bool,
	edit func(current map[string]string) (map[string]string, int16, string)) (int16, string) {
	switch typ {
	case resourceTopic:
	case resourceBroker:
		return brokerAlterRefusal(b, name)
	default:
		return kerr.InvalidRequest.Code, "unsupported resource type"
	}
	t := b.topicFresh(c.ctx, name)
	if t == nil {
		return kerr.UnknownTopicOrPartition.Code, "topic " + name + " does not exist"
	}
	configs, code, msg := edit(b.topicConfigs(t))
	if code != 0 {
		b.log.Info("config change refused", "topic", name, "code", code, "reason", msg, "client", c.clientID)
	}
	if code != 0 || validateOnly {
		return code, msg
	}
	if err := b.setTopicConfigs(c.ctx, t, configs); err != nil {
		b.log.Error("alter configs", "topic", t.name, "err", err)
		return adminErrorCode(err), err.Error()
	}
	b.log.Info("altered topic configs", "topic", t.name, "configs", configs)
	return 0, ""
}
