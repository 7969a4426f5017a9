package broker

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metastore"
)

// replState is a hosted partition's place in replication, as this broker
// last learnt it from the partition state in etcd (and, on the leader, as
// it changed the ISR itself). Guarded by partition.replMu.
type replState struct {
	known    bool // a partition state has been applied
	leaderID int32
	epoch    int32
	replicas []int32
	isr      []int32
	revision int64
	isLeader bool

	// Leader only: what each follower has reported through its fetches.
	followers map[int32]*followerState
	// isrBusy is set while this leader writes an ISR change to etcd.
	isrBusy bool

	// Follower only: the leader this partition is fetching from.
	following followTarget
}

type followTarget struct {
	leaderID int32
	addr     string
	epoch    int32
}

// followerState is the leader's record of one follower (Kafka's replica
// state): its log end and when it was last caught up.
type followerState struct {
	leo            int64 // -1 until its first fetch
	lastFetch      time.Time
	leaderEndAtReq int64 // the leader's log end at the follower's previous fetch
	lastCaughtUp   time.Time
}

// ackWaiter is an acks=all produce waiting for the high watermark to pass
// offset; code is sent once (0 or an error code).
type ackWaiter struct {
	offset int64
	code   chan int16
}

var errNotLeader = errors.New("not the partition leader")

// highWatermark is what consumers may read up to (exclusive).
func (p *partition) highWatermark() int64 { return p.hw.Load() }

// advanceHW raises the high watermark to v (never lowers it) and releases
// fetches and acks=all produces waiting for it.
func (p *partition) advanceHW(v int64) {
	for {
		cur := p.hw.Load()
		if v <= cur {
			return
		}
		if p.hw.CompareAndSwap(cur, v) {
			break
		}
	}
	p.wake()
	p.releaseAcks()
}

// setHW sets the high watermark outright (a follower after truncation).
func (p *partition) setHW(v int64) {
	p.hw.Store(v)
	p.wake()
}

// isLeader reports whether this broker leads the partition with a lease it
// knows to be valid.
func (b *Broker) isLeader(p *partition) bool {
	return p.leaderEpoch.Load() >= 0 && b.sessionValid()
}

// leaderEpochOf is the epoch this broker leads the partition at, or -1.
func (p *partition) currentLeaderEpoch() int32 { return p.leaderEpoch.Load() }

// waitAcked blocks until the high watermark passes offset (every in-sync
// replica has it), the partition loses leadership, or ctx ends. It returns
// a Kafka error code (0 on success).
func (p *partition) waitAcked(ctx context.Context, offset int64, minISR int64) int16 {
	if p.hw.Load() > offset {
		return p.ackCode(minISR)
	}
	w := ackWaiter{offset: offset, code: make(chan int16, 1)}
	p.replMu.Lock()
	if !p.rs.isLeader {
		p.replMu.Unlock()
		return kerr.NotLeaderForPartition.Code
	}
	p.acks = append(p.acks, w)
	p.replMu.Unlock()
	if p.hw.Load() > offset { // raced with an advance before we were queued
		p.releaseAcks()
	}
	select {
	case code := <-w.code:
		if code != 0 {
			return code
		}
		return p.ackCode(minISR)
	case <-ctx.Done():
		p.replMu.Lock()
		p.acks = slices.DeleteFunc(p.acks, func(a ackWaiter) bool { return a.code == w.code })
		p.replMu.Unlock()
		return kerr.RequestTimedOut.Code
	}
}

// ackCode checks min.insync.replicas at acknowledgement time, as Kafka does
// (NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank meanwhile).
func (p *partition) ackCode(minISR int64) int16 {
	p.replMu.Lock()
	n := len(p.rs.isr)
	p.replMu.Unlock()
	if int64(n) < minISR {
		return kerr.NotEnoughReplicasAfterAppend.Code
	}
	return 0
}

// releaseAcks completes every acks=all waiter below the high watermark.
func (p *partition) releaseAcks() {
	hw := p.hw.Load()
	p.replMu.Lock()
	keep := p.acks[:0]
	for _, w := range p.acks {
		if w.offset < hw {
			w.code <- 0
		} else {
			keep = append(keep, w)
		}
	}
	clear(p.acks[len(keep):])
	p.acks = keep
	p.replMu.Unlock()
}

// failAcks completes every waiter with code; caller holds replMu.
func (p *partition) failAcksLocked(code int16) {
	for _, w := range p.acks {
		w.code <- code
	}
	clear(p.acks)
	p.acks = p.acks[:0]
}

// isrSize is the number of in-sync replicas as this leader knows it.
func (p *partition) isrSize() int {
	p.replMu.Lock()
	defer p.replMu.Unlock()
	return len(p.rs.isr)
}

// solo reports whether the ISR is this broker alone (the high watermark is
// then the log end, and acks=all means fsynced).
func (p *partition) solo() bool { return p.soloLeader.Load() }

// recomputeHWLocked advances the high watermark to the smallest log end in
// the ISR. Caller holds replMu and is the leader.
func (p *partition) recomputeHWLocked(self int32) int64 {
	hw := p.log.LogEndOffset()
	for _, id := range p.rs.isr {
		if id == self {
			continue
		}
		f := p.rs.followers[id]
		if f == nil || f.leo < 0 {
			return -1 // not heard from yet: no advance
		}
		hw = min(hw, f.leo)
	}
	return hw
}

// followerFetched records a follower's fetch at offset (it holds every
// offset below) on the leader: the high watermark may advance and the
// follower may rejoin the ISR. It returns false when this broker is not
// the leader.
func (b *Broker) followerFetched(p *partition, replica int32, offset int64) bool {
	now := time.Now()
	leo := p.log.LogEndOffset()
	p.replMu.Lock()
	if !p.rs.isLeader {
		p.replMu.Unlock()
		return false
	}
	f := p.rs.followers[replica]
	if f == nil {
		f = &followerState{leo: -1}
		p.rs.followers[replica] = f
	}
	if offset >= leo {
		f.lastCaughtUp = now
	} else if offset >= f.leaderEndAtReq && !f.lastFetch.IsZero() {
		f.lastCaughtUp = f.lastFetch
	}
	f.leo, f.lastFetch, f.leaderEndAtReq = offset, now, leo
	hw := p.recomputeHWLocked(b.cfg.NodeID)
	inISR := slices.Contains(p.rs.isr, replica)
	expand := !inISR && !p.rs.isrBusy && slices.Contains(p.rs.replicas, replica) && offset >= p.hw.Load() &&
		offset >= b.epochStart(p, p.rs.epoch)
	var next []int32
	if expand {
		next = append(slices.Clone(p.rs.isr), replica)
		p.rs.isrBusy = true
	}
	p.replMu.Unlock()
	if hw >= 0 {
		p.advanceHW(hw)
	}
	if expand {
		go b.changeISR(p, next, "caught up", replica)
	}
	return true
}

// epochStart is the first offset this leader wrote in epoch (its log end
// when it has written nothing in it yet): a follower joins the ISR only
// once it has everything from before the leader's epoch.
func (b *Broker) epochStart(p *partition, epoch int32) int64 {
	_, end := p.log.EndOffsetForEpoch(epoch - 1)
	if end < 0 {
		return p.log.LogStartOffset()
	}
	return end
}

// shrinkISRs drops followers that have not caught up for
// replica.lag.time.max.ms from the ISR of every partition this broker leads.
func (b *Broker) shrinkISRs() {
	now := time.Now()
	for _, p := range b.allPartitions() {
		p.replMu.Lock()
		if !p.rs.isLeader || p.rs.isrBusy || len(p.rs.isr) <= 1 {
			p.replMu.Unlock()
			continue
		}
		var lagging []int32
		for _, id := range p.rs.isr {
			if id == b.cfg.NodeID {
				continue
			}
			f := p.rs.followers[id]
			if f != nil && f.leo >= p.log.LogEndOffset() {
				f.lastCaughtUp = now
				continue
			}
			if f == nil || now.Sub(f.lastCaughtUp) > b.cfg.ReplicaLagTimeMax {
				lagging = append(lagging, id)
			}
		}
		if len(lagging) == 0 {
			p.replMu.Unlock()
			continue
		}
		next := slices.DeleteFunc(slices.Clone(p.rs.isr), func(id int32) bool { return slices.Contains(lagging, id) })
		p.rs.isrBusy = true
		p.replMu.Unlock()
		go b.changeISR(p, next, "lagging", lagging...)
	}
}

// changeISR writes a new ISR to etcd by compare-and-swap, only while the
// stored state still names this broker leader at its epoch, then adopts it.
func (b *Broker) changeISR(p *partition, isr []int32, why string, who ...int32) {
	p.replMu.Lock()
	epoch := p.rs.epoch
	p.replMu.Unlock()
	ctx, cancel := context.WithTimeout(b.bg, 10*time.Second)
	defer cancel()
	st, err := b.meta.UpdatePartitionState(ctx, metastore.PartitionID{TopicID: p.t.id, Partition: p.id}, func(s *metastore.PartitionState) error {
		if s.Leader != b.cfg.NodeID || s.LeaderEpoch != epoch {
			return errNotLeader
		}
		s.ISR = isr
		return nil
	})
	p.replMu.Lock()
	p.rs.isrBusy = false
	p.replMu.Unlock()
	if err != nil {
		if !errors.Is(err, errNotLeader) {
			b.log.Warn("ISR change failed", "topic", p.t.name, "partition", p.id, "isr", isr, "err", err)
		}
		return
	}
	b.log.Info("ISR changed", "topic", p.t.name, "partition", p.id, "isr", st.ISR, "reason", why, "replicas", who, "epoch", epoch)
	if why == "caught up" {
		b.metrics.isrExpands.Inc()
	} else {
		b.metrics.isrShrinks.Inc()
	}
	b.applyPartitionState(st)
}

// checkLeaderEpoch compares a request's CurrentLeaderEpoch with the epoch
// this replica knows: FENCED_LEADER_EPOCH when the client's is older,
// UNKNOWN_LEADER_EPOCH when it is newer; -1 skips the check.
func (p *partition) checkLeaderEpoch(epoch int32) int16 {
	if epoch < 0 {
		return 0
	}
	p.replMu.Lock()
	known, mine := p.rs.known, p.rs.epoch
	p.replMu.Unlock()
	switch {
	case !known || epoch > mine:
		return kerr.UnknownLeaderEpoch.Code
	case epoch < mine:
		return kerr.FencedLeaderEpoch.Code
	}
	return 0
}

// epochRefused runs checkLeaderEpoch once, storing a refusal in *code.
func epochRefused(p *partition, epoch int32, code *int16) bool {
	*code = p.checkLeaderEpoch(epoch)
	return *code != 0
}

// replicaFetch handles one partition of a follower's fetch on the leader:
// a diverging last fetched epoch is answered in sp (the follower truncates
// and retries); otherwise the follower's progress is recorded.
func (b *Broker) replicaFetch(p *partition, replica int32, version int16, rp kmsg.FetchRequestTopicPartition, sp *kmsg.FetchResponseTopicPartition) int16 {
	if !b.isLeader(p) {
		return notLeaderCode
	}
	if version >= 12 && rp.LastFetchedEpoch >= 0 {
		epoch, end := p.log.EndOffsetForEpoch(rp.LastFetchedEpoch)
		if epoch != rp.LastFetchedEpoch || end < rp.FetchOffset {
			sp.DivergingEpoch.Epoch, sp.DivergingEpoch.EndOffset = epoch, end
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = p.highWatermark(), p.highWatermark(), p.log.LogStartOffset()
			return 0
		}
	}
	if !b.followerFetched(p, replica, rp.FetchOffset) {
		return notLeaderCode
	}
	return 0
}

// preferredReadReplica names an in-sync follower in the consumer's rack
// when this broker leads the partition from another rack (KIP-392), else -1.
func (b *Broker) preferredReadReplica(p *partition, rack string) int32 {
	if p.currentLeaderEpoch() < 0 || b.cfg.Rack == rack {
		return -1
	}
	p.replMu.Lock()
	isr := p.rs.isr
	p.replMu.Unlock()
	for _, id := range isr {
		if bi, ok := b.view.broker(id); ok && id != b.cfg.NodeID && bi.Rack == rack && !bi.ShuttingDown {
			return id
		}
	}
	return -1
}
