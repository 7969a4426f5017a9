package partlog

import (
	"fmt"
	"math"
	"sort"
)

// maxBatchesPerProducer matches Kafka's ProducerStateManager: the last five
// batches of each producer are remembered for duplicate detection (clients
// keep at most five requests in flight).
const maxBatchesPerProducer = 5

// ProducerInfo describes one idempotent producer known to the log
// (DescribeProducers).
type ProducerInfo struct {
	ProducerID    int64
	ProducerEpoch int16
	LastSequence  int32
	LastTimestamp int64
}

type batchMeta struct {
	firstSeq, lastSeq int32
	firstOff, lastOff int64
}

type producerState struct {
	epoch   int16
	lastTs  int64
	batches []batchMeta // oldest first, at most maxBatchesPerProducer
}

// nextSeq returns seq+inc with Kafka's int32 wraparound to 0.
func nextSeq(seq int32, inc int32) int32 {
	if seq > math.MaxInt32-inc {
		return inc - (math.MaxInt32 - seq) - 1
	}
	return seq + inc
}

// checkProducer decides what to do with a batch from an idempotent
// producer. It returns the original batch on an exact duplicate, or an
// error; (nil, nil) means append. Caller holds mu.
func (l *Log) checkProducer(h BatchHeader) (*batchMeta, error) {
	if h.ProducerID < 0 {
		return nil, nil
	}
	p := l.producers[h.ProducerID]
	if h.BaseSequence < 0 {
		// Control batches (transaction markers) carry no sequence; only the
		// epoch is checked.
		if p != nil && h.ProducerEpoch < p.epoch {
			return nil, fmt.Errorf("%w: producer %d epoch %d is older than %d", ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, p.epoch)
		}
		return nil, nil
	}
	if p == nil {
		if h.BaseSequence != 0 {
			return nil, fmt.Errorf("%w: unknown producer %d starts at sequence %d", ErrOutOfOrderSequence, h.ProducerID, h.BaseSequence)
		}
		return nil, nil
	}
	switch {
	case h.ProducerEpoch < p.epoch:
		return nil, fmt.Errorf("%w: producer %d epoch %d is older than %d", ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, p.epoch)
	case h.ProducerEpoch > p.epoch:
		if h.BaseSequence != 0 {
			return nil, fmt.Errorf("%w: producer %d new epoch %d starts at sequence %d", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
		return nil, nil
	}
	last := nextSeq(h.BaseSequence, h.LastOffsetDelta)
	for i := range p.batches {
		if b := &p.batches[i]; b.firstSeq == h.BaseSequence && b.lastSeq == last {
			dup := *b
			return &dup, nil
		}
	}
	if n := len(p.batches); n > 0 {
		if want := nextSeq(p.batches[n-1].lastSeq, 1); h.BaseSequence != want {
			return nil, fmt.Errorf("%w: producer %d sent sequence %d, expected %d", ErrOutOfOrderSequence, h.ProducerID, h.BaseSequence, want)
		}
	} else if h.BaseSequence != 0 {
		return nil, fmt.Errorf("%w: producer %d starts at sequence %d", ErrOutOfOrderSequence, h.ProducerID, h.BaseSequence)
	}
	return nil, nil
}

// recordProducer remembers an appended (or recovered) batch whose base
// offset has been stamped. Caller holds mu.
func (l *Log) recordProducer(h BatchHeader) {
	if h.ProducerID < 0 {
		return
	}
	p := l.producers[h.ProducerID]
	if p == nil {
		p = &producerState{epoch: h.ProducerEpoch}
		l.producers[h.ProducerID] = p
	}
	if h.ProducerEpoch != p.epoch {
		p.epoch = h.ProducerEpoch
		p.batches = p.batches[:0]
	}
	p.lastTs = h.MaxTimestamp
	if h.BaseSequence < 0 {
		return // control batch: no sequence
	}
	m := batchMeta{
		firstSeq: h.BaseSequence,
		lastSeq:  nextSeq(h.BaseSequence, h.LastOffsetDelta),
		firstOff: h.BaseOffset,
		lastOff:  h.LastOffset(),
	}
	if len(p.batches) == maxBatchesPerProducer {
		copy(p.batches, p.batches[1:])
		p.batches = p.batches[:maxBatchesPerProducer-1]
	}
	p.batches = append(p.batches, m)
}

// Producers lists the producers with state in this log, by producer id.
func (l *Log) Producers() []ProducerInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]ProducerInfo, 0, len(l.producers))
	for id, p := range l.producers {
		info := ProducerInfo{ProducerID: id, ProducerEpoch: p.epoch, LastSequence: -1, LastTimestamp: p.lastTs}
		if n := len(p.batches); n > 0 {
			info.LastSequence = p.batches[n-1].lastSeq
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ProducerID < out[j].ProducerID })
	return out
}
