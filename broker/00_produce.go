package broker

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Produce: v3-13
//
// Behavior:
//   - Each partition's records must be exactly one magic-2 batch
//     (INVALID_RECORD otherwise, as Kafka for v3+), with a valid length and
//     CRC-32C (CORRUPT_MESSAGE) and no larger than max.message.bytes
//     (MESSAGE_TOO_LARGE). Valid batches are stored byte-for-byte; only
//     base offset and leader epoch, outside the CRC, are stamped.
//   - Idempotent batches are checked per producer id and epoch: a retried
//     duplicate returns its original offset, a gap gets
//     OUT_OF_ORDER_SEQUENCE_NUMBER, an old epoch INVALID_PRODUCER_EPOCH.
//   - Only the partition leader appends (NOT_LEADER_OR_FOLLOWER elsewhere,
//     and on a leader whose etcd lease may have lapsed); batches carry its
//     leader epoch.
//   - acks=0 gets no response, acks=1 replies after the local append,
//     acks=-1 replies once every in-sync replica has the batch (the high
//     watermark passed it) or, when the leader is the whole ISR, once it is
//     fsynced (group commit); NOT_ENOUGH_REPLICAS when min.insync.replicas
//     exceeds the ISR, NOT_ENOUGH_REPLICAS_AFTER_APPEND when it shrank
//     below it before the acknowledgement.
//   - Transactions are not supported yet: transactional batches are refused
//     with INVALID_TXN_STATE.
//
// Version notes:
//   - v3: record batch v2 only, transactional id
//   - v5: log start offset; v8: per-record errors (KIP-467)
//   - v9: flexible; v10-11: leader discovery tags (KIP-951)
//   - v12: no schema change (KIP-890); v13: topic ids (KIP-516)
func init() { register(0, 3, 13, handleProduce) }

func handleProduce(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	if req.Acks != 0 && req.Acks != 1 && req.Acks != -1 {
		for _, rt := range req.Topics {
			st := kmsg.ProduceResponseTopic{Topic: rt.Topic, TopicID: rt.TopicID}
			for _, rp := range rt.Partitions {
				st.Partitions = append(st.Partitions, produceErr(rp.Partition, kerr.InvalidRequiredAcks.Code, ""))
			}
			resp.Topics = append(resp.Topics, st)
		}
		return now(resp)
	}

	type durable struct {
		p      *partition
		last   int64
		solo   bool // the leader was the whole ISR: wait for fsync, not followers
		ti, pi int  // slot in resp.Topics[ti].Partitions[pi]
	}
	var waits []durable
	resp.Topics = make([]kmsg.ProduceResponseTopic, 0, len(req.Topics))
	for _, rt := range req.Topics {
		t, missing := b.lookupTopic(req.Version >= 13, rt.Topic, rt.TopicID)
		st := kmsg.ProduceResponseTopic{Topic: rt.Topic, TopicID: rt.TopicID}
		st.Partitions = make([]kmsg.ProduceResponseTopicPartition, 0, len(rt.Partitions))
		for _, rp := range rt.Partitions {
			var p *partition
			if t != nil {
				p = b.partitionOf(t.name, rp.Partition)
				missing = b.notHostedCode(t, rp.Partition)
			}
			if p == nil {
				st.Partitions = append(st.Partitions, produceErr(rp.Partition, missing, ""))
				continue
			}
			res, last, solo := b.produceTo(p, req.Acks, rp.Records)
			st.Partitions = append(st.Partitions, res)
			if req.Acks == -1 && res.ErrorCode == 0 {
				waits = append(waits, durable{p: p, last: last, solo: solo, ti: len(resp.Topics), pi: len(st.Partitions) - 1})
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	if req.Acks == 0 {
		b.countProduceErrors(resp)
		return reply{none: true}
	}
	if len(waits) == 0 {
		b.countProduceErrors(resp)
		return now(resp)
	}
	rep, done := later()
	go func() {
		ctx := c.ctx
		if req.TimeoutMillis > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, msDuration(req.TimeoutMillis))
			defer cancel()
		}
		// Partitions sync in parallel; each log group-commits its own
		// waiters. With followers in the ISR, the batch is committed once
		// every one of them has it (the high watermark passed it).
		var wg sync.WaitGroup
		for _, w := range waits {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if !w.solo {
					if code := w.p.waitAcked(ctx, w.last, w.p.t.limits.Load().minInsyncReplicas); code != 0 {
						r := &resp.Topics[w.ti].Partitions[w.pi]
						r.ErrorCode = code
						r.BaseOffset = -1
					}
					return
				}
				if err := w.p.log.WaitDurable(ctx, w.last); err != nil {
					code := errorCode(err)
					b.log.Warn("fsync wait failed", "topic", w.p.t.name, "partition", w.p.id, "err", err)
					r := &resp.Topics[w.ti].Partitions[w.pi]
					r.ErrorCode = code
					r.BaseOffset = -1
				}
			}()
		}
		wg.Wait()
		b.countProduceErrors(resp)
		done(resp)
	}()
	return rep
}

// produceTo validates and appends one partition's records. It returns the
// partition's response, the last offset appended (for acks=all) and
// whether the leader was the whole ISR at the time.
func (b *Broker) produceTo(p *partition, acks int16, records []byte) (kmsg.ProduceResponseTopicPartition, int64, bool) {
	lim := p.t.limits.Load()
	hdr, code, msg := validateProduceRecords(records, lim.maxMessageBytes)
	if code != 0 {
		b.log.Warn("rejected produce batch", "topic", p.t.name, "partition", p.id, "code", code, "reason", msg)
		return produceErr(p.id, code, msg), -1, false
	}
	if hdr.IsTransactional() {
		return produceErr(p.id, kerr.InvalidTxnState.Code, "transactions are not supported"), -1, false
	}
	epoch := p.currentLeaderEpoch()
	if epoch < 0 || !b.sessionValid() {
		return produceErr(p.id, notLeaderCode, "this broker is not the partition leader"), -1, false
	}
	solo := p.solo()
	if acks == -1 && lim.minInsyncReplicas > int64(p.isrSize()) {
		return produceErr(p.id, kerr.NotEnoughReplicas.Code, "ISR is smaller than min.insync.replicas"), -1, false
	}
	if !b.acceptingProduce(p) {
		// Object storage has been unreachable long enough that local disk
		// is at its bound: a retriable error, nothing is lost.
		return produceErr(p.id, kerr.KafkaStorageError.Code, "object storage upload backlog is over its bound; retry later"), -1, false
	}
	res, err := p.log.Append(records, epoch)
	if err != nil {
		code := errorCode(err)
		if code == kerr.KafkaStorageError.Code {
			b.log.Error("append failed", "topic", p.t.name, "partition", p.id, "err", err)
		}
		return produceErr(p.id, code, err.Error()), -1, false
	}
	if solo {
		p.advanceHW(res.LastOffset + 1)
	}
	if !res.Duplicate {
		p.wake()
		p.t.m.bytesIn.Add(float64(len(records)))
		p.t.m.recordsIn.Add(float64(hdr.RecordCount))
	}
	out := kmsg.NewProduceResponseTopicPartition()
	out.Partition = p.id
	out.BaseOffset = res.BaseOffset
	out.LogAppendTime = -1
	out.LogStartOffset = p.log.LogStartOffset()
	return out, res.LastOffset, solo
}

func produceErr(partition int32, code int16, msg string) kmsg.ProduceResponseTopicPartition {
	r := kmsg.NewProduceResponseTopicPartition()
	r.Partition = partition
	r.ErrorCode = code
	r.BaseOffset = -1
	r.LogAppendTime = -1
	r.LogStartOffset = -1
	if msg != "" {
		r.ErrorMessage = &msg
	}
	return r
}

func (b *Broker) countProduceErrors(resp *kmsg.ProduceResponse) {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			b.metrics.errorCode(0, p.ErrorCode)
			if p.ErrorCode != 0 {
				// A client may retry these; say so, so duplicates from
				// non-idempotent retries can be traced.
				b.log.Debug("produce partition error", "topic", t.Topic, "partition", p.Partition, "code", p.ErrorCode)
			}
		}
	}
}
