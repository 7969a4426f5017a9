package broker

import (
	"context"
	"errors"
	"fmt"
	"maps"
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

// partition owns one partition log hosted on this broker (a replica).
// Appends and reads are serialised by the log itself; there is no lock
// shared across partitions.
type partition struct {
	t   *topic
	id  int32
	log *partlog.Log

	waitMu  sync.Mutex
	waiters []chan struct{} // long-polling fetches, signalled on append / HW advance

	hw          atomic.Int64 // high watermark: consumers read below it
	leaderEpoch atomic.Int32 // the epoch this broker leads at; -1 when not leader
	soloLeader  atomic.Bool  // leader with an ISR of itself only

	replMu sync.Mutex
	rs     replState
	acks   []ackWaiter // acks=all produces waiting for the high watermark
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

// addTopic publishes a topic read from the metastore, or refreshes the
// configs and partition count of one already known. Partition logs open
// later, when a partition state names this broker a replica.
func (b *Broker) addTopic(mt metastore.Topic) *topic {
	b.mu.Lock()
	t := b.byID[mt.ID]
	if t == nil {
		if old := b.topics[mt.Name]; old != nil {
			// Same name, new id: the old topic was deleted and re-created.
			b.mu.Unlock()
			b.removeTopicLocal(old)
			b.mu.Lock()
		}
		t = &topic{name: mt.Name, id: mt.ID, rf: mt.ReplicationFactor, m: b.metrics.forTopic(mt.Name)}
		t.configs = mt.Configs
		if t.configs == nil {
			t.configs = map[string]string{}
		}
		t.limits.Store(b.produceLimitsOf(t.configs))
		b.topics[t.name] = t
		b.byID[t.id] = t
	}
	if n := int(mt.Partitions); n > len(t.parts) {
		parts := make([]*partition, n)
		copy(parts, t.parts)
		t.parts = parts
	}
	b.mu.Unlock()
	if !maps.Equal(mt.Configs, b.topicConfigs(t)) {
		cfg := mt.Configs
		if cfg == nil {
			cfg = map[string]string{}
		}
		b.applyTopicConfigs(t, cfg)
	}
	return t
}

// hostPartition opens (creating if needed) the log of partition id of t on
// this broker, or returns the one already open.
func (b *Broker) hostPartition(t *topic, id int32) (*partition, error) {
	b.mu.RLock()
	if int(id) >= len(t.parts) {
		b.mu.RUnlock()
		return nil, fmt.Errorf("%s-%d: no such partition", t.name, id)
	}
	p := t.parts[id]
	b.mu.RUnlock()
	if p != nil {
		return p, nil
	}
	l, err := partlog.Open(b.partitionDir(t.id, id), b.logConfig(b.topicConfigs(t)), b.log.With("topic", t.name, "partition", id))
	if err != nil {
		return nil, fmt.Errorf("open %s-%d: %w", t.name, id, err)
	}
	p = &partition{t: t, id: id, log: l}
	p.leaderEpoch.Store(-1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err = b.attachRemote(ctx, p)
	cancel()
	if err != nil {
		l.Close()
		return nil, err
	}
	p.hw.Store(l.LogStartOffset())
	b.mu.Lock()
	t.parts[id] = p
	b.mu.Unlock()
	return p, nil
}

// unhostPartition stops replicating a partition this broker no longer
// holds a replica of and deletes its local log.
func (b *Broker) unhostPartition(p *partition) {
	b.stopReplica(p)
	b.mu.Lock()
	if int(p.id) < len(p.t.parts) && p.t.parts[p.id] == p {
		p.t.parts[p.id] = nil
	}
	b.mu.Unlock()
	p.wake()
	if err := p.log.Remove(); err != nil {
		b.log.Warn("removing partition log", "topic", p.t.name, "partition", p.id, "err", err)
	}
	b.log.Info("partition replica removed from this broker", "topic", p.t.name, "partition", p.id)
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

// partitionOf returns the partition if this broker hosts a replica of it,
// else nil (see notHostedCode for the error to answer).
func (b *Broker) partitionOf(name string, partition int32) *partition {
	b.mu.RLock()
	defer b.mu.RUnlock()
	t := b.topics[name]
	if t == nil || partition < 0 || int(partition) >= len(t.parts) {
		return nil
	}
	return t.parts[partition]
}

// partitionExists reports whether the topic has the partition, hosted here
// or not.
func (b *Broker) partitionExists(name string, partition int32) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	t := b.topics[name]
	return t != nil && partition >= 0 && int(partition) < len(t.parts)
}

// notHostedCode is the error for a request about a partition this broker
// holds no replica of: NOT_LEADER_OR_FOLLOWER when the partition exists
// (the client's metadata is stale), else UNKNOWN_TOPIC_OR_PARTITION.
func (b *Broker) notHostedCode(t *topic, partition int32) int16 {
	if t != nil && b.partitionExists(t.name, partition) {
		return kerr.NotLeaderForPartition.Code
	}
	return kerr.UnknownTopicOrPartition.Code
}

func (b *Broker) allPartitions() []*partition {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []*partition
	for _, t := range b.topics {
		for _, p := range t.parts {
			if p != nil {
				out = append(out, p)
			}
		}
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

// createTopic stores the topic in the metastore, publishes it, and waits
// (bounded) until the controller has given every partition a leader and
// this broker has taken up its own replicas.
func (b *Broker) createTopic(ctx context.Context, name string, partitions int32, rf int16, configs map[string]string) (*topic, error) {
	return b.createTopicAssigned(ctx, name, partitions, rf, configs, nil)
}

// createTopicAssigned is createTopic with an explicit replica assignment
// (one replica list per partition, the first the preferred leader), which
// is written as the partitions' initial states instead of asking the
// controller to place them.
func (b *Broker) createTopicAssigned(ctx context.Context, name string, partitions int32, rf int16, configs map[string]string, assign [][]int32) (*topic, error) {
	if live := b.liveBrokerCount(); int(rf) > live {
		return nil, fmt.Errorf("%w: replication factor %d is larger than the %d available brokers", errReplicationFactor, rf, live)
	}
	mt, err := b.meta.CreateTopic(ctx, metastore.Topic{Name: name, Partitions: partitions, ReplicationFactor: rf, Configs: configs})
	if err != nil {
		if errors.Is(err, metastore.ErrExists) {
			return nil, errTopicExists
		}
		return nil, err
	}
	if len(assign) > 0 {
		states := make([]metastore.PartitionState, len(assign))
		for i, r := range assign {
			states[i] = metastore.PartitionState{TopicID: mt.ID, Partition: int32(i), Replicas: r, Leader: r[0], ISR: r}
		}
		if err := b.meta.CreatePartitionStates(ctx, states); err != nil && !errors.Is(err, metastore.ErrExists) {
			return nil, err
		}
	}
	b.applyMu.Lock()
	t := b.addTopic(mt)
	b.applyMu.Unlock()
	b.waitPartitionsReady(ctx, t)
	return t, nil
}

var errReplicationFactor = errors.New("invalid replication factor")

// deleteTopic removes the topic from the metastore, unpublishes it and
// deletes its logs, its remote segments and committed offsets. Other
// brokers drop their replicas when their topic watch sees it go.
func (b *Broker) deleteTopic(ctx context.Context, name string) error {
	// Looked up first: this broker's own topic watch may unpublish it as
	// soon as the metastore delete lands.
	t := b.topicByName(name)
	mt, err := b.meta.DeleteTopic(ctx, name)
	if err != nil {
		return err
	}
	if t != nil {
		b.removeTopicLocal(t)
	}
	b.detachRemote(mt)
	b.log.Info("deleted topic", "topic", name)
	return nil
}

// removeTopicLocal unpublishes a deleted topic and removes its local logs.
func (b *Broker) removeTopicLocal(t *topic) {
	b.mu.Lock()
	if b.byID[t.id] != t {
		b.mu.Unlock()
		return
	}
	delete(b.byID, t.id)
	if b.topics[t.name] == t {
		delete(b.topics, t.name)
	}
	parts := t.parts
	b.mu.Unlock()
	for _, p := range parts {
		if p == nil {
			continue
		}
		b.stopReplica(p)
		p.wake()
		if err := p.log.Remove(); err != nil {
			b.log.Warn("removing partition log", "topic", t.name, "partition", p.id, "err", err)
		}
	}
	os.Remove(filepath.Join(b.cfg.DataDir, "logs", fmt.Sprintf("%x", t.id)))
	b.groups.TopicDeleted(t.name)
	b.metrics.dropTopic(t.name)
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
	b.applyTopicConfigs(t, configs)
	return nil
}

func (b *Broker) applyTopicConfigs(t *topic, configs map[string]string) {
	b.mu.Lock()
	t.configs = configs
	t.limits.Store(b.produceLimitsOf(configs))
	parts := t.parts
	b.mu.Unlock()
	cfg := b.logConfig(configs)
	for _, p := range parts {
		if p != nil {
			p.log.SetConfig(cfg)
		}
	}
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

// topicFresh is topicByName for admin requests: a topic this broker's
// watch has not delivered yet (just created through another broker) is
// read from etcd and published, so the request does not fail with
// UNKNOWN_TOPIC_OR_PARTITION while the watch catches up.
func (b *Broker) topicFresh(ctx context.Context, name string) *topic {
	if t := b.topicByName(name); t != nil {
		return t
	}
	mt, err := b.meta.GetTopic(ctx, name)
	if err != nil {
		return nil
	}
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	return b.addTopic(mt)
}
