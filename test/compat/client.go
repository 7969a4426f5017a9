package compat

import (
	"context"
	"errors"
	"time"
)

// Special offsets / ListOffsets timestamps, as in the Kafka protocol.
const (
	Latest   int64 = -1
	Earliest int64 = -2
)

// Codecs every client must produce with.
var Codecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// ErrUnsupported is returned by a Client method the client library cannot do.
// Scenarios must not skip on it: they use the referee client for that step and
// say so in the test log (see scenarios_test.go).
var ErrUnsupported = errors.New("compat: operation not supported by this client library")

// Header is one record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is a client-agnostic record.
type Record struct {
	Partition int32
	Offset    int64 // set on consumed records
	Key       []byte
	Value     []byte
	Headers   []Header
	Timestamp time.Time // millisecond precision on the wire
}

// Client is what a scenario needs from a Kafka client library. Errors that
// carry a Kafka error code wrap the matching *kerr.Error, so scenarios test
// them with errors.Is(err, kerr.TopicAlreadyExists).
type Client interface {
	Name() string
	Close() error

	CreateTopic(ctx context.Context, topic string, partitions int32) error
	DeleteTopic(ctx context.Context, topic string) error
	// CreatePartitions grows topic to total partitions.
	CreatePartitions(ctx context.Context, topic string, total int32) error
	// TopicConfigs returns the topic's configs as DescribeConfigs reports them.
	TopicConfigs(ctx context.Context, topic string) (map[string]string, error)
	SetTopicConfig(ctx context.Context, topic, key, value string) error
	// Partitions returns the partition count from Metadata, or -1 if the
	// topic is not in the metadata.
	Partitions(ctx context.Context, topic string) (int32, error)

	// Produce writes recs, each to its Partition, with its key, value,
	// headers and timestamp, compressed with codec; it returns once all are acked.
	Produce(ctx context.Context, topic, codec string, recs []Record) error
	// Consume reads exactly n records of one partition starting at offset
	// from (an absolute offset or Earliest).
	Consume(ctx context.Context, topic string, partition int32, from int64, n int) ([]Record, error)
	// ListOffset returns the offset for a timestamp in ms, or for Earliest / Latest.
	ListOffset(ctx context.Context, topic string, partition int32, ts int64) (int64, error)
	// DeleteRecords deletes the records of a partition below offset before.
	DeleteRecords(ctx context.Context, topic string, partition int32, before int64) error

	// GroupConsume runs members consumers of group subscribed to topic until
	// together they received n records, commits what they consumed, and
	// closes them (leaving the group). Records are returned per member.
	GroupConsume(ctx context.Context, group, topic string, members, n int) ([][]Record, error)
}

// NewClientFunc builds a client for a broker address.
type NewClientFunc func(addr string) (Client, error)

// Options tune a client for a multi-broker run; the zero value is the
// single-broker suite's client.
type Options struct {
	// ReplicationFactor of the topics the client creates (0: 1).
	ReplicationFactor int16
	// Rack is the client.rack its consumers send with fetches, so a leader
	// can steer them to a replica in their rack ("" for none). kafka-go's
	// Reader has no such setting and ignores it.
	Rack string
}

func (o Options) rf() int16 {
	if o.ReplicationFactor <= 0 {
		return 1
	}
	return o.ReplicationFactor
}

// NewClientWithFunc builds a client for a broker address with options.
type NewClientWithFunc func(addr string, o Options) (Client, error)

// Clients are all client libraries under test, by name.
var Clients = []struct {
	Name    string
	New     NewClientFunc
	NewWith NewClientWithFunc
}{
	{"franz-go", NewFranz, NewFranzWith},
	{"sarama", NewSarama, NewSaramaWith},
	{"kafka-go", NewKafkaGo, NewKafkaGoWith},
	{"librdkafka", NewLibrdkafka, NewLibrdkafkaWith},
}

// TextProducer is an extra capability of clients that also ship a
// command-line producer (librdkafka's kcat -P). Such a tool cannot set
// per-record timestamps or headers: every record of one call gets the same
// headers, and the producer stamps CreateTime itself. Only Key and Value of
// recs are used; all go to partition.
type TextProducer interface {
	ProduceText(ctx context.Context, topic, codec string, partition int32, headers []Header, recs []Record) error
}
