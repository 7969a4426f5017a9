package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// loadConfig describes the workload; the same values are used against every
// broker in one run.
type loadConfig struct {
	RecordSize  int           // value bytes per record
	Partitions  int32         // partitions of each fresh topic
	Producers   int           // concurrent producer clients in the throughput phase
	MaxBytes    int64         // throughput phase stops after this many bytes...
	MaxDuration time.Duration // ...or after this long, whichever first
	Rate        float64       // offered bytes/s in the latency phase
	LatencyDur  time.Duration // length of the latency phase
}

// ackMode is acks=1 (leader only, idempotence off, as kgo requires) or
// acks=all (all in-sync replicas, idempotent).
type ackMode string

const (
	acksLeader ackMode = "1"
	acksAll    ackMode = "all"
)

// producerOpts are the client options shared by every producer.
func producerOpts(addr string, acks ackMode) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.ProducerBatchMaxBytes(1 << 20),
		kgo.ProducerLinger(5 * time.Millisecond),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		// Stick to a partition for a full batch so batches can reach 1 MiB.
		kgo.RecordPartitioner(kgo.UniformBytesPartitioner(1<<20, true, true, nil)),
		kgo.MaxBufferedBytes(64 << 20),
		kgo.MaxBufferedRecords(1 << 20),
		kgo.ProduceRequestTimeout(30 * time.Second),
		kgo.RecordRetries(3),
		kgo.RecordDeliveryTimeout(2 * time.Minute), // a hung broker fails the run instead of stalling it
	}
	switch acks {
	case acksAll:
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	default:
		// Without idempotence kgo defaults to one request in flight; allow
		// the same five that idempotent producers (and Kafka's
		// max.in.flight.requests.per.connection default) use.
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(),
			kgo.MaxProduceRequestsInflightPerBroker(5))
	}
	return opts
}

// payload returns one record value of n incompressible bytes; it is shared by
// every record since kgo never modifies a record's value.
func payload(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{'s', 't', 'r', 'a', 't', 'a'})
	_, _ = r.Read(b)
	return b
}

// createTopic creates a topic with RF 1 and waits until its metadata shows
// every partition with a leader.
func createTopic(ctx context.Context, addr, topic string, partitions int32) error {
	return createTopicWith(ctx, addr, topic, partitions, nil)
}

// createTopicWith is createTopic with topic configs (Kafka names, e.g.
// "segment.bytes").
func createTopicWith(ctx context.Context, addr, topic string, partitions int32, configs map[string]*string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(ctx, partitions, 1, configs, topic)
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	if resp.Err != nil {
		return fmt.Errorf("create topic %s: %w", topic, resp.Err)
	}
	for {
		md, err := adm.Metadata(ctx, topic)
		if err == nil {
			if td, ok := md.Topics[topic]; ok && td.Err == nil && len(td.Partitions) == int(partitions) && allLed(td) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for topic %s leaders: %w", topic, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func allLed(td kadm.TopicDetail) bool {
	for _, p := range td.Partitions {
		if p.Err != nil || p.Leader < 0 {
			return false
		}
	}
	return true
}

// deleteTopic removes a topic so a long run does not accumulate data.
func deleteTopic(ctx context.Context, addr, topic string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).DeleteTopic(ctx, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("delete topic %s: %w", topic, err)
	}
	return nil
}

// produceResult is the outcome of the throughput phase.
type produceResult struct {
	Records int64
	Bytes   int64
	Failed  int64
	Elapsed time.Duration
}

// MBps is acknowledged value bytes per second in MB/s.
func (r produceResult) MBps() float64 { return mbps(r.Bytes, r.Elapsed) }

// runProduce produces as fast as the broker accepts from cfg.Producers
// clients until cfg.MaxBytes or cfg.MaxDuration, then waits for every
// outstanding record. Elapsed runs to the last acknowledgement.
func runProduce(ctx context.Context, addr, topic string, acks ackMode, cfg loadConfig) (produceResult, error) {
	value := payload(cfg.RecordSize)
	clients := make([]*kgo.Client, 0, cfg.Producers)
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	for range cfg.Producers {
		cl, err := kgo.NewClient(append(producerOpts(addr, acks), kgo.DefaultProduceTopic(topic))...)
		if err != nil {
			return produceResult{}, fmt.Errorf("producer client: %w", err)
		}
		// Warm up: metadata, connection, producer id, outside the clock.
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr(); err != nil {
			return produceResult{}, fmt.Errorf("warm-up produce: %w", err)
		}
		clients = append(clients, cl)
	}

	var (
		reserved, acked, records, failed atomic.Int64
		firstErr                         atomic.Pointer[error]
		wg                               sync.WaitGroup
	)
	cb := func(r *kgo.Record, err error) {
		if err != nil {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, &err)
			return
		}
		acked.Add(int64(len(r.Value)))
		records.Add(1)
	}
	start := time.Now()
	deadline := start.Add(cfg.MaxDuration)
	for _, cl := range clients {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil && firstErr.Load() == nil; i++ {
				if reserved.Add(int64(len(value))) > cfg.MaxBytes {
					break
				}
				if i&255 == 0 && time.Now().After(deadline) {
					break
				}
				cl.Produce(ctx, &kgo.Record{Value: value}, cb)
			}
			_ = cl.Flush(ctx)
		})
	}
	wg.Wait()
	res := produceResult{Records: records.Load(), Bytes: acked.Load(), Failed: failed.Load(), Elapsed: time.Since(start)}
	if p := firstErr.Load(); p != nil {
		return res, fmt.Errorf("produce: %d records failed, first: %w", res.Failed, *p)
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("produce: %w", err)
	}
	return res, nil
}

// consumeResult is the outcome of the consume phase.
type consumeResult struct {
	Records int64
	Bytes   int64
	Elapsed time.Duration
}

// MBps is consumed value bytes per second in MB/s.
func (r consumeResult) MBps() float64 { return mbps(r.Bytes, r.Elapsed) }

// runConsume reads the whole topic back from the start with one consumer
// and large fetches, until it has every record below the end offsets
// sampled at the start, or until maxDur.
func runConsume(ctx context.Context, addr, topic string, maxDur time.Duration) (consumeResult, error) {
	want, err := topicRecords(ctx, addr, topic)
	if err != nil {
		return consumeResult{}, err
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(64<<20),
		kgo.FetchMaxPartitionBytes(16<<20),
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	if err != nil {
		return consumeResult{}, fmt.Errorf("consumer client: %w", err)
	}
	defer cl.Close()

	ctx, cancel := context.WithTimeout(ctx, maxDur)
	defer cancel()
	var res consumeResult
	start := time.Now()
	for res.Records < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			res.Elapsed = time.Since(start)
			return res, fmt.Errorf("consume: got %d of %d records: %w", res.Records, want, err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			ferr = errors.Join(ferr, fmt.Errorf("fetch %s/%d: %w", t, p, err))
		})
		if ferr != nil {
			return res, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			res.Records++
			res.Bytes += int64(len(r.Value) + len(r.Key))
		})
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// topicRecords is the number of offsets below the end of every partition.
func topicRecords(ctx context.Context, addr, topic string) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return 0, fmt.Errorf("admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("list end offsets: %w", err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("list start offsets: %w", err)
	}
	var n int64
	var lerr error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			lerr = errors.Join(lerr, fmt.Errorf("end offset %s/%d: %w", o.Topic, o.Partition, o.Err))
			return
		}
		s, _ := starts.Lookup(o.Topic, o.Partition)
		n += o.Offset - s.Offset
	})
	return n, lerr
}

// latencyResult is the outcome of the fixed-rate latency phase.
type latencyResult struct {
	P50, P99, P999 time.Duration
	Samples        int
	OfferedMBps    float64
	AchievedMBps   float64 // acknowledged bytes over the phase; below offered means the broker fell behind
	Failed         int64
	sorted         []time.Duration // the samples, for pooling phases
	// Stalls are the 100 ms windows of send time whose slowest record
	// took over stallBound, as "at+latency" (for -v logs).
	Stalls []string
}

const stallBound = 30 * time.Millisecond

// pooledLatency is the result of several phases of the same load, taken
// together: percentiles over all their samples, the mean achieved rate.
func pooledLatency(rs ...latencyResult) latencyResult {
	var out latencyResult
	var all []time.Duration
	for _, r := range rs {
		all = append(all, r.sorted...)
		out.Failed += r.Failed
		out.OfferedMBps = r.OfferedMBps
		out.AchievedMBps += r.AchievedMBps / float64(len(rs))
	}
	slices.Sort(all)
	out.P50, out.P99, out.P999 = percentile(all, 0.50), percentile(all, 0.99), percentile(all, 0.999)
	out.Samples, out.sorted = len(all), all
	return out
}

// runLatency produces at a fixed cfg.Rate for cfg.LatencyDur, paced by a
// 1 ms ticker, and records for every record the time from the Produce call
// to its promise callback.
func runLatency(ctx context.Context, addr, topic string, acks ackMode, cfg loadConfig) (latencyResult, error) {
	value := payload(cfg.RecordSize)
	cl, err := kgo.NewClient(append(producerOpts(addr, acks), kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		return latencyResult{}, fmt.Errorf("producer client: %w", err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr(); err != nil {
		return latencyResult{}, fmt.Errorf("warm-up produce: %w", err)
	}

	perSec := cfg.Rate / float64(cfg.RecordSize)
	lat := newLatencies(int(perSec*cfg.LatencyDur.Seconds()*1.05) + 1024)
	var (
		acked, failed atomic.Int64
		firstErr      atomic.Pointer[error]
	)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	windows := make([]atomic.Int64, int(cfg.LatencyDur/(100*time.Millisecond))+50)
	// Offer exactly perSec*LatencyDur records; if the process stalls, the
	// records that fell due meanwhile go out as soon as it resumes.
	total := int64(perSec * cfg.LatencyDur.Seconds())
	start := time.Now()
	for sent := int64(0); sent < total && ctx.Err() == nil; {
		due := min(total, int64(time.Since(start).Seconds()*perSec))
		for ; sent < due; sent++ {
			t0 := time.Now()
			cl.Produce(ctx, &kgo.Record{Value: value}, func(r *kgo.Record, err error) {
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				d := time.Since(t0)
				lat.add(d)
				if w := &windows[min(len(windows)-1, int(t0.Sub(start)/(100*time.Millisecond)))]; int64(d) > w.Load() {
					w.Store(int64(d)) // racy max: a diagnostic only
				}
				acked.Add(int64(len(r.Value)))
			})
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	if err := cl.Flush(ctx); err != nil {
		return latencyResult{}, fmt.Errorf("flush: %w", err)
	}
	elapsed := time.Since(start)
	s := lat.sorted()
	res := latencyResult{
		P50: percentile(s, 0.50), P99: percentile(s, 0.99), P999: percentile(s, 0.999),
		Samples:      len(s),
		OfferedMBps:  cfg.Rate / 1e6,
		AchievedMBps: mbps(acked.Load(), elapsed),
		Failed:       failed.Load(),
		sorted:       s,
	}
	for i := range windows {
		if d := time.Duration(windows[i].Load()); d > stallBound {
			res.Stalls = append(res.Stalls, fmt.Sprintf("%.1fs+%dms", float64(i)/10, d.Milliseconds()))
		}
	}
	if p := firstErr.Load(); p != nil {
		return res, fmt.Errorf("latency produce: %d records failed, first: %w", res.Failed, *p)
	}
	return res, nil
}
