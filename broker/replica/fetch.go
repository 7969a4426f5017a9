package replica

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/broker/partlog"
)

const fetchVersion = 12

// fetchPart is one partition of an outstanding fetch.
type fetchPart struct {
	a      *assignment
	offset int64
}

// fetch sends one Fetch for as and applies the answer.
func (f *fetcher) fetch(ctx context.Context, c *client, as []*assignment) error {
	cfg := f.m.cfg
	req := kmsg.NewPtrFetchRequest()
	req.Version = fetchVersion
	req.ReplicaID = cfg.NodeID
	req.MaxWaitMillis = int32(cfg.MaxWait.Milliseconds())
	req.MinBytes = 1
	req.MaxBytes = cfg.MaxBytes
	req.IsolationLevel = 0
	req.SessionID = 0
	req.SessionEpoch = -1
	parts := make(map[string]map[int32]fetchPart)
	topicIdx := make(map[string]int)
	for _, a := range as {
		a.mu.Lock()
		if a.removed {
			a.mu.Unlock()
			continue
		}
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.Partition = a.key.part
		fp.CurrentLeaderEpoch = a.epoch
		fp.FetchOffset = a.p.LogEndOffset()
		fp.LastFetchedEpoch = a.p.LatestEpoch()
		fp.LogStartOffset = a.p.LogStartOffset()
		fp.PartitionMaxBytes = cfg.PartitionMaxBytes
		a.mu.Unlock()

		ti, ok := topicIdx[a.key.topic]
		if !ok {
			ti = len(req.Topics)
			topicIdx[a.key.topic] = ti
			t := kmsg.NewFetchRequestTopic()
			t.Topic = a.key.topic
			t.TopicID = a.key.id
			req.Topics = append(req.Topics, t)
			parts[a.key.topic] = make(map[int32]fetchPart)
		}
		req.Topics[ti].Partitions = append(req.Topics[ti].Partitions, fp)
		parts[a.key.topic][a.key.part] = fetchPart{a: a, offset: fp.FetchOffset}
	}
	if len(req.Topics) == 0 {
		return nil
	}
	f.m.metrics.fetchRequests.Inc()
	kresp, err := c.request(ctx, req, reqTimeout+cfg.MaxWait)
	if err != nil {
		return err
	}
	resp := kresp.(*kmsg.FetchResponse)
	if resp.ErrorCode != 0 {
		// A whole-request error (e.g. a session error we never ask for):
		// back everything off rather than spin.
		f.logger.Warn("replica: fetch refused", "err", codeErr(resp.ErrorCode))
		for _, a := range as {
			backoff(a)
		}
		return nil
	}
	var outOfRange []*assignment
	for i := range resp.Topics {
		rt := &resp.Topics[i]
		for j := range rt.Partitions {
			rp := &rt.Partitions[j]
			fp, ok := parts[rt.Topic][rp.Partition]
			if !ok {
				continue
			}
			if f.applyFetched(fp, rp) {
				outOfRange = append(outOfRange, fp.a)
			}
		}
	}
	if len(outOfRange) > 0 {
		return f.resolveOutOfRange(ctx, c, outOfRange)
	}
	return nil
}

// applyFetched applies one partition's answer. It reports whether the
// fetch offset was out of range (resolved by the caller with the leader's
// offsets).
func (f *fetcher) applyFetched(fp fetchPart, rp *kmsg.FetchResponseTopicPartition) (outOfRange bool) {
	a := fp.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.removed || a.p.LogEndOffset() != fp.offset {
		return false
	}
	switch rp.ErrorCode {
	case 0:
	case kerr.OffsetOutOfRange.Code:
		return true
	default:
		ok, epochErr := retriable(rp.ErrorCode)
		if !ok {
			f.logger.Warn("replica: fetch partition error", "topic", a.key.topic, "partition", a.key.part, "err", codeErr(rp.ErrorCode))
		}
		a.truncate = a.truncate || epochErr
		backoff(a)
		return false
	}
	if d := rp.DivergingEpoch; d.EndOffset >= 0 && d.Epoch >= 0 {
		f.truncateTo(a, d.Epoch, d.EndOffset, "diverging epoch")
		return false
	}
	data := wholeBatches(rp.RecordBatches, fp.offset)
	if len(data) > 0 {
		if _, err := a.p.AppendReplica(data); err != nil {
			f.logger.Warn("replica: append fetched batches", "topic", a.key.topic, "partition", a.key.part, "offset", fp.offset, "err", err)
			if errors.Is(err, partlog.ErrReplicaOutOfOrder) {
				a.truncate = true
			}
			backoff(a)
			return false
		}
		f.m.metrics.fetchBytes.Add(float64(len(data)))
	}
	if rp.HighWatermark >= 0 {
		a.p.SetLeaderState(rp.HighWatermark, rp.LogStartOffset)
		a.lag.Store(max(0, rp.HighWatermark-a.p.LogEndOffset()))
	}
	return false
}

// truncateTo applies the truncation rule to the leader's answer for our
// latest epoch. An unfinished answer leaves a.truncate set so the next
// round asks OffsetForLeaderEpoch again. Caller holds a.mu.
func (f *fetcher) truncateTo(a *assignment, leaderEpoch int32, leaderEnd int64, why string) {
	leo := a.p.LogEndOffset()
	d := decideTruncation(leaderEpoch, leaderEnd, a.p.EndOffsetForEpoch, leo)
	if d.offset < leo {
		if err := a.p.TruncateTo(d.offset); err != nil {
			f.logger.Warn("replica: truncate", "topic", a.key.topic, "partition", a.key.part, "offset", d.offset, "err", err)
			backoff(a)
			a.truncate = true
			return
		}
		f.m.metrics.truncations.Inc()
		f.logger.Info("replica: truncated follower log", "topic", a.key.topic, "partition", a.key.part,
			"reason", why, "from", leo, "to", a.p.LogEndOffset(), "leader_epoch", leaderEpoch, "leader_end", leaderEnd)
	}
	a.truncate = !d.done
}

// wholeBatches returns the prefix of records made of whole batches,
// skipping batches that end before offset (a leader may return the batch
// holding an earlier offset). A fetch response may end in a partial batch.
func wholeBatches(records []byte, offset int64) []byte {
	start, end := -1, 0
	for end+partlog.BatchHeaderSize <= len(records) {
		n := int(int32(binary.BigEndian.Uint32(records[end+8:])))
		total := 12 + n
		if n < partlog.BatchHeaderSize-12 || end+total > len(records) {
			break
		}
		base := int64(binary.BigEndian.Uint64(records[end:]))
		last := base + int64(int32(binary.BigEndian.Uint32(records[end+23:])))
		if start < 0 && last >= offset {
			start = end
		}
		end += total
	}
	if start < 0 {
		return nil
	}
	return records[start:end]
}
