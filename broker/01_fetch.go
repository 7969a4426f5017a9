package broker

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/tiering/remote"
)

// Fetch: v4-18
//
// Behavior:
//   - Batches are served as stored: whole batches read by file position,
//     no per-record work. A partition's first batch is returned whole even
//     when larger than the limits (KIP-74); after that the request's
//     MaxBytes and each partition's PartitionMaxBytes bound the response.
//   - Long polling: with fewer than MinBytes available the reply waits up
//     to MaxWaitMillis for an append to any requested partition.
//   - Fetch sessions (KIP-227) are refused correctly: every fetch is a full
//     fetch answered with session id 0, so clients keep sending full
//     fetches; an incremental fetch (nonzero session id) gets
//     FETCH_SESSION_ID_NOT_FOUND.
//   - Offsets outside [log start, log end] get OFFSET_OUT_OF_RANGE;
//     unknown partitions UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID by
//     id, v13+), partitions with no replica here NOT_LEADER_OR_FOLLOWER;
//     a stale or future CurrentLeaderEpoch FENCED_LEADER_EPOCH or
//     UNKNOWN_LEADER_EPOCH.
//   - Consumers read only below the high watermark (the last stable offset
//     equals it: no transactions), from the leader or any follower.
//   - A fetch with a replica id is a follower's: it reads up to the log
//     end, reports the follower's log end (advancing the high watermark and
//     the ISR), and gets DivergingEpoch when its last fetched epoch does not
//     match the leader's log (v12+).
//   - With a client rack (v11+), the leader names an in-sync follower in
//     that rack as the preferred read replica.
//   - A broker without a replica serves a consumer fetch in the
//     partition's remote (object storage) range, with the remote log end as
//     high watermark, and NOT_LEADER_OR_FOLLOWER past it.
//
// Version notes:
//   - v4: isolation level, last stable offset, aborted transactions
//   - v5: log start offset; v7: fetch sessions; v9: current leader epoch
//   - v11: rack / preferred read replica; v12: flexible, diverging epoch
//   - v13: topic ids; v15: replica state; v16-18: leader discovery tags
func init() { register(1, 4, 18, handleFetch) }

type fetchPart struct {
	p         *partition
	offset    int64
	maxBytes  int32
	ti, pi    int
	errCode   int16
	replica   bool   // a follower's fetch: read up to the log end, not the high watermark
	preferred int32  // preferred read replica sent instead of data (KIP-392), or -1
	remote    *topic // set (with rid) when served from object storage without a replica here
	rid       int32
}

func handleFetch(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.FetchRequest)
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	if req.Version >= 7 && req.SessionID != 0 {
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return now(resp)
	}
	replicaID := req.ReplicaID
	if req.Version >= 15 {
		replicaID = req.ReplicaState.ID
	}
	var parts []fetchPart
	resp.Topics = make([]kmsg.FetchResponseTopic, 0, len(req.Topics))
	for ti, rt := range req.Topics {
		t, missing := b.lookupTopic(req.Version >= 13, rt.Topic, rt.TopicID)
		st := kmsg.FetchResponseTopic{Topic: rt.Topic, TopicID: rt.TopicID}
		st.Partitions = make([]kmsg.FetchResponseTopicPartition, len(rt.Partitions))
		for pi, rp := range rt.Partitions {
			sp := &st.Partitions[pi]
			*sp = kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
			fp := fetchPart{offset: rp.FetchOffset, maxBytes: rp.PartitionMaxBytes, ti: ti, pi: pi, replica: replicaID >= 0, preferred: -1}
			if t != nil {
				fp.p = b.partitionOf(t.name, rp.Partition)
			}
			switch {
			case fp.p == nil && t != nil && !fp.replica && b.servesRemoteOnly(t, rp.Partition, rp.FetchOffset):
				fp.remote, fp.rid = t, rp.Partition
			case fp.p == nil && t != nil:
				fp.errCode = b.notHostedCode(t, rp.Partition)
			case fp.p == nil:
				fp.errCode = missing
			case req.Version >= 9:
				fp.errCode = fp.p.checkLeaderEpoch(rp.CurrentLeaderEpoch)
			}
			if fp.errCode == 0 && fp.replica {
				fp.errCode = b.replicaFetch(fp.p, replicaID, req.Version, rp, sp)
			} else if fp.errCode == 0 && fp.p != nil && req.Version >= 11 && req.Rack != "" {
				fp.preferred = b.preferredReadReplica(fp.p, req.Rack)
			}
			parts = append(parts, fp)
		}
		resp.Topics = append(resp.Topics, st)
	}

	// Offsets below the local log start are read from object storage, off
	// the connection's read goroutine and in the remote reader's own pool.
	for _, fp := range parts {
		if fp.errCode == 0 && (fp.remote != nil || fp.p != nil && b.isRemoteRead(fp.p, fp.offset)) {
			rep, done := later()
			bufs := b.fetchBufs.newSet()
			rep.release = bufs.release
			go func() {
				b.fillFetch(c.ctx, req, resp, parts, bufs)
				b.fetchSent(resp, parts)
				done(resp)
			}()
			return rep
		}
	}
	if n, hasErr := b.fillFetch(c.ctx, req, resp, parts, nil); hasErr || n >= int(req.MinBytes) || req.MaxWaitMillis <= 0 {
		b.fetchSent(resp, parts)
		return now(resp)
	}

	// Not enough yet: wait for appends, then read again.
	wakeup := make(chan struct{}, 1)
	for _, fp := range parts {
		if fp.p != nil {
			fp.p.addWaiter(wakeup)
		}
	}
	rep, done := later()
	go func() {
		defer func() {
			for _, fp := range parts {
				if fp.p != nil {
					fp.p.removeWaiter(wakeup)
				}
			}
		}()
		deadline := time.NewTimer(msDuration(req.MaxWaitMillis))
		defer deadline.Stop()
		for {
			select {
			case <-deadline.C:
				b.fillFetch(c.ctx, req, resp, parts, nil)
				b.fetchSent(resp, parts)
				done(resp)
				return
			case <-c.ctx.Done():
				done(nil)
				return
			case <-wakeup:
				for _, fp := range parts {
					if fp.p != nil {
						fp.p.addWaiter(wakeup) // re-arm before reading so no append is missed
					}
				}
				if n, hasErr := b.fillFetch(c.ctx, req, resp, parts, nil); hasErr || n >= int(req.MinBytes) {
					b.fetchSent(resp, parts)
					done(resp)
					return
				}
			}
		}
	}()
	return rep
}

// fillFetch (re)reads every partition into resp and returns the number of
// record bytes and whether any partition carries an error.
// bufs, if not nil, lends the buffers remote reads fill (released after
// the response is written).
func (b *Broker) fillFetch(ctx context.Context, req *kmsg.FetchRequest, resp *kmsg.FetchResponse, parts []fetchPart, bufs *fetchBufSet) (int, bool) {
	budget := int(req.MaxBytes)
	if budget <= 0 || budget > int(b.cfg.FetchMaxBytes) {
		budget = int(b.cfg.FetchMaxBytes)
	}
	total, hasErr := 0, false
	for _, fp := range parts {
		sp := &resp.Topics[fp.ti].Partitions[fp.pi]
		sp.RecordBatches = noRecords
		sp.ErrorCode = fp.errCode
		if fp.errCode != 0 {
			hasErr = true
			continue
		}
		if sp.DivergingEpoch.Epoch >= 0 {
			continue // the follower truncates first
		}
		limit := min(int(fp.maxBytes), budget)
		if total == 0 && limit <= 0 {
			limit = 1 // KIP-74: still return the first batch whole
		}
		if fp.remote != nil {
			if limit <= 0 {
				continue
			}
			if b.fillRemoteOnly(ctx, fp, sp, limit, bufs); sp.ErrorCode != 0 {
				hasErr = true
			}
			total += len(sp.RecordBatches)
			budget -= len(sp.RecordBatches)
			continue
		}
		l := fp.p.log
		start, end, hw := l.LogStartOffset(), l.LogEndOffset(), fp.p.highWatermark()
		sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = hw, hw, start
		sp.PreferredReadReplica = fp.preferred
		if fp.offset < start || fp.offset > end {
			sp.ErrorCode = kerr.OffsetOutOfRange.Code
			hasErr = true
			continue
		}
		// Consumers read below the high watermark; followers to the end.
		bound := hw
		if fp.replica {
			bound = end
		}
		if fp.offset >= bound || fp.preferred >= 0 || limit <= 0 {
			continue
		}
		data, err := b.readAt(ctx, fp.p, fp.offset, limit, bufs)
		if err != nil {
			if sp.ErrorCode = errorCode(err); sp.ErrorCode == kerr.KafkaStorageError.Code && !errors.Is(err, remote.ErrCorrupt) {
				b.log.Warn("fetch read failed", "topic", fp.p.t.name, "partition", fp.p.id, "err", err)
			}
			hasErr = true
			continue
		}
		if !fp.replica {
			data = cutAtOffset(data, bound)
		}
		sp.RecordBatches = data
		total += len(data)
		budget -= len(data)
	}
	return total, hasErr
}

// noRecords is sent for partitions without data: an empty (not null)
// records field, which librdkafka requires.
var noRecords = []byte{}

// fetchSent records a final fetch response in the metrics: error codes and,
// per topic, bytes and records out (counted from batch headers only).
func (b *Broker) fetchSent(resp *kmsg.FetchResponse, parts []fetchPart) {
	for _, fp := range parts {
		sp := &resp.Topics[fp.ti].Partitions[fp.pi]
		b.metrics.errorCode(1, sp.ErrorCode)
		if fp.p == nil || len(sp.RecordBatches) == 0 {
			continue
		}
		if fp.replica {
			continue // replication, counted by the follower
		}
		fp.p.t.m.bytesOut.Add(float64(len(sp.RecordBatches)))
		if fp.p.currentLeaderEpoch() < 0 {
			b.metrics.followerBytes.Add(float64(len(sp.RecordBatches)))
		}
		fp.p.t.m.recordsOut.Add(float64(countRecords(sp.RecordBatches)))
	}
}
