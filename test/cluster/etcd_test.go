package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// maxStall is the longest pause in acknowledgements or in consumer
// progress that counts as "a short retry" while an etcd member is lost.
const maxStall = 5 * time.Second

// TestEtcdMemberLoss kills the etcd raft leader while a producer and a
// consumer run: no record may fail, neither may stall for long, and
// everything acknowledged is read back exactly once.
func TestEtcdMemberLoss(t *testing.T) {
	c := startCluster(t, false)
	ctx := timeout(t, 3*time.Minute)
	const topic, parts = "etcd-loss", 3
	createTopic(t, ctx, c, topic, parts, 3, configs("min.insync.replicas=2"))

	p, err := newSeqProducer(c, topic, parts, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	prodDone := make(chan struct{})
	go func() {
		defer close(prodDone)
		p.runRate(pctx, 200, 30*time.Second)
	}()

	// The consumer records when each poll brought records.
	var (
		mu       sync.Mutex
		consumed int
		polls    []time.Time
	)
	start := map[int32]kgo.Offset{}
	for i := range int32(parts) {
		start[i] = kgo.NewOffset().At(0)
	}
	cons, err := c.Client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	consDone := make(chan struct{})
	go func() {
		defer close(consDone)
		for cctx.Err() == nil {
			fs := cons.PollFetches(cctx)
			n := fs.NumRecords()
			if n > 0 {
				mu.Lock()
				consumed += n
				polls = append(polls, time.Now())
				mu.Unlock()
			}
		}
	}()

	time.Sleep(5 * time.Second)
	leader, err := c.Etcd.Leader(ctx)
	if err != nil {
		t.Logf("etcd leader unknown (%v); killing member 0", err)
		leader = 0
	}
	killAt := time.Now()
	t.Logf("killing etcd member %d (the raft leader)", leader)
	if err := c.Etcd.Kill(leader); err != nil {
		t.Fatal(err)
	}
	time.Sleep(15 * time.Second)
	restartAt := time.Now()
	if err := c.Etcd.Restart(ctx, leader); err != nil {
		t.Fatalf("restart etcd member %d: %v", leader, err)
	}
	time.Sleep(5 * time.Second)
	pcancel()
	<-prodDone
	end := time.Now()

	acks, failed, sent, firstErr := p.snapshot()
	for part, n := range failed {
		if n > 0 {
			t.Errorf("partition %d: %d records failed delivery with an etcd member down (sent %d); first: %v", part, n, sent[part], firstErr)
		}
	}
	if gap, at := longestAckGap(acks, killAt.Add(-time.Second), restartAt); gap > maxStall {
		t.Errorf("no produce acknowledgement for %s from %s (etcd member %d killed at %s)",
			gap.Round(time.Millisecond), at.Format("15:04:05.000"), leader, killAt.Format("15:04:05.000"))
	} else {
		t.Logf("longest acknowledgement gap with the etcd member down: %s", gap.Round(time.Millisecond))
	}

	// The consumer progressed while the member was down.
	mu.Lock()
	ps := append([]time.Time(nil), polls...)
	mu.Unlock()
	prev := killAt
	var stall time.Duration
	for _, at := range ps {
		if at.Before(killAt) || at.After(restartAt) {
			continue
		}
		stall = max(stall, at.Sub(prev))
		prev = at
	}
	stall = max(stall, restartAt.Sub(prev))
	if stall > maxStall {
		t.Errorf("consumer made no progress for %s while etcd member %d was down", stall.Round(time.Millisecond), leader)
	} else {
		t.Logf("longest consumer pause with the etcd member down: %s", stall.Round(time.Millisecond))
	}
	ccancel()
	<-consDone

	rctx, rcancel := context.WithTimeout(ctx, 60*time.Second)
	defer rcancel()
	log, err := readAll(rctx, c, topic, parts)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	t.Logf("SUMMARY etcd member loss over %s: %s", end.Sub(killAt).Round(time.Second), verifyLog(t, log, acks))
}
