package broker

import (
	"github.com/strata-io/strata/metastore"
	"github.com/twmb/franz-go/pkg/kerr"
)

var notLeaderCode = kerr.NotLeaderForPartition.Code

// replicaPartition is a hosted partition as the replica fetcher sees it
// while this broker follows its leader.
type replicaPartition struct {
	b *Broker
	p *partition
}

func (r replicaPartition) Topic() string         { return r.p.t.name }
func (r replicaPartition) TopicID() [16]byte     { return r.p.t.id }
func (r replicaPartition) Partition() int32      { return r.p.id }
func (r replicaPartition) LogStartOffset() int64 { return r.p.log.LogStartOffset() }
func (r replicaPartition) LogEndOffset() int64   { return r.p.log.LogEndOffset() }
func (r replicaPartition) LatestEpoch() int32    { return r.p.log.LatestEpoch() }
func (r replicaPartition) EndOffsetForEpoch(e int32) (int32, int64) {
	return r.p.log.EndOffsetForEpoch(e)
}

// AppendReplica appends the leader's batches as stored.
func (r replicaPartition) AppendReplica(batches []byte) (int64, error) {
	last, err := r.p.log.AppendReplica(batches)
	if err != nil {
		r.b.log.Warn("replica append failed", "topic", r.p.t.name, "partition", r.p.id, "err", err)
		return last, err
	}
	return last, nil
}

// TruncateTo cuts a diverged tail; the high watermark follows it down.
func (r replicaPartition) TruncateTo(offset int64) error {
	end, err := r.p.log.TruncateTo(offset)
	if err != nil {
		return err
	}
	if r.p.hw.Load() > end {
		r.p.setHW(end)
	}
	return nil
}

// ResetTo empties the log and restarts it at next (a replica that is too
// far behind the leader's log start).
func (r replicaPartition) ResetTo(logStart, next int64) error {
	l := r.p.log
	if l.LogEndOffset() > l.LocalLogStartOffset() {
		if _, err := l.TruncateTo(l.LocalLogStartOffset()); err != nil {
			return err
		}
	}
	if err := l.ResetTo(logStart, next); err != nil {
		return err
	}
	r.p.setHW(next)
	return nil
}

// SetLeaderState takes the leader's high watermark (capped at what this
// replica holds) and log start offset.
func (r replicaPartition) SetLeaderState(highWatermark, logStartOffset int64) {
	p := r.p
	if hw := min(highWatermark, p.log.LogEndOffset()); hw > p.hw.Load() {
		p.advanceHW(hw)
	}
	if logStartOffset > p.log.LogStartOffset() && logStartOffset <= p.log.LogEndOffset() {
		if _, err := p.log.DeleteRecords(logStartOffset); err != nil {
			r.b.log.Warn("follower could not advance its log start", "topic", p.t.name, "partition", p.id, "offset", logStartOffset, "err", err)
		}
	}
}

// markFollowerUploads lets followers apply local retention: the leader
// uploads, and a follower learns from the manifest (kept fresh by the
// remote reader's watch) which of its local offsets are in object storage.
func (b *Broker) markFollowerUploads() {
	if b.tier == nil {
		return
	}
	for _, p := range b.allPartitions() {
		if p.currentLeaderEpoch() >= 0 || !p.log.Config().RemoteStorage {
			continue
		}
		if segs := b.remoteSegments(p); len(segs) > 0 {
			p.log.MarkUploaded(segs[len(segs)-1].LastOffset)
		}
	}
}

// untrackReplicatedPartitions leaves to the final flush at shutdown only the
// partitions this broker is the sole replica of: others have replicas that
// hold the data, the next leader uploads it, and our commits could be
// fenced by its epoch once our watches have stopped.
func (b *Broker) untrackReplicatedPartitions() {
	for _, p := range b.allPartitions() {
		st, ok := b.view.state(metastore.PartitionID{TopicID: p.t.id, Partition: p.id})
		if !ok || len(st.Replicas) > 1 || st.Leader != b.cfg.NodeID || st.LeaderEpoch != p.currentLeaderEpoch() {
			b.untrackUpload(p)
		}
	}
}
