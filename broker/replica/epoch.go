package replica

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	offsetForLeaderEpochVersion = 4
	listOffsetsVersion          = 7
	maxTruncationRounds         = 16
)

// truncateByEpoch asks the leader where each partition's latest local
// epoch ends and truncates there, repeating with the new latest epoch until
// the answer is final. A partition with no epoch has nothing to truncate.
func (f *fetcher) truncateByEpoch(ctx context.Context, c *client, as []*assignment) error {
	pending := as
	for round := 0; len(pending) > 0 && round < maxTruncationRounds; round++ {
		req := kmsg.NewPtrOffsetForLeaderEpochRequest()
		req.Version = offsetForLeaderEpochVersion
		req.ReplicaID = f.m.cfg.NodeID
		asked := make(map[string]map[int32]*assignment)
		askedEpoch := make(map[*assignment]int32)
		topicIdx := make(map[string]int)
		for _, a := range pending {
			a.mu.Lock()
			latest := a.p.LatestEpoch()
			if a.removed || latest < 0 {
				a.truncate = false
				a.mu.Unlock()
				continue
			}
			a.mu.Unlock()
			askedEpoch[a] = latest
			ti, ok := topicIdx[a.key.topic]
			if !ok {
				ti = len(req.Topics)
				topicIdx[a.key.topic] = ti
				t := kmsg.NewOffsetForLeaderEpochRequestTopic()
				t.Topic = a.key.topic
				req.Topics = append(req.Topics, t)
				asked[a.key.topic] = make(map[int32]*assignment)
			}
			p := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
			p.Partition = a.key.part
			p.CurrentLeaderEpoch = a.epoch
			p.LeaderEpoch = latest
			req.Topics[ti].Partitions = append(req.Topics[ti].Partitions, p)
			asked[a.key.topic][a.key.part] = a
		}
		if len(req.Topics) == 0 {
			return nil
		}
		kresp, err := c.request(ctx, req, reqTimeout)
		if err != nil {
			return err
		}
		resp := kresp.(*kmsg.OffsetForLeaderEpochResponse)
		pending = pending[:0:0]
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				a := asked[rt.Topic][rp.Partition]
				if a == nil {
					continue
				}
				delete(asked[rt.Topic], rp.Partition)
				if f.applyEpochAnswer(a, askedEpoch[a], rp) {
					pending = append(pending, a)
				}
			}
		}
		// Partitions the leader left out are retried after a backoff.
		for _, m := range asked {
			for _, a := range m {
				backoff(a)
			}
		}
	}
	return nil
}

// applyEpochAnswer truncates a by the leader's answer for epoch and
// reports whether another OffsetForLeaderEpoch round is needed.
func (f *fetcher) applyEpochAnswer(a *assignment, epoch int32, rp kmsg.OffsetForLeaderEpochResponseTopicPartition) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.removed {
		return false
	}
	if rp.ErrorCode != 0 {
		if ok, _ := retriable(rp.ErrorCode); !ok {
			f.logger.Warn("replica: offset for leader epoch", "topic", a.key.topic, "partition", a.key.part, "err", codeErr(rp.ErrorCode))
		}
		backoff(a)
		return false
	}
	f.truncateTo(a, rp.LeaderEpoch, rp.EndOffset, "leader epoch")
	if a.truncate && a.p.LatestEpoch() >= epoch {
		// No progress: the answer cannot be applied; take it as final
		// rather than asking the same question forever.
		a.truncate = false
	}
	return a.truncate
}

// resolveOutOfRange handles OFFSET_OUT_OF_RANGE with the leader's log end
// and start (ListOffsets with ReplicaID set, which answers the log end
// rather than the high watermark): ahead of the leader's end, cut there;
// behind its start, restart the log at the start; otherwise retry later.
func (f *fetcher) resolveOutOfRange(ctx context.Context, c *client, as []*assignment) error {
	latest, err := f.listOffsets(ctx, c, as, -1)
	if err != nil {
		return err
	}
	earliest, err := f.listOffsets(ctx, c, as, -2)
	if err != nil {
		return err
	}
	for _, a := range as {
		a.mu.Lock()
		if a.removed {
			a.mu.Unlock()
			continue
		}
		end, okEnd := latest[a]
		start, okStart := earliest[a]
		leo := a.p.LogEndOffset()
		switch {
		case okEnd && leo > end:
			if err := a.p.TruncateTo(end); err != nil {
				f.logger.Warn("replica: truncate to leader end", "topic", a.key.topic, "partition", a.key.part, "err", err)
				backoff(a)
				break
			}
			f.m.metrics.truncations.Inc()
			f.logger.Info("replica: truncated follower log", "topic", a.key.topic, "partition", a.key.part,
				"reason", "ahead of leader log end", "from", leo, "to", a.p.LogEndOffset())
		case okStart && leo < start:
			if err := a.p.ResetTo(start, start); err != nil {
				f.logger.Warn("replica: reset to leader log start", "topic", a.key.topic, "partition", a.key.part, "err", err)
				backoff(a)
				break
			}
			f.m.metrics.truncations.Inc()
			f.logger.Info("replica: follower log restarted at leader log start", "topic", a.key.topic, "partition", a.key.part,
				"from", leo, "to", start)
		default:
			backoff(a)
		}
		a.mu.Unlock()
	}
	return nil
}

// listOffsets asks the leader for timestamp (-1 latest, -2 earliest) of
// each partition; partitions with an error are left out.
func (f *fetcher) listOffsets(ctx context.Context, c *client, as []*assignment, timestamp int64) (map[*assignment]int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version = listOffsetsVersion
	req.ReplicaID = f.m.cfg.NodeID
	byTopic := byKey(as)
	for topic, ps := range byTopic {
		t := kmsg.NewListOffsetsRequestTopic()
		t.Topic = topic
		for part, a := range ps {
			p := kmsg.NewListOffsetsRequestTopicPartition()
			p.Partition = part
			p.CurrentLeaderEpoch = a.epoch
			p.Timestamp = timestamp
			t.Partitions = append(t.Partitions, p)
		}
		req.Topics = append(req.Topics, t)
	}
	kresp, err := c.request(ctx, req, reqTimeout)
	if err != nil {
		return nil, err
	}
	out := make(map[*assignment]int64)
	for _, rt := range kresp.(*kmsg.ListOffsetsResponse).Topics {
		for _, rp := range rt.Partitions {
			a := byTopic[rt.Topic][rp.Partition]
			if a == nil {
				continue
			}
			if rp.ErrorCode != 0 {
				if ok, _ := retriable(rp.ErrorCode); !ok {
					f.logger.Warn("replica: list offsets", "topic", rt.Topic, "partition", rp.Partition, "err", kerr.ErrorForCode(rp.ErrorCode))
				}
				continue
			}
			out[a] = rp.Offset
		}
	}
	return out, nil
}
