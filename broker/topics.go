package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/metastore"
)

// topic is the in-memory view of a topic; parts only grows (CreatePartitions).
type topic struct {
	name    string
	id      [16]byte
	rf      int16
	configs map[string]string // explicitly set configs; replaced, never mutated
	parts   []*partition
	m       *topicMetrics
	limits  atomic.Pointer[produceLimits] // parsed from configs, for the produce path
}

// produceLimits are the topic configs Produce checks, parsed once per
// config change instead of on every request.
type produceLimits struct {
	maxMessageBytes, minInsyncReplicas int64
}

func (b *Broker) produceLimitsOf(configs map[string]string) *produceLimits {
	return &produceLimits{
		maxMessageBytes:   b.configInt64(configs, "max.message.bytes"),
		minInsyncReplicas: b.configInt64(configs, "min.insync.replicas"),
	}
}

// partition owns one partition log. Appends and reads are serialised by the
// log itself; there is no lock shared across partitions.
type partition struct {
	t   *topic
	id  int32
	log *partlog.Log

	waitMu  sync.Mutex
	waiters []chan struct{} // long-polling fetches, signalled on append
}

// addWaiter registers ch (buffered, cap 1) to be signalled on the next append.
func (p *partition) addWaiter(ch chan struct{}) {
	p.waitMu.Lock()
	p.waiters = append(p.waiters, ch)
	p.waitMu.Unlock()
}

func (p *partition) removeWaiter(ch chan struct{}) {
	p.waitMu.Lock()
	for i, w := range p.waiters {
		if w == ch {
			last := len(p.waiters) - 1
			p.waiters[i] = p.waiters[last]
			p.waiters[last] = nil
			p.waiters = p.waiters[:last]
			break
		}
	}
	p.waitMu.Unlock()
}

// wake signals every waiting fetch.
func (p *partition) wake() {
	p.waitMu.Lock()
	for _, ch := range p.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	p.waiters = p.waiters[:0]
	p.waitMu.Unlock()
}

// openTopic opens (creating if needed) the logs of every partition of t and
// publishes the topic. Called with b.mu not held.
func (b *Broker) openTopic(mt metastore.Topic) (*topic, error) {
	t := &topic{name: mt.Name, id: mt.ID, rf: mt.ReplicationFactor, configs: mt.Configs, m: b.metrics.forTopic(mt.Name)}
	if t.configs == nil {
		t.configs = map[string]string{}
	}
	t.limits.Store(b.produceLimitsOf(t.configs))
	if err := b.openPartitions(t, mt.Partitions); err != nil {
		for _, p := range t.parts {
			p.log.Close()
		}
		return nil, err
	}
	b.mu.Lock()
	b.topics[t.name] = t
	b.byID[t.id] = t
	b.mu.Unlock()
	return t, nil
}

func (b *Broker) openPartitions(t *topic, total int32) error {
	cfg := b.logConfig(t.configs)
	parts := append([]*partition(nil), t.parts...)
	for i := int32(len(parts)); i < total; i++ {
		l, err := partlog.Open(b.partitionDir(t.id, i), cfg, b.log.With("topic", t.name, "partition", i))
		if err != nil {
			for _, p := range parts[len(t.parts):] {
				p.log.Close()
			}
			return fmt.Errorf("open %s-%d: %w", t.name, i, err)
		}
		p := &partition{t: t, id: i, log: l}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = b.attachRemote(ctx, p)
		cancel()
		if err != nil {
			l.Close()
			for _, p := range parts[len(t.parts):] {
				p.log.Close()
			}
			return err
		}
		parts = append(parts, p)
	}
	b.mu.Lock()
	t.parts = parts
	b.mu.Unlock()
	return nil
}

func (b *Broker) topicByName(name string) *topic {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.topics[name]
}

// lookupTopic finds a topic by id (byID) or name, and returns the error
// code for a miss: UNKNOWN_TOPIC_ID by id, UNKNOWN_TOPIC_OR_PARTITION by name.
func (b *Broker) lookupTopic(byID bool, name string, id [16]byte) (*topic, int16) {
	if byID {
		return b.topicByID(id), kerr.UnknownTopicID.Code
	}
	return b.topicByName(name), kerr.UnknownTopicOrPartition.Code
}

func (b *Broker) topicByID(id [16]byte) *topic {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.byID[id]
}

// partitionOf returns the partition, or nil if the topic or partition does not exist.
func (b *Broker) partitionOf(name string, partition int32) *partition {
	b.mu.RLock()
	defer b.mu.RUnlock()
	t := b.topics[name]
	if t == nil || partition < 0 || int(partition) >= len(t.parts) {
		return nil
	}
	return t.parts[partition]
}

func (b *Broker) partitionExists(name string, partition int32) bool {
	return b.partitionOf(name, partition) != nil
}

func (b *Broker) allPartitions() []*partition {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []*partition
	for _, t := range b.topics {
		out = append(out, t.parts...)
	}
	return out
}

// snapshotTopics returns the topics sorted by nothing in particular, with
// their partition slices as of now.
func (b *Broker) snapshotTopics() []*topic {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]*topic, 0, len(b.topics))
	for _, t := range b.topics {
		out = append(out, t)
	}
	return out
}

func (t *topic) numPartitions(b *Broker) int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(t.parts)
}

var errTopicExists = errors.New("topic exists")

// createTopic stores the topic in the metastore and opens its logs.
func (b *Broker) createTopic(ctx context.Context, name string, partitions int32, rf int16, configs map[string]string) (*topic, error) {
	mt, err := b.meta.CreateTopic(ctx, metastore.Topic{Name: name, Partitions: partitions, ReplicationFactor: rf, Configs: configs})
	if err != nil {
		if errors.Is(err, metastore.ErrExists) {
			return nil, errTopicExists
		}
		return nil, err
	}
	return b.openTopic(mt)
}

// deleteTopic removes the topic from the metastore, unpublishes it and
// deletes its logs and committed offsets.
func (b *Broker) deleteTopic(ctx context.Context, name string) error {
	if _, err := b.meta.DeleteTopic(ctx, name); err != nil {
		return err
	}
	b.mu.Lock()
	t := b.topics[name]
	delete(b.topics, name)
	if t != nil {
		delete(b.byID, t.id)
	}
	b.mu.Unlock()
	if t != nil {
		b.detachRemote(t, t.parts)
		for _, p := range t.parts {
			p.wake()
			if err := p.log.Remove(); err != nil {
				b.log.Warn("removing partition log", "topic", name, "partition", p.id, "err", err)
			}
		}
		os.Remove(filepath.Join(b.cfg.DataDir, "logs", fmt.Sprintf("%x", t.id)))
	}
	b.groups.TopicDeleted(name)
	b.metrics.dropTopic(name)
	b.log.Info("deleted topic", "topic", name)
	return nil
}

// setTopicConfigs replaces a topic's explicit configs in the metastore and
// applies them to its logs.
func (b *Broker) setTopicConfigs(ctx context.Context, t *topic, configs map[string]string) error {
	if _, err := b.meta.UpdateTopic(ctx, t.name, func(mt *metastore.Topic) error {
		mt.Configs = configs
		return nil
	}); err != nil {
		return err
	}
	b.mu.Lock()
	t.configs = configs
	t.limits.Store(b.produceLimitsOf(configs))
	parts := t.parts
	b.mu.Unlock()
	cfg := b.logConfig(configs)
	for _, p := range parts {
		p.log.SetConfig(cfg)
	}
	return nil
}

func (b *Broker) topicConfigs(t *topic) map[string]string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return t.configs
}

func splitHostPort(addr string) (string, int32) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	p, _ := strconv.Atoi(port)
	return host, int32(p)
}
