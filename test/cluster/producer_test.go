package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-io/strata/test/harness"
)

// ack is one acknowledged record: its sequence number within its
// partition, the offset the broker acknowledged and when the client saw it.
type ack struct {
	Seq    int64
	Offset int64
	At     time.Time
}

// seqProducer produces values "p<partition>-<seq>" (padded to size bytes)
// with strictly increasing seq per partition, through an idempotent
// acks=all franz-go client, and records every acknowledgement and failure.
type seqProducer struct {
	cl    *kgo.Client
	topic string
	parts int32
	size  int

	mu       sync.Mutex
	next     []int64 // next seq per partition
	acks     [][]ack // per partition, in callback order
	failed   []int   // failed records per partition
	firstErr error
}

func newSeqProducer(c *harness.Cluster, topic string, parts int32, size int, extra ...kgo.Opt) (*seqProducer, error) {
	opts := append([]kgo.Opt{
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerLinger(2 * time.Millisecond),
		kgo.MaxBufferedRecords(50000),
		kgo.RecordDeliveryTimeout(45 * time.Second),
		kgo.ProduceRequestTimeout(10 * time.Second),
		kgo.RetryTimeout(45 * time.Second),
		kgo.MetadataMinAge(250 * time.Millisecond),
	}, extra...)
	cl, err := c.Client(opts...)
	if err != nil {
		return nil, err
	}
	return &seqProducer{cl: cl, topic: topic, parts: parts, size: size,
		next: make([]int64, parts), acks: make([][]ack, parts), failed: make([]int, parts)}, nil
}

func (p *seqProducer) Close() { p.cl.Close() }

// value is the record value of seq in partition part, padded to size.
func value(part int32, seq int64, size int) []byte {
	v := fmt.Appendf(nil, "p%02d-%09d", part, seq)
	if len(v) < size {
		v = append(v, bytes.Repeat([]byte{'.'}, size-len(v))...)
	}
	return v
}

// parseValue inverts value.
func parseValue(v []byte) (part int32, seq int64, err error) {
	if len(v) < 13 || v[0] != 'p' || v[3] != '-' {
		return 0, 0, fmt.Errorf("not a test value: %.20q", v)
	}
	pp, err1 := strconv.ParseInt(string(v[1:3]), 10, 32)
	s, err2 := strconv.ParseInt(string(v[4:13]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("not a test value %.20q: %w", v, err)
	}
	return int32(pp), s, nil
}

// produce sends the next record of partition part asynchronously.
func (p *seqProducer) produce(ctx context.Context, part int32) {
	p.mu.Lock()
	seq := p.next[part]
	p.next[part]++
	p.mu.Unlock()
	r := &kgo.Record{Partition: part, Value: value(part, seq, p.size)}
	p.cl.Produce(ctx, r, func(r *kgo.Record, err error) {
		now := time.Now()
		p.mu.Lock()
		defer p.mu.Unlock()
		if err != nil {
			p.failed[part]++
			if p.firstErr == nil {
				p.firstErr = fmt.Errorf("partition %d seq %d at %s: %w", part, seq, now.Format("15:04:05.000"), err)
			}
			return
		}
		p.acks[part] = append(p.acks[part], ack{Seq: seq, Offset: r.Offset, At: now})
	})
}

// runRate produces rate records per second, round robin over the
// partitions, until ctx ends, then flushes (bounded by flushWait).
func (p *seqProducer) runRate(ctx context.Context, rate int, flushWait time.Duration) {
	start := time.Now()
	sent := 0
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	// ctx only ends the sending: records still in flight then are not
	// failed by it, the flush below waits for them.
	rctx := context.WithoutCancel(ctx)
	for ctx.Err() == nil {
		due := int(time.Since(start).Seconds() * float64(rate))
		for ; sent < due && ctx.Err() == nil; sent++ {
			p.produce(rctx, int32(sent%int(p.parts)))
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	fctx, cancel := context.WithTimeout(context.Background(), flushWait)
	defer cancel()
	_ = p.cl.Flush(fctx)
}

// produceN sends n records to every partition as fast as the client
// buffers allow and waits for all of them.
func (p *seqProducer) produceN(ctx context.Context, n int) error {
	for range n {
		for part := range p.parts {
			p.produce(ctx, part)
		}
	}
	return p.cl.Flush(ctx)
}

// snapshot copies the acknowledgements (sorted by seq) and failure counts.
func (p *seqProducer) snapshot() (acks [][]ack, failed []int, sent []int64, firstErr error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	acks = make([][]ack, len(p.acks))
	for i, a := range p.acks {
		acks[i] = slices.Clone(a)
		slices.SortFunc(acks[i], func(x, y ack) int { return int(x.Seq - y.Seq) })
	}
	return acks, slices.Clone(p.failed), slices.Clone(p.next), p.firstErr
}

// firstAckAfter is the earliest acknowledgement time after t on any of
// parts (zero when there is none).
func firstAckAfter(acks [][]ack, parts []int32, t time.Time) time.Time {
	var first time.Time
	for _, part := range parts {
		for _, a := range acks[part] {
			if a.At.After(t) && (first.IsZero() || a.At.Before(first)) {
				first = a.At
			}
		}
	}
	return first
}

// lastAckGap is, per partition in parts, the time from t to its first
// acknowledgement after t; the result is the longest (and which partition),
// or ok=false when a partition never saw one.
func lastAckGap(acks [][]ack, parts []int32, t time.Time) (gap time.Duration, worst int32, ok bool) {
	ok = true
	for _, part := range parts {
		f := firstAckAfter(acks, []int32{part}, t)
		if f.IsZero() {
			return 0, part, false
		}
		if d := f.Sub(t); d > gap {
			gap, worst = d, part
		}
	}
	return gap, worst, ok
}

// longestAckGap is the longest time between consecutive acknowledgements
// (over all partitions) within [from, to].
func longestAckGap(acks [][]ack, from, to time.Time) (time.Duration, time.Time) {
	var ts []time.Time
	for _, pa := range acks {
		for _, a := range pa {
			if !a.At.Before(from) && !a.At.After(to) {
				ts = append(ts, a.At)
			}
		}
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	prev := from
	var gap time.Duration
	var at time.Time
	for _, t := range append(ts, to) {
		if d := t.Sub(prev); d > gap {
			gap, at = d, prev
		}
		prev = t
	}
	return gap, at
}
