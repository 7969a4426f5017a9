package compat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
)

// Sarama is the IBM/sarama client: ClusterAdmin for admin, SyncProducer,
// Consumer (partition consumer) and ConsumerGroup.
type Sarama struct {
	addrs []string
	opts  Options
	cfg   *sarama.Config
	cl    sarama.Client
	adm   sarama.ClusterAdmin
}

func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.ClientID = "compat-sarama"
	cfg.Metadata.RefreshFrequency = time.Second
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	// Idempotent, as a careful user runs it: a retried batch (sarama
	// retries on any transient hiccup) is de-duplicated by the broker
	// instead of appended twice, which a non-idempotent retry would do on
	// any Kafka broker.
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = 200 * time.Millisecond
	return cfg
}

// NewSaramaWith is NewSarama with options.
func NewSaramaWith(addr string, o Options) (Client, error) {
	c, err := NewSarama(addr)
	if err != nil {
		return nil, err
	}
	c.(*Sarama).opts = o
	return c, nil
}

// consumerConfig is saramaConfig with the consumer's rack.
func (s *Sarama) consumerConfig() *sarama.Config {
	cfg := saramaConfig()
	cfg.RackID = s.opts.Rack
	return cfg
}

// NewSarama connects a sarama client and cluster admin to addr.
func NewSarama(addr string) (Client, error) {
	addrs := []string{addr}
	cfg := saramaConfig()
	cl, err := sarama.NewClient(addrs, cfg)
	if err != nil {
		return nil, fmt.Errorf("sarama client: %w", err)
	}
	adm, err := sarama.NewClusterAdminFromClient(cl)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("sarama admin: %w", err)
	}
	return &Sarama{addrs: addrs, cfg: cfg, cl: cl, adm: adm}, nil
}

func (s *Sarama) Name() string { return "sarama" }

func (s *Sarama) Close() error { return s.adm.Close() } // also closes the client

// saramaErr makes a sarama KError anywhere in err's chain match kerr.
func saramaErr(op string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("sarama %s: %w", op, err)
	var ke sarama.KError
	if errors.As(err, &ke) {
		return withCode(err, int16(ke))
	}
	return err
}

func (s *Sarama) CreateTopic(_ context.Context, topic string, partitions int32) error {
	return saramaErr("create topic", s.adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: s.opts.rf()}, false))
}

func (s *Sarama) DeleteTopic(_ context.Context, topic string) error {
	return saramaErr("delete topic", s.adm.DeleteTopic(topic))
}

func (s *Sarama) CreatePartitions(_ context.Context, topic string, total int32) error {
	return saramaErr("create partitions", s.adm.CreatePartitions(topic, total, nil, false))
}

func (s *Sarama) TopicConfigs(_ context.Context, topic string) (map[string]string, error) {
	entries, err := s.adm.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
	if err != nil {
		return nil, saramaErr("describe config", err)
	}
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		out[e.Name] = e.Value
	}
	return out, nil
}

func (s *Sarama) SetTopicConfig(_ context.Context, topic, key, value string) error {
	return saramaErr("alter config", s.adm.AlterConfig(sarama.TopicResource, topic, map[string]*string{key: &value}, false))
}

func (s *Sarama) Partitions(_ context.Context, topic string) (int32, error) {
	mds, err := s.adm.DescribeTopics([]string{topic})
	if err != nil {
		return 0, saramaErr("describe topics", err)
	}
	for _, md := range mds {
		if md.Name != topic {
			continue
		}
		if md.Err == sarama.ErrUnknownTopicOrPartition {
			return -1, nil
		}
		if md.Err != sarama.ErrNoError {
			return 0, saramaErr("describe topics", md.Err)
		}
		return int32(len(md.Partitions)), nil
	}
	return -1, nil
}

func saramaCodec(codec string) (sarama.CompressionCodec, error) {
	switch codec {
	case "none":
		return sarama.CompressionNone, nil
	case "gzip":
		return sarama.CompressionGZIP, nil
	case "snappy":
		return sarama.CompressionSnappy, nil
	case "lz4":
		return sarama.CompressionLZ4, nil
	case "zstd":
		return sarama.CompressionZSTD, nil
	}
	return sarama.CompressionNone, fmt.Errorf("unknown codec %q", codec)
}

func (s *Sarama) Produce(_ context.Context, topic, codec string, recs []Record) error {
	cfg := saramaConfig()
	c, err := saramaCodec(codec)
	if err != nil {
		return err
	}
	cfg.Producer.Compression = c
	p, err := sarama.NewSyncProducer(s.addrs, cfg)
	if err != nil {
		return saramaErr("producer", err)
	}
	defer p.Close()
	msgs := make([]*sarama.ProducerMessage, len(recs))
	for i, r := range recs {
		m := &sarama.ProducerMessage{Topic: topic, Partition: r.Partition,
			Key: sarama.ByteEncoder(r.Key), Value: sarama.ByteEncoder(r.Value), Timestamp: r.Timestamp}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
		}
		msgs[i] = m
	}
	if err := p.SendMessages(msgs); err != nil {
		var pe sarama.ProducerErrors
		if errors.As(err, &pe) && len(pe) > 0 {
			return saramaErr(fmt.Sprintf("produce (%d failed, first)", len(pe)), pe[0].Err)
		}
		return saramaErr("produce", err)
	}
	return nil
}

func fromSarama(m *sarama.ConsumerMessage) Record {
	r := Record{Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value, Timestamp: m.Timestamp}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, Header{Key: string(h.Key), Value: h.Value})
	}
	return r
}

func (s *Sarama) Consume(ctx context.Context, topic string, partition int32, from int64, n int) ([]Record, error) {
	c, err := sarama.NewConsumer(s.addrs, s.consumerConfig())
	if err != nil {
		return nil, saramaErr("consumer", err)
	}
	defer c.Close()
	offset := from
	if from == Earliest {
		offset = sarama.OffsetOldest
	}
	pc, err := c.ConsumePartition(topic, partition, offset)
	if err != nil {
		return nil, saramaErr("consume partition", err)
	}
	defer pc.Close()
	var out []Record
	for len(out) < n {
		select {
		case m := <-pc.Messages():
			out = append(out, fromSarama(m))
		case err := <-pc.Errors():
			return out, saramaErr("consume", err)
		case <-ctx.Done():
			return out, fmt.Errorf("sarama consume: got %d of %d records: %w", len(out), n, ctx.Err())
		}
	}
	return out, nil
}

func (s *Sarama) ListOffset(_ context.Context, topic string, partition int32, ts int64) (int64, error) {
	// GetOffset takes sarama.OffsetOldest (-2) / OffsetNewest (-1) or a timestamp in ms.
	off, err := s.cl.GetOffset(topic, partition, ts)
	return off, saramaErr("get offset", err)
}

func (s *Sarama) DeleteRecords(_ context.Context, topic string, partition int32, before int64) error {
	return saramaErr("delete records", s.adm.DeleteRecords(topic, map[int32]int64{partition: before}))
}

// saramaHandler marks every delivered message and commits whenever it has
// drained what is buffered, so offsets are committed before any rebalance.
type saramaHandler struct {
	deliver func(Record) bool
	stop    context.CancelFunc
}

func (h *saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *saramaHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for {
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				sess.Commit()
				return nil
			}
			more := h.deliver(fromSarama(m))
			sess.MarkMessage(m, "")
			if !more || len(claim.Messages()) == 0 {
				sess.Commit()
			}
			if !more {
				h.stop()
				return nil
			}
		case <-sess.Context().Done():
			sess.Commit()
			return nil
		}
	}
}

func (s *Sarama) GroupConsume(ctx context.Context, group, topic string, members, n int) ([][]Record, error) {
	return runMembers(ctx, members, n, func(ctx context.Context, deliver func(Record) bool) error {
		g, err := sarama.NewConsumerGroup(s.addrs, group, s.consumerConfig())
		if err != nil {
			return saramaErr("consumer group", err)
		}
		defer g.Close() // commits and leaves the group
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		h := &saramaHandler{deliver: deliver, stop: cancel}
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, h); err != nil {
				if errors.Is(err, sarama.ErrClosedConsumerGroup) || ctx.Err() != nil {
					return nil
				}
				return saramaErr("group consume", err)
			}
		}
		return nil
	})
}
