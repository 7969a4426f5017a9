package broker

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/strata-io/strata/broker/partlog"
)

// Kafka's DescribeConfigs config types (KIP-569).
const (
	cfgBool   int8 = 1
	cfgString int8 = 2
	cfgInt    int8 = 3
	cfgLong   int8 = 5
	cfgDouble int8 = 6
	cfgList   int8 = 7
)

type configDef struct {
	name     string
	def      string
	typ      int8
	validate func(string) error
	doc      string
}

func longAtLeast(min int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("value %q is not a number", v)
		}
		if n < min {
			return fmt.Errorf("value %d must be at least %d", n, min)
		}
		return nil
	}
}

func intAtLeast(min int64) func(string) error {
	long := longAtLeast(min)
	return func(v string) error {
		if err := long(v); err != nil {
			return err
		}
		if n, _ := strconv.ParseInt(v, 10, 64); n > 1<<31-1 {
			return fmt.Errorf("value %d is out of int range", n)
		}
		return nil
	}
}

func oneOf(opts ...string) func(string) error {
	return func(v string) error {
		for _, o := range opts {
			if v == o {
				return nil
			}
		}
		return fmt.Errorf("value %q must be one of %s", v, strings.Join(opts, ", "))
	}
}

func listOf(opts ...string) func(string) error {
	one := oneOf(opts...)
	return func(v string) error {
		for _, p := range strings.Split(v, ",") {
			if err := one(strings.TrimSpace(p)); err != nil {
				return err
			}
		}
		return nil
	}
}

func isBool(v string) error {
	if v != "true" && v != "false" {
		return fmt.Errorf("value %q must be true or false", v)
	}
	return nil
}

func ratio(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		return fmt.Errorf("value %q must be a number in [0,1]", v)
	}
	return nil
}

// topicConfigDefs are the topic configs Strata accepts, with Kafka's names
// and defaults. Unknown names are refused with INVALID_CONFIG.
var topicConfigDefs = map[string]configDef{}

func init() {
	for _, d := range []configDef{
		{"cleanup.policy", "delete", cfgList, listOf("delete", "compact"), "delete: retention removes old segments; compact is accepted but not compacted yet (nothing is deleted)"},
		{"compression.type", "producer", cfgString, oneOf("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"), "batches are stored as the producer sent them"},
		{"delete.retention.ms", "86400000", cfgLong, longAtLeast(0), ""},
		{"file.delete.delay.ms", "60000", cfgLong, longAtLeast(0), ""},
		{"flush.messages", "9223372036854775807", cfgLong, longAtLeast(1), ""},
		{"flush.ms", "9223372036854775807", cfgLong, longAtLeast(0), ""},
		{"index.interval.bytes", "4096", cfgInt, intAtLeast(0), ""},
		{"local.retention.bytes", "-2", cfgLong, longAtLeast(-2), ""},
		{"local.retention.ms", "-2", cfgLong, longAtLeast(-2), ""},
		{"max.compaction.lag.ms", "9223372036854775807", cfgLong, longAtLeast(1), ""},
		{"max.message.bytes", "1048588", cfgInt, intAtLeast(0), ""},
		{"message.timestamp.after.max.ms", "9223372036854775807", cfgLong, longAtLeast(0), ""},
		{"message.timestamp.before.max.ms", "9223372036854775807", cfgLong, longAtLeast(0), ""},
		{"message.timestamp.type", "CreateTime", cfgString, oneOf("CreateTime"), "LogAppendTime is not supported yet"},
		{"min.cleanable.dirty.ratio", "0.5", cfgDouble, ratio, ""},
		{"min.compaction.lag.ms", "0", cfgLong, longAtLeast(0), ""},
		{"min.insync.replicas", "1", cfgInt, intAtLeast(1), ""},
		{"preallocate", "false", cfgBool, isBool, ""},
		{"remote.storage.enable", "true", cfgBool, isBool, ""},
		{"retention.bytes", "-1", cfgLong, longAtLeast(-1), ""},
		{"retention.ms", "604800000", cfgLong, longAtLeast(-1), ""},
		{"segment.bytes", "1073741824", cfgInt, intAtLeast(14), ""},
		{"segment.index.bytes", "10485760", cfgInt, intAtLeast(4), ""},
		{"segment.jitter.ms", "0", cfgLong, longAtLeast(0), ""},
		{"segment.ms", "604800000", cfgLong, longAtLeast(1), ""},
		{"unclean.leader.election.enable", "false", cfgBool, isBool, ""},
	} {
		topicConfigDefs[d.name] = d
	}
}

func sortedTopicConfigNames() []string {
	names := make([]string, 0, len(topicConfigDefs))
	for n := range topicConfigDefs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// validateTopicConfig checks one name/value pair.
func validateTopicConfig(name string, value *string) error {
	d, ok := topicConfigDefs[name]
	if !ok {
		return fmt.Errorf("unknown topic config name: %s", name)
	}
	if value == nil {
		return fmt.Errorf("null value not supported for topic config %s", name)
	}
	if err := d.validate(*value); err != nil {
		return fmt.Errorf("invalid value for %s: %w", name, err)
	}
	return nil
}

// topicConfigValue resolves a config: the topic's own value, else the
// broker-level default, else Kafka's default. source is the Kafka
// DescribeConfigs source (1 dynamic topic, 4 static broker, 5 default).
func (b *Broker) topicConfigValue(configs map[string]string, name string) (value string, source int8) {
	if v, ok := configs[name]; ok {
		return v, 1
	}
	if v, ok := b.cfg.TopicDefaults[name]; ok {
		return v, 4
	}
	return topicConfigDefs[name].def, 5
}

func (b *Broker) configInt64(configs map[string]string, name string) int64 {
	v, _ := b.topicConfigValue(configs, name)
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// logConfig derives the partition log settings from topic configs.
func (b *Broker) logConfig(configs map[string]string) partlog.Config {
	cfg := partlog.Config{
		SegmentBytes:       b.configInt64(configs, "segment.bytes"),
		SegmentMs:          b.configInt64(configs, "segment.ms"),
		RetentionMs:        b.configInt64(configs, "retention.ms"),
		RetentionBytes:     b.configInt64(configs, "retention.bytes"),
		IndexIntervalBytes: int(b.configInt64(configs, "index.interval.bytes")),
	}
	cfg.RemoteStorage = b.remoteEnabled(configs)
	cfg.LocalRetentionMs = b.configInt64(configs, "local.retention.ms")
	cfg.LocalRetentionBytes = b.configInt64(configs, "local.retention.bytes")
	if pol, _ := b.topicConfigValue(configs, "cleanup.policy"); !strings.Contains(pol, "delete") {
		// Compaction is not implemented: a compact-only topic keeps everything.
		cfg.RetentionMs, cfg.RetentionBytes = -1, -1
	}
	return cfg
}
