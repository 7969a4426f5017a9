package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-io/strata/test/harness"
)

// clusterOptions configure the cluster section.
type clusterOptions struct {
	Root  string
	Load  loadConfig
	Kills int // leader kills in the failover phase
	Log   *slog.Logger
}

// clusterResult is everything the cluster section measured.
type clusterResult struct {
	Skipped string // non-empty: the section did not run, and why

	SingleProduce, ClusterProduce measured[produceResult]
	SingleLatency, ClusterLatency measured[latencyResult]
	Failover                      measured[failoverResult]
}

// failoverResult is the produce unavailability after each leader kill.
type failoverResult struct {
	Gaps   []time.Duration // one per kill, in order
	Failed int64           // records whose delivery failed
}

// P50 and Max summarize the gaps.
func (f failoverResult) P50() time.Duration { return percentile(sortedCopy(f.Gaps), 0.5) }
func (f failoverResult) Max() time.Duration { return percentile(sortedCopy(f.Gaps), 1) }

func sortedCopy(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}

// runCluster measures acks=all produce throughput and latency on one
// strata (RF 1) and on a local 3-broker cluster (RF 3, racks a, b, c, on a
// 3-member etcd), then the produce unavailability over leader kills.
func runCluster(ctx context.Context, o clusterOptions) clusterResult {
	var res clusterResult
	if _, err := harness.EtcdBinary(); err != nil {
		res.Skipped = err.Error()
		return res
	}
	log := o.Log
	stamp := time.Now().UnixNano()

	// One broker, RF 1.
	log.Info("cluster section: single broker")
	b, t, err := startStrata(ctx, filepath.Join(o.Root, "cluster-single"))
	if err != nil {
		res.SingleProduce.Err, res.SingleLatency.Err = err, err
	} else {
		res.SingleProduce, res.SingleLatency = producePhases(ctx, t.Addr, fmt.Sprintf("bench-rf1-%d", stamp), o.Load,
			func(ctx context.Context, topic string) error {
				return createTopic(ctx, t.Addr, topic, o.Load.Partitions)
			})
		if err := b.Stop(); err != nil {
			log.Warn("stop single broker", "err", err)
		}
	}

	// Three brokers, RF 3.
	log.Info("cluster section: starting 3 brokers")
	dir := filepath.Join(o.Root, "cluster")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		res.ClusterProduce.Err = err
		return res
	}
	sctx, cancel := context.WithTimeout(ctx, 3*harness.ReadyTimeout)
	c, err := harness.StartClusterContext(sctx, dir, harness.ClusterOptions{Brokers: 3, Racks: []string{"a", "b", "c"}})
	cancel()
	if err != nil {
		err = fmt.Errorf("start cluster: %w", err)
		res.ClusterProduce.Err, res.ClusterLatency.Err, res.Failover.Err = err, err, err
		return res
	}
	defer func() {
		if err := c.Close(); err != nil {
			log.Warn("stop cluster", "err", err)
		}
	}()
	createRF3 := func(ctx context.Context, topic string) error {
		_, err := c.CreateTopic(ctx, topic, o.Load.Partitions, 3, map[string]*string{"min.insync.replicas": strPtr("2")})
		return err
	}
	res.ClusterProduce, res.ClusterLatency = producePhases(ctx, c.Brokers[0].Addr, fmt.Sprintf("bench-rf3-%d", stamp), o.Load, createRF3)
	if res.ClusterProduce.Err != nil {
		res.ClusterProduce.Err = fmt.Errorf("%w\n%s", res.ClusterProduce.Err, c.LogTails(10))
	}

	log.Info("cluster section: failover", "kills", o.Kills)
	var fres failoverResult
	err = withTimeout(ctx, time.Duration(o.Kills)*90*time.Second, func(ctx context.Context) (err error) {
		fres, err = runFailover(ctx, c, fmt.Sprintf("bench-failover-%d", stamp), o.Kills, log)
		return err
	})
	res.Failover = measured[failoverResult]{Res: fres, OK: err == nil, Err: err}
	return res
}

// producePhases creates the throughput and latency topics with create and
// runs the acks=all throughput and latency phases against addr.
func producePhases(ctx context.Context, addr, prefix string, cfg loadConfig, create func(context.Context, string) error) (measured[produceResult], measured[latencyResult]) {
	var p measured[produceResult]
	var l measured[latencyResult]
	tput, lat := prefix+"-tput", prefix+"-lat"
	if err := withTimeout(ctx, time.Minute, func(ctx context.Context) error { return create(ctx, tput) }); err != nil {
		p.Err = err
	} else {
		var r produceResult
		err := withTimeout(ctx, cfg.MaxDuration+2*time.Minute, func(ctx context.Context) (err error) {
			r, err = runProduce(ctx, addr, tput, acksAll, cfg)
			return err
		})
		p = measure(r, err)
	}
	if err := withTimeout(ctx, time.Minute, func(ctx context.Context) error { return create(ctx, lat) }); err != nil {
		l.Err = err
	} else {
		var r latencyResult
		err := withTimeout(ctx, cfg.LatencyDur+2*time.Minute, func(ctx context.Context) (err error) {
			r, err = runLatency(ctx, addr, lat, acksAll, cfg)
			return err
		})
		l = measure(r, err)
	}
	return p, l
}

// runFailover produces steadily to partition 0 of a fresh RF 3 topic and,
// kills times, SIGKILLs its leader, measures the time until the next
// acknowledgement, restarts the broker and waits for a full ISR again.
func runFailover(ctx context.Context, c *harness.Cluster, topic string, kills int, log *slog.Logger) (failoverResult, error) {
	var res failoverResult
	if _, err := c.CreateTopic(ctx, topic, 1, 3, map[string]*string{"min.insync.replicas": strPtr("2")}); err != nil {
		return res, err
	}
	cl, err := c.Client(kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(2*time.Minute), kgo.MetadataMinAge(250*time.Millisecond), kgo.MaxBufferedRecords(100000))
	if err != nil {
		return res, err
	}
	defer cl.Close()

	var (
		mu      sync.Mutex
		lastAck time.Time
		failed  int64
	)
	pctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { // 500 records/s of 1 KiB
		defer close(done)
		value := payload(1 << 10)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for pctx.Err() == nil {
			cl.Produce(pctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed++
					return
				}
				lastAck = time.Now()
			})
			select {
			case <-pctx.Done():
			case <-tick.C:
			}
		}
	}()
	defer func() { stop(); <-done }()
	ackAfter := func(t time.Time) bool {
		mu.Lock()
		defer mu.Unlock()
		return lastAck.After(t)
	}
	if err := waitFor(ctx, 30*time.Second, func() bool { return ackAfter(time.Now().Add(-time.Second)) }); err != nil {
		return res, fmt.Errorf("no acknowledgement before the first kill: %w", err)
	}

	for k := range kills {
		st, err := c.TopicState(ctx, topic)
		if err != nil {
			return res, err
		}
		i := c.BrokerIndex(st[0].Leader)
		if i < 0 {
			return res, fmt.Errorf("kill %d: no leader: %s", k+1, st)
		}
		b := c.Brokers[i]
		killed := time.Now()
		if err := b.Kill(); err != nil {
			return res, err
		}
		if err := waitFor(ctx, 60*time.Second, func() bool { return ackAfter(killed) }); err != nil {
			return res, fmt.Errorf("kill %d of broker %d: produce did not recover: %w", k+1, i+1, err)
		}
		mu.Lock()
		gap := lastAck.Sub(killed)
		mu.Unlock()
		// lastAck may already be past the first acknowledgement; the poll
		// interval bounds the error.
		res.Gaps = append(res.Gaps, gap)
		log.Info("failover", "kill", k+1, "broker", i+1, "unavailable", gap)
		if err := b.Restart(ctx); err != nil {
			return res, fmt.Errorf("restart broker %d: %w", i+1, err)
		}
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		_, err = c.WaitTopic(wctx, topic, harness.FullyReplicated(1, 3))
		cancel()
		if err != nil {
			return res, fmt.Errorf("after restarting broker %d: %w", i+1, err)
		}
	}
	mu.Lock()
	res.Failed = failed
	mu.Unlock()
	return res, nil
}

// waitFor polls cond every 10 ms until it holds or d passes.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

func strPtr(s string) *string { return &s }
