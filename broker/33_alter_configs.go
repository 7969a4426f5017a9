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
		code, msg := func() (int16, string) {
			switch rr.ResourceType {
			case resourceTopic:
			case resourceBroker:
				return brokerAlterRefusal(b, rr.ResourceName)
			default:
				return kerr.InvalidRequest.Code, "unsupported resource type"
			}
			t := b.topicByName(rr.ResourceName)
			if t == nil {
				return kerr.UnknownTopicOrPartition.Code, "topic " + rr.ResourceName + " does not exist"
			}
			configs := map[string]string{}
			for _, kv := range rr.Configs {
				if err := validateTopicConfig(kv.Name, kv.Value); err != nil {
					return kerr.InvalidConfig.Code, err.Error()
				}
				configs[kv.Name] = *kv.Value
			}
			if req.ValidateOnly {
				return 0, ""
			}
			if err := b.setTopicConfigs(c.ctx, t, configs); err != nil {
				b.log.Error("alter configs", "topic", t.name, "err", err)
				return kerr.UnknownServerError.Code, err.Error()
			}
			b.log.Info("altered topic configs", "topic", t.name, "configs", configs)
			return 0, ""
		}()
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
