package bridge

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// explicitPartitionKey marks, in a record's Context, a record whose Partition
// the HTTP request chose.
type explicitPartitionKey struct{}

func withExplicitPartition(ctx context.Context) context.Context {
	return context.WithValue(ctx, explicitPartitionKey{}, true)
}

func isExplicit(r *kgo.Record) bool {
	if r.Context == nil {
		return false
	}
	v, _ := r.Context.Value(explicitPartitionKey{}).(bool)
	return v
}

// partitioner lets one shared producer serve records with a partition chosen
// by the request and records partitioned the way Kafka's Java client does
// (murmur2 of the key; sticky batches for null keys).
type partitioner struct{ fallback kgo.Partitioner }

func newPartitioner() kgo.Partitioner {
	return partitioner{fallback: kgo.StickyKeyPartitioner(nil)}
}

func (p partitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return &topicPartitioner{fallback: p.fallback.ForTopic(topic)}
}

type topicPartitioner struct{ fallback kgo.TopicPartitioner }

func (t *topicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return isExplicit(r) || t.fallback.RequiresConsistency(r)
}

func (t *topicPartitioner) Partition(r *kgo.Record, n int) int {
	if isExplicit(r) {
		return int(r.Partition)
	}
	return t.fallback.Partition(r, n)
}

func (t *topicPartitioner) OnNewBatch() {
	if nb, ok := t.fallback.(kgo.TopicPartitionerOnNewBatch); ok {
		nb.OnNewBatch()
	}
}
