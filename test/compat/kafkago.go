package compat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
)

// KafkaGo is the segmentio/kafka-go client: kafka.Client for admin, Writer,
// Reader (partition and group mode), and Conn for ListOffsets.
//
// Gap: kafka-go has no DeleteRecords (neither a Client method nor a protocol
// message type), so DeleteRecords returns ErrUnsupported and the scenario
// does that one step with the franz-go referee, then verifies with kafka-go.
type KafkaGo struct {
	addr string
	opts Options // Rack is ignored: kafka-go's Reader sends no rack id with fetches
	cl   *kafka.Client
}

// NewKafkaGoWith is NewKafkaGo with options.
func NewKafkaGoWith(addr string, o Options) (Client, error) {
	c, err := NewKafkaGo(addr)
	if err != nil {
		return nil, err
	}
	c.(*KafkaGo).opts = o
	return c, nil
}

// NewKafkaGo returns a kafka-go client for addr.
func NewKafkaGo(addr string) (Client, error) {
	return &KafkaGo{addr: addr, cl: &kafka.Client{Addr: kafka.TCP(addr), Timeout: 30 * time.Second}}, nil
}

func (k *KafkaGo) Name() string { return "kafka-go" }

func (k *KafkaGo) Close() error { return nil }

// kgoErr makes a kafka-go kafka.Error anywhere in err's chain match kerr.
func kgoErr(op string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("kafka-go %s: %w", op, err)
	var ke kafka.Error
	if errors.As(err, &ke) {
		return withCode(err, int16(ke))
	}
	return err
}

func (k *KafkaGo) CreateTopic(ctx context.Context, topic string, partitions int32) error {
	resp, err := k.cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: int(partitions), ReplicationFactor: int(k.opts.rf())}},
	})
	if err != nil {
		return kgoErr("create topics", err)
	}
	return kgoErr("create topic "+topic, resp.Errors[topic])
}

func (k *KafkaGo) DeleteTopic(ctx context.Context, topic string) error {
	resp, err := k.cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	if err != nil {
		return kgoErr("delete topics", err)
	}
	return kgoErr("delete topic "+topic, resp.Errors[topic])
}

func (k *KafkaGo) CreatePartitions(ctx context.Context, topic string, total int32) error {
	resp, err := k.cl.CreatePartitions(ctx, &kafka.CreatePartitionsRequest{
		Topics: []kafka.TopicPartitionsConfig{{Name: topic, Count: total}},
	})
	if err != nil {
		return kgoErr("create partitions", err)
	}
	return kgoErr("create partitions "+topic, resp.Errors[topic])
}

func (k *KafkaGo) TopicConfigs(ctx context.Context, topic string) (map[string]string, error) {
	resp, err := k.cl.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{
		Resources: []kafka.DescribeConfigRequestResource{{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic}},
	})
	if err != nil {
		return nil, kgoErr("describe configs", err)
	}
	out := make(map[string]string)
	for _, r := range resp.Resources {
		if r.Error != nil {
			return nil, kgoErr("describe configs", r.Error)
		}
		for _, e := range r.ConfigEntries {
			out[e.ConfigName] = e.ConfigValue
		}
	}
	return out, nil
}

func (k *KafkaGo) SetTopicConfig(ctx context.Context, topic, key, value string) error {
	resp, err := k.cl.AlterConfigs(ctx, &kafka.AlterConfigsRequest{
		Resources: []kafka.AlterConfigRequestResource{{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic,
			Configs: []kafka.AlterConfigRequestConfig{{Name: key, Value: value}}}},
	})
	if err != nil {
		return kgoErr("alter configs", err)
	}
	for _, err := range resp.Errors {
		if err != nil {
			return kgoErr("alter configs", err)
		}
	}
	return nil
}

func (k *KafkaGo) Partitions(ctx context.Context, topic string) (int32, error) {
	resp, err := k.cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, kgoErr("metadata", err)
	}
	for _, t := range resp.Topics {
		if t.Name != topic {
			continue
		}
		if errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
			return -1, nil
		}
		if t.Error != nil {
			return 0, kgoErr("metadata", t.Error)
		}
		return int32(len(t.Partitions)), nil
	}
	return -1, nil
}

// recordPartition sends each message to the partition the scenario chose.
type recordPartition struct{}

func (recordPartition) Balance(msg kafka.Message, _ ...int) int { return msg.Partition }

func kafkaGoCodec(codec string) (compress.Compression, error) {
	switch codec {
	case "none":
		return 0, nil
	case "gzip":
		return kafka.Gzip, nil
	case "snappy":
		return kafka.Snappy, nil
	case "lz4":
		return kafka.Lz4, nil
	case "zstd":
		return kafka.Zstd, nil
	}
	return 0, fmt.Errorf("unknown codec %q", codec)
}

func (k *KafkaGo) Produce(ctx context.Context, topic, codec string, recs []Record) error {
	c, err := kafkaGoCodec(codec)
	if err != nil {
		return err
	}
	// A transport per call: kafka-go refreshes a transport's metadata
	// only every MetadataTTL (6 s), never on NOT_LEADER_FOR_PARTITION
	// (segmentio/kafka-go issues 1221, 1413), so the process-wide default
	// transport could still route to a leader from before a leadership
	// move (a broker's controlled shutdown) and run out of retries; and a
	// shared transport's cache can predate a topic just created.
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{
		Addr: kafka.TCP(k.addr), Topic: topic, Balancer: recordPartition{}, Transport: tr,
		Compression: c, RequiredAcks: kafka.RequireAll,
		BatchSize: 1000, BatchBytes: 1 << 20, BatchTimeout: 5 * time.Millisecond,
	}
	defer w.Close()
	msgs := make([]kafka.Message, len(recs))
	for i, r := range recs {
		m := kafka.Message{Partition: int(r.Partition), Key: r.Key, Value: r.Value, Time: r.Timestamp}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, kafka.Header{Key: h.Key, Value: h.Value})
		}
		msgs[i] = m
	}
	return kgoErr("produce", w.WriteMessages(ctx, msgs...))
}

func fromKafkaGo(m kafka.Message) Record {
	r := Record{Partition: int32(m.Partition), Offset: m.Offset, Key: m.Key, Value: m.Value, Timestamp: m.Time}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, Header{Key: h.Key, Value: h.Value})
	}
	return r
}

func (k *KafkaGo) Consume(ctx context.Context, topic string, partition int32, from int64, n int) ([]Record, error) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{k.addr}, Topic: topic, Partition: int(partition),
		MinBytes: 1, MaxBytes: 4 << 20, MaxWait: 200 * time.Millisecond,
	})
	defer r.Close()
	offset := from
	if from == Earliest {
		offset = kafka.FirstOffset
	}
	if err := r.SetOffset(offset); err != nil {
		return nil, kgoErr("set offset", err)
	}
	var out []Record
	for len(out) < n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return out, kgoErr(fmt.Sprintf("consume (got %d of %d)", len(out), n), err)
		}
		out = append(out, fromKafkaGo(m))
	}
	return out, nil
}

func (k *KafkaGo) ListOffset(ctx context.Context, topic string, partition int32, ts int64) (int64, error) {
	conn, err := kafka.DialLeader(ctx, "tcp", k.addr, topic, int(partition))
	if err != nil {
		return 0, kgoErr("dial leader", err)
	}
	defer conn.Close()
	var off int64
	switch ts {
	case Earliest:
		off, err = conn.ReadFirstOffset()
	case Latest:
		off, err = conn.ReadLastOffset()
	default:
		off, err = conn.ReadOffset(time.UnixMilli(ts))
	}
	return off, kgoErr("list offsets", err)
}

// DeleteRecords is a documented gap: kafka-go has no DeleteRecords API.
func (k *KafkaGo) DeleteRecords(context.Context, string, int32, int64) error {
	return fmt.Errorf("kafka-go delete records: %w", ErrUnsupported)
}

func (k *KafkaGo) GroupConsume(ctx context.Context, group, topic string, members, n int) ([][]Record, error) {
	return runMembers(ctx, members, n, func(ctx context.Context, deliver func(Record) bool) error {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: []string{k.addr}, GroupID: group, Topic: topic,
			StartOffset: kafka.FirstOffset, MinBytes: 1, MaxBytes: 4 << 20, MaxWait: 200 * time.Millisecond,
			HeartbeatInterval: 500 * time.Millisecond, SessionTimeout: 10 * time.Second,
			RebalanceTimeout: 10 * time.Second, JoinGroupBackoff: 200 * time.Millisecond,
			CommitInterval: 0, // synchronous commit of every message ReadMessage returns
		})
		defer r.Close() // leaves the group
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
					return nil
				}
				return kgoErr("group read", err)
			}
			if !deliver(fromKafkaGo(m)) {
				return nil
			}
		}
	})
}
