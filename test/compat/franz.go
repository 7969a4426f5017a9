package compat

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Franz is the franz-go client (kgo for data, kadm for admin). It is also the
// suite's referee for checks that must not depend on the client under test.
type Franz struct {
	addr string
	opts Options
	cl   *kgo.Client
	adm  *kadm.Client
}

// NewFranz connects a franz-go client to addr.
func NewFranz(addr string) (Client, error) { return newFranz(addr) }

// NewFranzWith is NewFranz with options.
func NewFranzWith(addr string, o Options) (Client, error) {
	f, err := newFranz(addr)
	if err != nil {
		return nil, err
	}
	f.opts = o
	return f, nil
}

func newFranz(addr string) (*Franz, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return nil, fmt.Errorf("franz-go: %w", err)
	}
	return &Franz{addr: addr, cl: cl, adm: kadm.NewClient(cl)}, nil
}

// consumerOpts are the options every consumer of f gets.
func (f *Franz) consumerOpts() []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(f.addr)}
	if f.opts.Rack != "" {
		opts = append(opts, kgo.Rack(f.opts.Rack))
	}
	return opts
}

func (f *Franz) Name() string { return "franz-go" }

func (f *Franz) Close() error { f.cl.Close(); return nil }

func (f *Franz) CreateTopic(ctx context.Context, topic string, partitions int32) error {
	resp, err := f.adm.CreateTopic(ctx, partitions, f.opts.rf(), nil, topic)
	if err != nil {
		return fmt.Errorf("franz-go create topic %q: %w", topic, err)
	}
	if resp.Err != nil {
		return fmt.Errorf("franz-go create topic %q: %w", topic, resp.Err)
	}
	return nil
}

func (f *Franz) DeleteTopic(ctx context.Context, topic string) error {
	resp, err := f.adm.DeleteTopic(ctx, topic)
	if err != nil {
		return fmt.Errorf("franz-go delete topic %q: %w", topic, err)
	}
	if resp.Err != nil {
		return fmt.Errorf("franz-go delete topic %q: %w", topic, resp.Err)
	}
	return nil
}

func (f *Franz) CreatePartitions(ctx context.Context, topic string, total int32) error {
	resps, err := f.adm.UpdatePartitions(ctx, int(total), topic)
	if err != nil {
		return fmt.Errorf("franz-go create partitions: %w", err)
	}
	if err := resps.Error(); err != nil {
		return fmt.Errorf("franz-go create partitions: %w", err)
	}
	return nil
}

func (f *Franz) TopicConfigs(ctx context.Context, topic string) (map[string]string, error) {
	rcs, err := f.adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("franz-go describe configs: %w", err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		return nil, fmt.Errorf("franz-go describe configs: %w", err)
	}
	if rc.Err != nil {
		return nil, fmt.Errorf("franz-go describe configs: %w", rc.Err)
	}
	out := make(map[string]string, len(rc.Configs))
	for _, c := range rc.Configs {
		out[c.Key] = c.MaybeValue()
	}
	return out, nil
}

func (f *Franz) SetTopicConfig(ctx context.Context, topic, key, value string) error {
	v := value
	resps, err := f.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: key, Value: &v}}, topic)
	if err != nil {
		return fmt.Errorf("franz-go alter configs: %w", err)
	}
	for _, r := range resps {
		if r.Err != nil {
			return fmt.Errorf("franz-go alter configs: %w", r.Err)
		}
	}
	return nil
}

func (f *Franz) Partitions(ctx context.Context, topic string) (int32, error) {
	md, err := f.adm.Metadata(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("franz-go metadata: %w", err)
	}
	td, ok := md.Topics[topic]
	if !ok || td.Err == kerr.UnknownTopicOrPartition {
		return -1, nil
	}
	if td.Err != nil {
		return 0, fmt.Errorf("franz-go metadata %q: %w", topic, td.Err)
	}
	return int32(len(td.Partitions)), nil
}

func franzCodec(codec string) (kgo.CompressionCodec, error) {
	switch codec {
	case "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.NoCompression(), fmt.Errorf("unknown codec %q", codec)
}

func (f *Franz) Produce(ctx context.Context, topic, codec string, recs []Record) error {
	c, err := franzCodec(codec)
	if err != nil {
		return err
	}
	pcl, err := kgo.NewClient(kgo.SeedBrokers(f.addr), kgo.ProducerBatchCompression(c),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return fmt.Errorf("franz-go producer: %w", err)
	}
	defer pcl.Close()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for _, r := range recs {
		kr := &kgo.Record{Topic: topic, Partition: r.Partition, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}
		for _, h := range r.Headers {
			kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
		wg.Add(1)
		pcl.Produce(ctx, kr, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("franz-go produce: %w", firstErr)
	}
	return nil
}

func fromKgo(r *kgo.Record) Record {
	out := Record{Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}
	for _, h := range r.Headers {
		out.Headers = append(out.Headers, Header{Key: h.Key, Value: h.Value})
	}
	return out
}

func (f *Franz) Consume(ctx context.Context, topic string, partition int32, from int64, n int) ([]Record, error) {
	off := kgo.NewOffset().At(from)
	if from == Earliest {
		off = kgo.NewOffset().AtStart()
	}
	ccl, err := kgo.NewClient(append(f.consumerOpts(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: off}}))...)
	if err != nil {
		return nil, fmt.Errorf("franz-go consumer: %w", err)
	}
	defer ccl.Close()
	var out []Record
	for len(out) < n {
		fs := ccl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("franz-go consume: got %d of %d records: %w", len(out), n, err)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			return out, fmt.Errorf("franz-go consume: %w", errs[0].Err)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, fromKgo(r)) })
	}
	return out, nil
}

func (f *Franz) ListOffset(ctx context.Context, topic string, partition int32, ts int64) (int64, error) {
	var (
		lo  kadm.ListedOffsets
		err error
	)
	switch ts {
	case Earliest:
		lo, err = f.adm.ListStartOffsets(ctx, topic)
	case Latest:
		lo, err = f.adm.ListEndOffsets(ctx, topic)
	default:
		lo, err = f.adm.ListOffsetsAfterMilli(ctx, ts, topic)
	}
	if err != nil {
		return 0, fmt.Errorf("franz-go list offsets: %w", err)
	}
	o, ok := lo.Lookup(topic, partition)
	if !ok {
		return 0, fmt.Errorf("franz-go list offsets: partition %d missing", partition)
	}
	if o.Err != nil {
		return 0, fmt.Errorf("franz-go list offsets: %w", o.Err)
	}
	return o.Offset, nil
}

func (f *Franz) DeleteRecords(ctx context.Context, topic string, partition int32, before int64) error {
	os := make(kadm.Offsets)
	os.Add(kadm.Offset{Topic: topic, Partition: partition, At: before})
	resps, err := f.adm.DeleteRecords(ctx, os)
	if err != nil {
		return fmt.Errorf("franz-go delete records: %w", err)
	}
	if err := resps.Error(); err != nil {
		return fmt.Errorf("franz-go delete records: %w", err)
	}
	return nil
}

func (f *Franz) GroupConsume(ctx context.Context, group, topic string, members, n int) ([][]Record, error) {
	return runMembers(ctx, members, n, func(ctx context.Context, deliver func(Record) bool) error {
		gcl, err := kgo.NewClient(append(f.consumerOpts(), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll())...)
		if err != nil {
			return fmt.Errorf("franz-go group member: %w", err)
		}
		defer gcl.Close()          // leaves the group
		defer gcl.AllowRebalance() // a poll may still hold the rebalance block
		for {
			fs := gcl.PollFetches(ctx)
			if ctx.Err() != nil {
				return nil
			}
			if errs := fs.Errors(); len(errs) > 0 {
				return fmt.Errorf("franz-go group fetch: %w", errs[0].Err)
			}
			done := false
			fs.EachRecord(func(r *kgo.Record) {
				if !deliver(fromKgo(r)) {
					done = true
				}
			})
			// Commit what this poll delivered before a rebalance may move
			// the partitions (BlockRebalanceOnPoll holds it until AllowRebalance).
			err := gcl.CommitUncommittedOffsets(context.Background())
			gcl.AllowRebalance()
			if err != nil {
				return fmt.Errorf("franz-go commit: %w", err)
			}
			if done {
				return nil
			}
		}
	})
}
