package broker

import (
	"context"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListOffsets: v1-11
//
// Behavior:
//   - Timestamp -1 is the high watermark (log end), -2 the log start
//     offset, -3 the record with the largest timestamp (v7+), -4 the
//     earliest local offset (v8+), -5 the latest tiered offset (v9+, -1
//     until tiering lands), -6 the earliest offset pending upload (v11+).
//   - Any other timestamp finds the first offset whose timestamp is at or
//     after it, via the time index; none gives offset -1, as Kafka does.
//   - Unknown partitions get UNKNOWN_TOPIC_OR_PARTITION; a CurrentLeaderEpoch
//     (v4+) beyond ours UNKNOWN_LEADER_EPOCH.
//
// Version notes:
//   - v1: single offset per partition; v2: isolation level
//   - v4: current leader epoch; v6: flexible; v7: max timestamp (KIP-734)
//   - v8: earliest local (KIP-405); v9: latest tiered (KIP-1005)
//   - v10: timeout; v11: earliest pending upload (KIP-1023)
func init() { register(2, 1, 11, handleListOffsets) }

func handleListOffsets(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Timestamp, sp.Offset, sp.LeaderEpoch = -1, -1, -1
			p := b.partitionOf(rt.Topic, rp.Partition)
			switch {
			case p == nil:
				sp.ErrorCode = b.notHostedCode(b.topicByName(rt.Topic), rp.Partition)
			case !b.isLeader(p):
				sp.ErrorCode = notLeaderCode
			case req.Version >= 4 && epochRefused(p, rp.CurrentLeaderEpoch, &sp.ErrorCode):
			default:
				sp.LeaderEpoch = p.currentLeaderEpoch()
				b.listOffset(p, rp.Timestamp, &sp)
				if rp.Timestamp == -1 && req.ReplicaID >= 0 {
					sp.Offset = p.log.LogEndOffset() // a follower asks for the log end
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return now(resp)
}

func (b *Broker) listOffset(p *partition, ts int64, sp *kmsg.ListOffsetsResponseTopicPartition) {
	l := p.log
	switch ts {
	case -1:
		sp.Offset = p.highWatermark()
	case -2:
		sp.Offset = l.LogStartOffset()
	case -4:
		sp.Offset = l.LocalLogStartOffset()
	case -3:
		off, t := l.MaxTimestamp()
		sp.Offset, sp.Timestamp = off, t
		if off < 0 {
			sp.Offset, sp.Timestamp = -1, -1
			return
		}
		// The log knows the batch; Kafka answers with the record.
		if batch, err := l.Read(off, 1); err == nil && len(batch) > 0 {
			if err := eachRecord(firstBatch(batch), func(o, rt int64) bool {
				if rt == t {
					sp.Offset = o
					return false
				}
				return true
			}); err != nil {
				b.log.Warn("max timestamp lookup", "topic", p.t.name, "partition", p.id, "err", err)
			}
		}
	case -5:
		// Latest tiered: the last offset in object storage (KIP-1005).
		sp.Offset = -1
		if segs := b.remoteSegments(p); len(segs) > 0 {
			sp.Offset = segs[len(segs)-1].LastOffset
		}
	case -6:
		sp.Offset = -1
	default:
		if ts < 0 {
			sp.ErrorCode = kerr.InvalidRequest.Code
			return
		}
		off, t, err := b.offsetForTimestamp(context.Background(), p, ts)
		if err != nil {
			b.log.Warn("offset for timestamp", "topic", p.t.name, "partition", p.id, "err", err)
			sp.ErrorCode = kerr.KafkaStorageError.Code
			return
		}
		sp.Offset, sp.Timestamp = off, t
	}
}

// offsetForTimestamp finds the first record whose timestamp is at or after
// ts: the time index names the first batch whose max timestamp qualifies,
// and that batch's records are decoded to find the record itself (a batch's
// records need not be in timestamp order). (-1, -1) when there is none.
func (b *Broker) offsetForTimestamp(ctx context.Context, p *partition, ts int64) (int64, int64, error) {
	l := p.log
	off, ok, err := int64(-1), false, error(nil)
	// Object storage first: it holds the older data.
	for _, seg := range b.remoteSegments(p) {
		if seg.MaxTimestamp >= ts && seg.LastOffset >= l.LogStartOffset() {
			if off, ok, err = b.tier.rd.OffsetForTimestamp(ctx, p.t.id, p.id, ts); err != nil {
				return -1, -1, err
			}
			break
		}
	}
	if !ok {
		if off, _, ok, err = l.OffsetForTimestamp(ts); err != nil || !ok {
			return -1, -1, err
		}
	}
	off = max(off, l.LogStartOffset())
	for tries := 0; tries < 1000 && off < l.LogEndOffset(); tries++ {
		batch, err := b.readAt(ctx, p, off, 1, nil)
		if err != nil || len(batch) == 0 {
			return -1, -1, err
		}
		batch = firstBatch(batch)
		foundOff, foundTS := int64(-1), int64(-1)
		if err := eachRecord(batch, func(o, rt int64) bool {
			if rt >= ts && o >= off {
				foundOff, foundTS = o, rt
				return false
			}
			return true
		}); err != nil {
			return -1, -1, err
		}
		if foundOff >= 0 {
			return foundOff, foundTS, nil
		}
		off = batchNextOffset(batch)
	}
	return -1, -1, nil
}
