package broker

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// IncrementalAlterConfigs: v0-1
//
// Behavior:
//   - Per-config operations on a topic: SET (0), DELETE (1, back to the
//     default), APPEND (2) and SUBTRACT (3) for list configs only. Every
//     result is validated before anything is stored (INVALID_CONFIG); a
//     name twice in one resource is INVALID_REQUEST.
//   - Broker configs are static: refused with INVALID_REQUEST.
//   - ValidateOnly checks and changes nothing.
//
// Version notes:
//   - v1: flexible
func init() { register(44, 0, 1, handleIncrementalAlterConfigs) }

func handleIncrementalAlterConfigs(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, rr := range req.Resources {
		sr := kmsg.NewIncrementalAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		code, msg := b.alterTopicConfigs(c, rr.ResourceType, rr.ResourceName, req.ValidateOnly, func(current map[string]string) (map[string]string, int16, string) {
			return b.applyConfigOps(current, rr.Configs)
		})
		sr.ErrorCode = code
		if msg != "" {
			sr.ErrorMessage = &msg
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return now(resp)
}

// applyConfigOps applies SET/DELETE/APPEND/SUBTRACT to a copy of current.
func (b *Broker) applyConfigOps(current map[string]string, ops []kmsg.IncrementalAlterConfigsRequestResourceConfig) (map[string]string, int16, string) {
	configs := make(map[string]string, len(current))
	for k, v := range current {
		configs[k] = v
	}
	seen := map[string]bool{}
	for _, op := range ops {
		if seen[op.Name] {
			return nil, kerr.InvalidRequest.Code, "config " + op.Name + " appears more than once"
		}
		seen[op.Name] = true
		def, ok := topicConfigDefs[op.Name]
		if !ok {
			return nil, kerr.InvalidConfig.Code, "unknown topic config name: " + op.Name
		}
		switch op.Op {
		case 0:
			if err := validateTopicConfig(op.Name, op.Value); err != nil {
				return nil, kerr.InvalidConfig.Code, err.Error()
			}
			configs[op.Name] = *op.Value
		case 1:
			delete(configs, op.Name)
		case 2, 3:
			if def.typ != cfgList {
				return nil, kerr.InvalidConfig.Code, "APPEND and SUBTRACT apply only to list configs; " + op.Name + " is not one"
			}
			if op.Value == nil {
				return nil, kerr.InvalidConfig.Code, "null value for " + op.Name
			}
			cur, _ := b.topicConfigValue(configs, op.Name)
			v := editList(cur, *op.Value, op.Op == 2)
			if err := validateTopicConfig(op.Name, &v); err != nil {
				return nil, kerr.InvalidConfig.Code, err.Error()
			}
			configs[op.Name] = v
		default:
			return nil, kerr.InvalidRequest.Code, "unknown config operation"
		}
	}
	return configs, 0, ""
}

// editList appends or subtracts the comma-separated items of delta.
func editList(cur, delta string, add bool) string {
	var items []string
	for _, s := range strings.Split(cur, ",") {
		if s = strings.TrimSpace(s); s != "" {
			items = append(items, s)
		}
	}
	for _, d := range strings.Split(delta, ",") {
		d = strings.TrimSpace(d)
		idx := -1
		for i, s := range items {
			if s == d {
				idx = i
			}
		}
		switch {
		case add && idx < 0 && d != "":
			items = append(items, d)
		case !add && idx >= 0:
			items = append(items[:idx], items[idx+1:]...)
		}
	}
	return strings.Join(items, ",")
}
