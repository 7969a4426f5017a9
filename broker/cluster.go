package broker

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-io/strata/broker/controller"
	"github.com/strata-io/strata/metastore"
)

// clusterView is this broker's in-memory copy of cluster metadata, kept
// fresh by etcd watches, so Metadata and routing never touch etcd.
type clusterView struct {
	mu         sync.RWMutex
	brokers    map[int32]metastore.BrokerInfo
	states     map[metastore.PartitionID]metastore.PartitionState
	controller atomic.Int32
}

func (v *clusterView) broker(id int32) (metastore.BrokerInfo, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	bi, ok := v.brokers[id]
	return bi, ok
}

func (v *clusterView) state(id metastore.PartitionID) (metastore.PartitionState, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	st, ok := v.states[id]
	return st, ok
}

// putLocked stores st unless a newer revision of it is already known.
// Caller holds mu.
func (v *clusterView) putLocked(st metastore.PartitionState) {
	if old, ok := v.states[st.ID()]; !ok || old.Revision <= st.Revision {
		v.states[st.ID()] = st
	}
}

// liveBrokers are the registered brokers, sorted by node id.
func (b *Broker) liveBrokers() []metastore.BrokerInfo {
	b.view.mu.RLock()
	defer b.view.mu.RUnlock()
	out := make([]metastore.BrokerInfo, 0, len(b.view.brokers))
	for _, bi := range b.view.brokers {
		out = append(out, bi)
	}
	slices.SortFunc(out, func(x, y metastore.BrokerInfo) int { return int(x.NodeID) - int(y.NodeID) })
	return out
}

// sessionValid reports whether this broker's etcd lease is certainly still
// alive. A broker that may have lost it (paused, cut off from etcd) must
// not act as leader: the controller may already have elected another.
func (b *Broker) sessionValid() bool {
	s := b.session
	return s == nil || time.Now().Before(s.ValidUntil())
}

// startCluster registers this broker, then starts the metadata watches,
// the controller candidate, the replica fetchers and the ISR checker. They
// run until ctx is done.
func (b *Broker) startCluster(ctx context.Context) error {
	// The registration outlives ctx: it ends in shutdown, after the last
	// uploads, so partitions nobody else can lead stay led until then.
	sctx, sstop := context.WithCancel(context.WithoutCancel(ctx))
	sess, err := b.meta.RegisterBrokerSession(sctx, b.brokerInfo(), b.cfg.SessionTimeout)
	if err != nil {
		sstop()
		return fmt.Errorf("register broker: %w", err)
	}
	b.sessStop = sstop
	b.session = sess
	run := func(name string, f func(context.Context) error) {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			for ctx.Err() == nil {
				err := f(ctx)
				if ctx.Err() != nil {
					return
				}
				b.log.Warn("cluster loop stopped; restarting", "loop", name, "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}()
	}
	run("brokers", func(ctx context.Context) error { return b.meta.WatchBrokers(ctx, b.applyBrokers) })
	run("topics", func(ctx context.Context) error { return b.meta.WatchTopics(ctx, b.applyTopics) })
	run("partitions", func(ctx context.Context) error { return b.meta.WatchPartitionStates(ctx, b.applyStates) })
	b.ctlCtx, b.ctlStop = context.WithCancel(ctx)
	ctlDone := make(chan struct{})
	b.ctlDone = ctlDone
	go func() {
		defer close(ctlDone)
		err := controller.Run(b.ctlCtx, controller.Config{
			NodeID:                  b.cfg.NodeID,
			Store:                   b.meta,
			Logger:                  b.log.With("component", "controller"),
			LeaderRebalanceInterval: b.cfg.LeaderRebalanceInterval,
			SessionTimeout:          b.cfg.SessionTimeout,
			Registerer:              b.cfg.Registerer,
		})
		if err != nil && b.ctlCtx.Err() == nil {
			b.log.Error("controller stopped", "err", err)
		}
	}()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.clusterTicker(ctx)
	}()
	return nil
}

// clusterTicker shrinks ISRs of lagging followers and refreshes the
// controller id shown in Metadata.
func (b *Broker) clusterTicker(ctx context.Context) {
	t := time.NewTicker(min(b.cfg.ReplicaLagTimeMax/4, time.Second))
	defer t.Stop()
	last := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b.shrinkISRs()
		if time.Since(last) > 2*time.Second {
			last = time.Now()
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if id, err := b.meta.Controller(cctx); err == nil {
				b.view.controller.Store(id)
			}
			cancel()
		}
	}
}

func (b *Broker) applyBrokers(list []metastore.BrokerInfo) {
	m := make(map[int32]metastore.BrokerInfo, len(list))
	for _, bi := range list {
		m[bi.NodeID] = bi
	}
	b.view.mu.Lock()
	b.view.brokers = m
	b.view.mu.Unlock()
	b.coordinatorsChanged()
	// A leader that (re)appeared or moved: point followers at it.
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	for _, p := range b.allPartitions() {
		b.refollow(p)
	}
}

func (b *Broker) applyTopics(list []metastore.Topic) {
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	seen := make(map[[16]byte]bool, len(list))
	for _, mt := range list {
		seen[mt.ID] = true
		b.applyTopicLocked(mt)
	}
	for _, t := range b.snapshotTopics() {
		if !seen[t.id] {
			b.log.Info("topic deleted; removing local replicas", "topic", t.name)
			b.removeTopicLocal(t)
		}
	}
}

// applyTopic publishes a topic (or its new partition count) this broker
// changed itself, ahead of its own watch.
func (b *Broker) applyTopic(mt metastore.Topic) {
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	b.applyTopicLocked(mt)
}

func (b *Broker) applyTopicLocked(mt metastore.Topic) {
	t := b.addTopic(mt)
	// States may have arrived before their topic (or partition count).
	for i := int32(0); i < mt.Partitions; i++ {
		if st, ok := b.view.state(metastore.PartitionID{TopicID: t.id, Partition: i}); ok {
			b.applyStateLocked(t, st)
		}
	}
}

func (b *Broker) applyStates(changed []metastore.PartitionState, deleted []metastore.PartitionID) {
	b.view.mu.Lock()
	for _, id := range deleted {
		delete(b.view.states, id)
	}
	for _, st := range changed {
		b.view.putLocked(st)
	}
	b.view.mu.Unlock()
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	for _, st := range changed {
		if t := b.topicByID(st.TopicID); t != nil {
			b.applyStateLocked(t, st)
		}
	}
}

// applyPartitionState applies a state this broker wrote itself.
func (b *Broker) applyPartitionState(st metastore.PartitionState) {
	b.view.mu.Lock()
	b.view.putLocked(st)
	b.view.mu.Unlock()
	b.applyMu.Lock()
	defer b.applyMu.Unlock()
	if t := b.topicByID(st.TopicID); t != nil {
		b.applyStateLocked(t, st)
	}
}

// applyStateLocked hosts, drops or changes the role of this broker's
// replica of one partition. Caller holds applyMu.
func (b *Broker) applyStateLocked(t *topic, st metastore.PartitionState) {
	self := b.cfg.NodeID
	hosted := slices.Contains(st.Replicas, self)
	b.mu.RLock()
	var p *partition
	ahead := int(st.Partition) >= len(t.parts) // written ahead of a partition count increase
	if !ahead {
		p = t.parts[st.Partition]
	}
	b.mu.RUnlock()
	if !hosted {
		if p != nil {
			b.unhostPartition(p)
		}
		return
	}
	if ahead {
		return // applied with the count increase (applyTopicLocked)
	}
	if p == nil {
		var err error
		if p, err = b.hostPartition(t, st.Partition); err != nil {
			b.log.Error("cannot open partition replica", "topic", t.name, "partition", st.Partition, "err", err)
			return
		}
	}
	if st.Leader == self && b.session != nil && st.Revision <= b.session.Revision() {
		// Written before this incarnation registered: the controller has
		// not yet considered this process (it may have lost data in a
		// crash), so it must not lead until re-elected at a new epoch.
		st.Leader = -1
	}
	if st.Leader == self {
		b.becomeLeader(p, st)
	} else {
		b.becomeFollower(p, st)
	}
}

func (b *Broker) becomeLeader(p *partition, st metastore.PartitionState) {
	self := b.cfg.NodeID
	p.replMu.Lock()
	if p.rs.known && st.Revision < p.rs.revision {
		p.replMu.Unlock()
		return
	}
	if p.rs.isLeader && p.rs.epoch == st.LeaderEpoch {
		// Same leadership: the ISR or replica set changed.
		p.rs.isr, p.rs.replicas, p.rs.revision = st.ISR, st.Replicas, st.Revision
		solo := len(st.ISR) == 1 && st.ISR[0] == self
		p.soloLeader.Store(solo)
		hw := p.recomputeHWLocked(self)
		p.replMu.Unlock()
		if hw >= 0 {
			p.advanceHW(hw)
		}
		return
	}
	wasFollowing := p.rs.following.leaderID >= 0 && p.rs.following.addr != ""
	p.replMu.Unlock()
	if wasFollowing && b.replicas != nil {
		b.replicas.Unfollow(replicaPartition{b, p})
	}
	now := time.Now()
	p.replMu.Lock()
	p.rs = replState{
		known: true, leaderID: self, epoch: st.LeaderEpoch, replicas: st.Replicas, isr: st.ISR,
		revision: st.Revision, isLeader: true, followers: map[int32]*followerState{},
		following: followTarget{leaderID: -1},
	}
	for _, id := range st.ISR {
		if id != self {
			p.rs.followers[id] = &followerState{leo: -1, lastCaughtUp: now}
		}
	}
	solo := len(st.ISR) == 1 && st.ISR[0] == self
	p.soloLeader.Store(solo)
	p.leaderEpoch.Store(st.LeaderEpoch)
	p.replMu.Unlock()
	if p.hw.Load() < p.log.LogStartOffset() {
		p.hw.Store(p.log.LogStartOffset())
	}
	if solo {
		p.advanceHW(p.log.LogEndOffset())
	}
	b.trackUpload(p)
	p.wake()
	b.log.Info("became partition leader", "topic", p.t.name, "partition", p.id, "epoch", st.LeaderEpoch,
		"isr", st.ISR, "log_end", p.log.LogEndOffset(), "high_watermark", p.hw.Load())
}

func (b *Broker) becomeFollower(p *partition, st metastore.PartitionState) {
	p.replMu.Lock()
	if p.rs.known && st.Revision < p.rs.revision {
		p.replMu.Unlock()
		return
	}
	wasLeader := p.rs.isLeader
	if wasLeader {
		p.leaderEpoch.Store(-1)
		p.soloLeader.Store(false)
		p.failAcksLocked(notLeaderCode)
	}
	following := p.rs.following
	if !p.rs.known {
		following = followTarget{leaderID: -1}
	}
	p.rs = replState{
		known: true, leaderID: st.Leader, epoch: st.LeaderEpoch, replicas: st.Replicas, isr: st.ISR,
		revision: st.Revision, following: following,
	}
	p.replMu.Unlock()
	if wasLeader {
		b.untrackUpload(p)
		b.log.Info("no longer partition leader", "topic", p.t.name, "partition", p.id, "new_leader", st.Leader, "epoch", st.LeaderEpoch)
	}
	if hw, end := p.hw.Load(), p.log.LogEndOffset(); hw > end {
		p.setHW(end)
	}
	p.wake()
	b.refollow(p)
}

// refollow points the partition's fetcher at its current leader (after a
// leader change or when the leader's address becomes known). Caller holds
// applyMu.
func (b *Broker) refollow(p *partition) {
	if b.replicas == nil {
		return
	}
	p.replMu.Lock()
	if !p.rs.known || p.rs.isLeader {
		p.replMu.Unlock()
		return
	}
	want := followTarget{leaderID: p.rs.leaderID, epoch: p.rs.epoch}
	if want.leaderID >= 0 {
		if bi, ok := b.view.broker(want.leaderID); ok {
			want.addr = net.JoinHostPort(bi.Host, strconv.Itoa(int(bi.Port)))
		}
	}
	if want == p.rs.following {
		p.replMu.Unlock()
		return
	}
	p.rs.following = want
	p.replMu.Unlock()
	if want.addr == "" {
		b.replicas.Unfollow(replicaPartition{b, p})
		return
	}
	b.replicas.Follow(replicaPartition{b, p}, want.leaderID, want.addr, want.epoch)
}

// stopReplica ends leadership or following of a partition that is going
// away from this broker.
func (b *Broker) stopReplica(p *partition) {
	p.replMu.Lock()
	wasLeader := p.rs.isLeader
	p.leaderEpoch.Store(-1)
	p.soloLeader.Store(false)
	p.failAcksLocked(notLeaderCode)
	p.rs = replState{following: followTarget{leaderID: -1}}
	p.replMu.Unlock()
	if b.replicas != nil {
		b.replicas.Unfollow(replicaPartition{b, p})
	}
	if wasLeader {
		b.untrackUpload(p)
	}
}

// waitPartitionsReady waits (up to 10 s or ctx) until every partition of t
// has a leader and this broker has taken up the replicas it holds.
func (b *Broker) waitPartitionsReady(ctx context.Context, t *topic) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		if b.partitionsReady(t) {
			return
		}
		select {
		case <-ctx.Done():
			b.log.Warn("topic partitions not ready yet; clients will retry", "topic", t.name)
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (b *Broker) partitionsReady(t *topic) bool {
	n := t.numPartitions(b)
	for i := 0; i < n; i++ {
		st, ok := b.view.state(metastore.PartitionID{TopicID: t.id, Partition: int32(i)})
		if !ok || st.Leader < 0 {
			return false
		}
		if st.Leader == b.cfg.NodeID {
			p := b.partitionOf(t.name, int32(i))
			if p == nil || p.currentLeaderEpoch() != st.LeaderEpoch {
				return false
			}
		}
	}
	return true
}

// controlledShutdown asks the controller to move this broker's leaderships
// away and waits until it has (or nothing more can move), so clients see
// no errors when the broker stops.
func (b *Broker) controlledShutdown() {
	if b.session == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.ControlledShutdownTimeout)
	defer cancel()
	if err := b.session.SetShuttingDown(ctx); err != nil {
		b.log.Warn("controlled shutdown: cannot announce it", "err", err)
		return
	}
	start := time.Now()
	for {
		n := b.movableLeaderships()
		if n == 0 {
			b.log.Info("controlled shutdown: leaderships moved", "took", time.Since(start).Round(time.Millisecond))
			return
		}
		select {
		case <-ctx.Done():
			b.log.Warn("controlled shutdown timed out; stopping anyway", "still_leading", n)
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// movableLeaderships counts partitions this broker leads that have another
// live, in-sync replica to take over.
func (b *Broker) movableLeaderships() int {
	b.view.mu.RLock()
	defer b.view.mu.RUnlock()
	n := 0
	for _, st := range b.view.states {
		if st.Leader != b.cfg.NodeID {
			continue
		}
		for _, id := range st.ISR {
			if bi, ok := b.view.brokers[id]; ok && id != b.cfg.NodeID && !bi.ShuttingDown {
				n++
				break
			}
		}
	}
	return n
}

// stopController resigns the controllership (if held) so another broker
// takes over at once.
func (b *Broker) stopController() {
	if b.ctlStop == nil {
		return
	}
	b.ctlStop()
	select {
	case <-b.ctlDone:
	case <-time.After(5 * time.Second):
		b.log.Warn("controller did not stop within 5s")
	}
}

// liveBrokerCount is the number of registered brokers (at least this one).
func (b *Broker) liveBrokerCount() int {
	b.view.mu.RLock()
	defer b.view.mu.RUnlock()
	if _, ok := b.view.brokers[b.cfg.NodeID]; !ok {
		return len(b.view.brokers) + 1
	}
	return len(b.view.brokers)
}

// replicasValid reports whether ids name distinct live brokers.
func (b *Broker) replicasValid(ids []int32) bool {
	if len(ids) == 0 {
		return false
	}
	b.view.mu.RLock()
	defer b.view.mu.RUnlock()
	for i, id := range ids {
		if _, ok := b.view.brokers[id]; !ok && id != b.cfg.NodeID {
			return false
		}
		if slices.Contains(ids[:i], id) {
			return false
		}
	}
	return true
}
