package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// PartitionState is one partition as a broker's Metadata reports it.
type PartitionState struct {
	Partition   int32
	Leader      int32 // node id, -1 when none
	LeaderEpoch int32
	Replicas    []int32
	ISR         []int32
	ErrorCode   int16
	From        int32 // node id of the broker that answered
}

func (p PartitionState) String() string {
	return fmt.Sprintf("p%d leader=%d epoch=%d replicas=%v isr=%v err=%d (per broker %d)",
		p.Partition, p.Leader, p.LeaderEpoch, p.Replicas, p.ISR, p.ErrorCode, p.From)
}

// TopicState is a topic's partitions by partition number.
type TopicState map[int32]PartitionState

func (s TopicState) String() string {
	var b strings.Builder
	for _, p := range slices.Sorted(maps.Keys(s)) {
		fmt.Fprintf(&b, "\n  %s", s[p])
	}
	return b.String()
}

// BrokerIndex is the index in c.Brokers of node id, or -1.
func (c *Cluster) BrokerIndex(nodeID int32) int {
	i := int(nodeID) - 1
	if i < 0 || i >= len(c.Brokers) {
		return -1
	}
	return i
}

// Client is a franz-go client seeded with every broker of the cluster.
func (c *Cluster) Client(opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.Addrs()...)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("harness: cluster client: %w", err)
	}
	return cl, nil
}

// BrokerMetadata asks the broker at addr (and only it) for topic's metadata.
func BrokerMetadata(ctx context.Context, addr, topic string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	return brokerMetadata(ctx, addr, req)
}

// brokerMetadata sends req to the broker at addr only, without retries.
func brokerMetadata(ctx context.Context, addr string, req *kmsg.MetadataRequest) (*kmsg.MetadataResponse, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequestRetries(0), kgo.DialTimeout(2*time.Second))
	if err != nil {
		return nil, fmt.Errorf("harness: client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	resp, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("harness: metadata from %s: %w", addr, err)
	}
	return resp.(*kmsg.MetadataResponse), nil
}

// TopicState asks every running broker for topic's metadata and keeps,
// per partition, the answer with the highest leader epoch: a broker that
// has just restarted or was paused may lag behind. It fails only when no
// broker answered or the topic is unknown everywhere.
func (c *Cluster) TopicState(ctx context.Context, topic string) (TopicState, error) {
	out := TopicState{}
	var errs []error
	answered := false
	for i, b := range c.Brokers {
		if b == nil || !b.Running() {
			continue
		}
		resp, err := BrokerMetadata(ctx, b.Addr, topic)
		if err != nil {
			errs = append(errs, fmt.Errorf("broker %d: %w", i+1, err))
			continue
		}
		answered = true
		for _, t := range resp.Topics {
			if t.Topic == nil || *t.Topic != topic {
				continue
			}
			if t.ErrorCode != 0 {
				errs = append(errs, fmt.Errorf("broker %d: topic %s: %w", i+1, topic, kerr.ErrorForCode(t.ErrorCode)))
				continue
			}
			for _, p := range t.Partitions {
				st := PartitionState{Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
					Replicas: slices.Clone(p.Replicas), ISR: slices.Clone(p.ISR), ErrorCode: p.ErrorCode, From: c.NodeID(i)}
				slices.Sort(st.ISR)
				if old, ok := out[p.Partition]; !ok || st.LeaderEpoch > old.LeaderEpoch ||
					(st.LeaderEpoch == old.LeaderEpoch && old.Leader < 0 && st.Leader >= 0) {
					out[p.Partition] = st
				}
			}
		}
	}
	if len(out) == 0 {
		if !answered {
			return nil, fmt.Errorf("harness: no broker answered Metadata: %w", errors.Join(errs...))
		}
		return nil, fmt.Errorf("harness: topic %s in no broker's metadata: %w", topic, errors.Join(errs...))
	}
	return out, nil
}

// WaitTopic polls TopicState until check accepts it, and returns the
// accepted state; on timeout the error carries check's last complaint.
func (c *Cluster) WaitTopic(ctx context.Context, topic string, check func(TopicState) error) (TopicState, error) {
	var last error
	for {
		st, err := c.TopicState(ctx, topic)
		if err == nil {
			if err = check(st); err == nil {
				return st, nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("harness: wait for topic %s: %w (last: %v)", topic, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// FullyReplicated is a WaitTopic check: want partitions, each with a
// leader, rf replicas and all of them in the ISR.
func FullyReplicated(partitions int32, rf int) func(TopicState) error {
	return func(st TopicState) error {
		if len(st) != int(partitions) {
			return fmt.Errorf("%d partitions in metadata, want %d", len(st), partitions)
		}
		for _, p := range st {
			if p.ErrorCode != 0 || p.Leader < 0 || len(p.Replicas) != rf || len(p.ISR) != rf {
				return fmt.Errorf("not fully replicated: %s", p)
			}
		}
		return nil
	}
}

// CreateTopic creates topic with partitions and replication factor rf
// through the cluster (retrying the retriable errors an election causes),
// then waits until Metadata shows every partition led and fully in sync.
func (c *Cluster) CreateTopic(ctx context.Context, topic string, partitions int32, rf int16, configs map[string]*string) (TopicState, error) {
	cl, err := c.Client()
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for {
		resp, err := adm.CreateTopic(ctx, partitions, rf, configs, topic)
		if err == nil {
			err = resp.Err
		}
		if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
			break
		}
		if !kerr.IsRetriable(err) || ctx.Err() != nil {
			return nil, fmt.Errorf("harness: create topic %s (%d partitions, RF %d): %w", topic, partitions, rf, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	st, err := c.WaitTopic(ctx, topic, FullyReplicated(partitions, int(rf)))
	if err != nil {
		return st, err
	}
	// Every broker's topic view is fed by its own etcd watch: wait until
	// all of them know the topic, so requests to any broker (group
	// commits check the topic) see it.
	for {
		missing := c.brokersMissing(ctx, topic, partitions)
		if missing == nil {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("harness: topic %s unknown to brokers %v: %w", topic, missing, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// brokersMissing lists the running brokers whose Metadata does not show
// topic with all its partitions.
func (c *Cluster) brokersMissing(ctx context.Context, topic string, partitions int32) []int32 {
	var missing []int32
	for i, b := range c.Brokers {
		if b == nil || !b.Running() {
			continue
		}
		resp, err := BrokerMetadata(ctx, b.Addr, topic)
		ok := err == nil && len(resp.Topics) == 1 && resp.Topics[0].ErrorCode == 0 && len(resp.Topics[0].Partitions) == int(partitions)
		if !ok {
			missing = append(missing, c.NodeID(i))
		}
	}
	return missing
}

// WaitBrokers waits until every running broker's Metadata lists every
// running broker: each broker's view of the others comes from its own etcd
// watch, so a request that needs the whole cluster (CreateTopics at RF 3)
// can otherwise reach a broker that does not yet know a peer that just
// started.
func (c *Cluster) WaitBrokers(ctx context.Context) error {
	for {
		want := 0
		for _, b := range c.Brokers {
			if b != nil && b.Running() {
				want++
			}
		}
		var lagging []string
		for i, b := range c.Brokers {
			if b == nil || !b.Running() {
				continue
			}
			n, err := brokersKnown(ctx, b.Addr)
			if err != nil || n != want {
				lagging = append(lagging, fmt.Sprintf("broker %d knows %d of %d (err %v)", c.NodeID(i), n, want, err))
			}
		}
		if lagging == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("harness: brokers do not see each other: %s: %w", strings.Join(lagging, "; "), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// brokersKnown is how many brokers the broker at addr lists in Metadata.
func brokersKnown(ctx context.Context, addr string) (int, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{} // none: only the brokers
	resp, err := brokerMetadata(ctx, addr, req)
	if err != nil {
		return 0, err
	}
	return len(resp.Brokers), nil
}
