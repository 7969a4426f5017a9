package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// parseConfigs turns k=v strings into a config map.
func parseConfigs(kvs []string) (map[string]*string, error) {
	out := make(map[string]*string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--config %q: want key=value", kv)
		}
		out[k] = &v
	}
	return out, nil
}

// topicArgs returns the topics named by --topic and positional arguments.
func topicArgs(flagTopic string, pos []string) []string {
	var ts []string
	if flagTopic != "" {
		ts = append(ts, flagTopic)
	}
	return append(ts, pos...)
}

func (e *env) topicCreate(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "topic create", "TOPIC... [--partitions N] [--replication-factor N] [--config k=v]...")
	topic := fs.String("topic", "", "topic name (or give it as an argument)")
	partitions := fs.Int("partitions", -1, "number of partitions (-1: broker default)")
	rf := fs.Int("replication-factor", -1, "replication factor (-1: broker default)")
	ifNotExists := fs.Bool("if-not-exists", false, "succeed if the topic already exists")
	var cfgs multiFlag
	fs.Var(&cfgs, "config", "topic config key=value (repeatable)")
	pos, err := parse(fs, c, args)
	if err != nil {
		return err
	}
	topics := topicArgs(*topic, pos)
	if len(topics) == 0 {
		return usagef("topic create: name a topic")
	}
	configs, err := parseConfigs(cfgs)
	if err != nil {
		return err
	}
	adm, ctx, done, err := c.newAdmin(ctx)
	if err != nil {
		return err
	}
	defer done()
	resps, err := adm.CreateTopics(ctx, int32(*partitions), int16(*rf), configs, topics...)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	type result struct {
		Topic             string `json:"topic"`
		ID                string `json:"id,omitempty"`
		Partitions        int32  `json:"partitions"`
		ReplicationFactor int16  `json:"replication_factor"`
		Created           bool   `json:"created"`
		Error             string `json:"error,omitempty"`
	}
	var results []result
	var errs []error
	for _, t := range topics {
		r, ok := resps[t]
		if !ok {
			errs = append(errs, fmt.Errorf("topic %q: missing from response", t))
			continue
		}
		res := result{Topic: t, Partitions: r.NumPartitions, ReplicationFactor: r.ReplicationFactor, Created: r.Err == nil}
		if r.Err == nil {
			res.ID = r.ID.String()
		} else if *ifNotExists && errors.Is(r.Err, kerr.TopicAlreadyExists) {
			res.Error = "already exists"
		} else {
			res.Error = kafkaErr(r.Err, r.ErrMessage).Error()
			errs = append(errs, fmt.Errorf("create topic %q: %w", t, kafkaErr(r.Err, r.ErrMessage)))
		}
		results = append(results, res)
	}
	if c.output == "json" {
		if err := writeJSON(e.stdout, results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			switch {
			case r.Created:
				fmt.Fprintf(e.stdout, "Created topic %s (partitions %d, replication factor %d).\n", r.Topic, r.Partitions, r.ReplicationFactor)
			case r.Error == "already exists":
				fmt.Fprintf(e.stdout, "Topic %s already exists.\n", r.Topic)
			}
		}
	}
	return errors.Join(errs...)
}

type topicSummary struct {
	Topic             string `json:"topic"`
	ID                string `json:"id"`
	Partitions        int    `json:"partitions"`
	ReplicationFactor int    `json:"replication_factor"`
	Internal          bool   `json:"internal"`
}

func (e *env) topicList(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "topic list", "[--internal]")
	internal := fs.Bool("internal", false, "include internal topics")
	if _, err := parse(fs, c, args); err != nil {
		return err
	}
	adm, ctx, done, err := c.newAdmin(ctx)
	if err != nil {
		return err
	}
	defer done()
	var td kadm.TopicDetails
	if *internal {
		td, err = adm.ListTopicsWithInternal(ctx)
	} else {
		td, err = adm.ListTopics(ctx)
	}
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	list := []topicSummary{}
	for _, name := range td.Names() {
		d := td[name]
		list = append(list, topicSummary{
			Topic: name, ID: d.ID.String(), Partitions: len(d.Partitions),
			ReplicationFactor: d.Partitions.NumReplicas(), Internal: d.IsInternal,
		})
	}
	if c.output == "json" {
		return writeJSON(e.stdout, list)
	}
	t := newTable(e.stdout, "TOPIC", "PARTITIONS", "REPLICATION-FACTOR", "ID")
	for _, s := range list {
		t.row(s.Topic, s.Partitions, s.ReplicationFactor, s.ID)
	}
	return t.flush()
}

type partitionInfo struct {
	Partition      int32   `json:"partition"`
	Leader         int32   `json:"leader"`
	LeaderEpoch    int32   `json:"leader_epoch"`
	Replicas       []int32 `json:"replicas"`
	ISR            []int32 `json:"isr"`
	LogStartOffset int64   `json:"log_start_offset"`
	LogEndOffset   int64   `json:"log_end_offset"`
	Error          string  `json:"error,omitempty"`
}

type topicDescription struct {
	topicSummary
	Configs       map[string]string `json:"configs"`
	PartitionList []partitionInfo   `json:"partition_details"`
}

func (e *env) topicDescribe(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "topic describe", "TOPIC...")
	topic := fs.String("topic", "", "topic name (or give it as an argument)")
	pos, err := parse(fs, c, args)
	if err != nil {
		return err
	}
	topics := topicArgs(*topic, pos)
	if len(topics) == 0 {
		return usagef("topic describe: name a topic")
	}
	adm, ctx, done, err := c.newAdmin(ctx)
	if err != nil {
		return err
	}
	defer done()
	td, err := requireTopics(ctx, adm, topics...)
	if err != nil {
		return err
	}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return fmt.Errorf("list end offsets: %w", err)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		return fmt.Errorf("describe configs: %w", err)
	}
	var out []topicDescription
	for _, name := range topics {
		d := td[name]
		desc := topicDescription{
			topicSummary: topicSummary{Topic: name, ID: d.ID.String(), Partitions: len(d.Partitions),
				ReplicationFactor: d.Partitions.NumReplicas(), Internal: d.IsInternal},
			Configs: map[string]string{},
		}
		for _, rc := range rcs {
			if rc.Name != name || rc.Err != nil {
				continue
			}
			for _, cfg := range rc.Configs {
				if cfg.Value != nil && isOverride(cfg) {
					desc.Configs[cfg.Key] = *cfg.Value
				}
			}
		}
		for _, p := range d.Partitions.Sorted() {
			pi := partitionInfo{Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
				Replicas: p.Replicas, ISR: p.ISR, LogStartOffset: -1, LogEndOffset: -1}
			if p.Err != nil {
				pi.Error = p.Err.Error()
			}
			if o, ok := starts.Lookup(name, p.Partition); ok && o.Err == nil {
				pi.LogStartOffset = o.Offset
			}
			if o, ok := ends.Lookup(name, p.Partition); ok && o.Err == nil {
				pi.LogEndOffset = o.Offset
			}
			desc.PartitionList = append(desc.PartitionList, pi)
		}
		out = append(out, desc)
	}
	if c.output == "json" {
		return writeJSON(e.stdout, out)
	}
	for i, d := range out {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, "Topic: %s\tID: %s\tPartitions: %d\tReplicationFactor: %d\n", d.Topic, d.ID, d.Partitions, d.ReplicationFactor)
		keys := make([]string, 0, len(d.Configs))
		for k := range d.Configs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var kv []string
		for _, k := range keys {
			kv = append(kv, k+"="+d.Configs[k])
		}
		fmt.Fprintf(e.stdout, "Configs: %s\n", strings.Join(kv, ","))
		t := newTable(e.stdout, "PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "LOG-START", "LOG-END", "ERROR")
		for _, p := range d.PartitionList {
			t.row(p.Partition, p.Leader, p.LeaderEpoch, joinInt32(p.Replicas), joinInt32(p.ISR), dash(p.LogStartOffset), dash(p.LogEndOffset), p.Error)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	return nil
}

// isOverride reports whether a config was set on the topic rather than
// inherited from a default.
func isOverride(cfg kadm.Config) bool {
	switch cfg.Source.String() {
	case "DYNAMIC_TOPIC_CONFIG", "UNKNOWN":
		return true
	}
	return false
}

func (e *env) topicAlter(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "topic alter", "TOPIC [--partitions N] [--config k=v]... [--delete-config k]...")
	topic := fs.String("topic", "", "topic name (or give it as an argument)")
	partitions := fs.Int("partitions", 0, "new total partition count (only increases)")
	var set, del multiFlag
	fs.Var(&set, "config", "set a topic config key=value (repeatable)")
	fs.Var(&del, "delete-config", "remove a topic config override (repeatable)")
	pos, err := parse(fs, c, args)
	if err != nil {
		return err
	}
	topics := topicArgs(*topic, pos)
	if len(topics) == 0 {
		return usagef("topic alter: name a topic")
	}
	if *partitions == 0 && len(set) == 0 && len(del) == 0 {
		return usagef("topic alter: nothing to do (give --partitions, --config or --delete-config)")
	}
	configs, err := parseConfigs(set)
	if err != nil {
		return err
	}
	adm, ctx, done, err := c.newAdmin(ctx)
	if err != nil {
		return err
	}
	defer done()
	if _, err := requireTopics(ctx, adm, topics...); err != nil {
		return err
	}
	var changes []string
	if *partitions > 0 {
		resps, err := adm.UpdatePartitions(ctx, *partitions, topics...)
		if err != nil {
			return fmt.Errorf("update partitions: %w", err)
		}
		for _, t := range topics {
			if r, ok := resps[t]; ok && r.Err != nil {
				return fmt.Errorf("topic %q: set partitions to %d: %w", t, *partitions, kafkaErr(r.Err, r.ErrMessage))
			}
		}
		changes = append(changes, fmt.Sprintf("partitions=%d", *partitions))
	}
	if len(configs) > 0 || len(del) > 0 {
		var alters []kadm.AlterConfig
		keys := make([]string, 0, len(configs))
		for k := range configs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: configs[k]})
			changes = append(changes, k+"="+*configs[k])
		}
		for _, k := range del {
			alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
			changes = append(changes, "-"+k)
		}
		resps, err := adm.AlterTopicConfigs(ctx, alters, topics...)
		if err != nil {
			return fmt.Errorf("alter configs: %w", err)
		}
		for _, r := range resps {
			if r.Err != nil {
				return fmt.Errorf("topic %q: alter configs: %w", r.Name, kafkaErr(r.Err, r.ErrMessage))
			}
		}
	}
	if c.output == "json" {
		return writeJSON(e.stdout, map[string]any{"topics": topics, "changes": changes})
	}
	for _, t := range topics {
		fmt.Fprintf(e.stdout, "Altered topic %s: %s\n", t, strings.Join(changes, " "))
	}
	return nil
}

func (e *env) topicDelete(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "topic delete", "TOPIC... [--if-exists]")
	topic := fs.String("topic", "", "topic name (or give it as an argument)")
	ifExists := fs.Bool("if-exists", false, "succeed if the topic does not exist")
	pos, err := parse(fs, c, args)
	if err != nil {
		return err
	}
	topics := topicArgs(*topic, pos)
	if len(topics) == 0 {
		return usagef("topic delete: name a topic")
	}
	adm, ctx, done, err := c.newAdmin(ctx)
	if err != nil {
		return err
	}
	defer done()
	resps, err := adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	var results []deleteResult
	var errs []error
	for _, t := range topics {
		r, ok := resps[t]
		res := deleteResult{Name: t}
		switch {
		case !ok:
			res.Error = "missing from response"
			errs = append(errs, fmt.Errorf("delete topic %q: missing from response", t))
		case r.Err == nil:
			res.Deleted = true
		case *ifExists && errors.Is(r.Err, kerr.UnknownTopicOrPartition):
			res.Error = "does not exist"
		default:
			res.Error = kafkaErr(r.Err, r.ErrMessage).Error()
			errs = append(errs, fmt.Errorf("delete topic %q: %w", t, kafkaErr(r.Err, r.ErrMessage)))
		}
		results = append(results, res)
	}
	if err := e.printDeletes(c, "topic", results); err != nil {
		return err
	}
	return errors.Join(errs...)
}
