package broker

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/tiering/remote"
)

// Any broker serves the remote (cold) range of any partition, replica or
// not: the data is in object storage and the manifest is in every broker's
// memory, so historical reads can be spread over the cluster instead of
// loading partition leaders. (Leaders do not yet name such a broker as the
// preferred read replica: franz-go, given one outside the replica set,
// stalled in our test; see docs/replication.md.)

// remoteRange is the offset range [start, end) of a partition held in
// object storage, as this broker's manifest view has it.
func (b *Broker) remoteRange(topicID [16]byte, partition int32) (start, end int64, ok bool) {
	if b.tier == nil {
		return 0, 0, false
	}
	segs := b.tier.rd.Segments(topicID, partition)
	if len(segs) == 0 {
		return 0, 0, false
	}
	return segs[0].BaseOffset, segs[len(segs)-1].LastOffset + 1, true
}

// servesRemoteOnly reports whether this broker, holding no replica of the
// partition, can answer a consumer fetch at offset from object storage.
func (b *Broker) servesRemoteOnly(t *topic, partition int32, offset int64) bool {
	start, end, ok := b.remoteRange(t.id, partition)
	return ok && offset >= start && offset < end && b.partitionExists(t.name, partition)
}

// fillRemoteOnly reads one partition of a consumer fetch from object
// storage on a broker without a replica. The high watermark it reports is
// the remote log end (uploads stay below the leader's high watermark); past
// it the consumer gets NOT_LEADER_OR_FOLLOWER and returns to the leader.
func (b *Broker) fillRemoteOnly(ctx context.Context, fp fetchPart, sp *kmsg.FetchResponseTopicPartition, limit int, bufs *fetchBufSet) error {
	start, end, ok := b.remoteRange(fp.remote.id, fp.rid)
	if !ok || fp.offset < start || fp.offset >= end {
		sp.ErrorCode = notLeaderCode
		return nil
	}
	sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = end, end, start
	data, err := b.tier.rd.ReadInto(ctx, fp.remote.id, fp.rid, fp.offset, limit, bufs.get(limit+remoteReadSlack))
	if err != nil {
		if errors.Is(err, remote.ErrNotRemote) {
			sp.ErrorCode = notLeaderCode
			return nil
		}
		sp.ErrorCode = errorCode(err)
		if sp.ErrorCode == kerr.KafkaStorageError.Code && !errors.Is(err, remote.ErrCorrupt) {
			b.log.Warn("remote-only fetch failed", "topic", fp.remote.name, "partition", fp.rid, "err", err)
		}
		return err
	}
	sp.RecordBatches = cutAtOffset(data, end)
	b.metrics.followerBytes.Add(float64(len(sp.RecordBatches)))
	return nil
}
