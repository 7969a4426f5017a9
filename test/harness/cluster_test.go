package harness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metastore"
)

// produceConsume creates topic on the broker at addr (through that broker
// alone), appends n records after what the topic holds, and reads the whole
// partition back, checking that the values are "<topic>-0".."<topic>-<total-1>".
func produceConsume(ctx context.Context, t *testing.T, addr, topic string, create bool, from, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.RecordRetries(20), kgo.RetryTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if create {
		// While etcd elects a new leader the broker answers with a
		// retriable REQUEST_TIMED_OUT; retry as a Kafka admin client would.
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, topic)
			if err == nil && resp.Err == nil {
				break
			}
			// kadm's CreateTopic returns the topic's error as err as well.
			if (errors.Is(err, kerr.RequestTimedOut) || errors.Is(resp.Err, kerr.RequestTimedOut)) && time.Now().Before(deadline) {
				time.Sleep(500 * time.Millisecond)
				continue
			}
			t.Fatalf("create %s on %s: %v %v", topic, addr, err, resp.Err)
		}
	}
	for i := from; i < from+n; i++ {
		if err := cl.ProduceSync(ctx, kgo.StringRecord(topic+"-"+strconv.Itoa(i))).FirstErr(); err != nil {
			t.Fatalf("produce %d to %s on %s: %v", i, topic, addr, err)
		}
	}
	var got []string
	for len(got) < from+n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume %s on %s: got %d of %d: %v", topic, addr, len(got), from+n, ctx.Err())
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Logf("fetch %s: %v", topic, err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	for i, v := range got {
		if want := topic + "-" + strconv.Itoa(i); v != want {
			t.Fatalf("record %d of %s = %q, want %q", i, topic, v, want)
		}
	}
}

func describeCluster(ctx context.Context, addr string) (*kmsg.DescribeClusterResponse, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequestRetries(2))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	resp, err := kmsg.NewPtrDescribeClusterRequest().RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if resp.ErrorCode != 0 {
		return nil, fmt.Errorf("describe cluster error code %d", resp.ErrorCode)
	}
	return resp, nil
}

// TestClusterThreeBrokers starts 3 etcd members, MinIO and 3 brokers in 3
// racks and checks what works before replication: every broker answers and
// registers in the shared etcd, topics land in the shared etcd, one etcd
// member can die without interrupting produce, consume or topic creation,
// brokers can be paused, killed and restarted, and everything stops cleanly.
func TestClusterThreeBrokers(t *testing.T) {
	c := StartCluster(t, ClusterOptions{Brokers: 3, Racks: []string{"a", "b", "c"}, MinIO: true})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var clusterID string
	for i, b := range c.Brokers {
		if err := Ping(ctx, b.Addr); err != nil {
			t.Fatalf("broker %d ApiVersions: %v", i+1, err)
		}
		resp, err := describeCluster(ctx, b.Addr)
		if err != nil {
			t.Fatalf("broker %d DescribeCluster: %v", i+1, err)
		}
		if resp.ClusterID == "" || (clusterID != "" && resp.ClusterID != clusterID) {
			t.Fatalf("broker %d cluster id %q, others %q: not one cluster", i+1, resp.ClusterID, clusterID)
		}
		clusterID = resp.ClusterID
		self := slices.IndexFunc(resp.Brokers, func(br kmsg.DescribeClusterResponseBroker) bool { return br.NodeID == c.NodeID(i) })
		if self < 0 {
			t.Fatalf("broker %d does not list itself: %+v", i+1, resp.Brokers)
		}
		if r := resp.Brokers[self].Rack; r == nil || *r != []string{"a", "b", "c"}[i] {
			t.Fatalf("broker %d rack %v", i+1, r)
		}
	}

	meta, err := metastore.Open(ctx, c.MetaSpec, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	regs, err := meta.ListBrokers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(regs) != 3 {
		t.Fatalf("registered brokers %+v, want 3", regs)
	}
	for i, r := range regs {
		if r.NodeID != c.NodeID(i) || r.Rack != []string{"a", "b", "c"}[i] || fmt.Sprintf("%s:%d", r.Host, r.Port) != c.Brokers[i].Addr {
			t.Fatalf("registration %d = %+v, broker at %s", i, r, c.Brokers[i].Addr)
		}
	}

	// A topic created on broker 1 works there and is in the shared etcd.
	produceConsume(ctx, t, c.Brokers[0].Addr, "before", true, 0, 10)
	if _, err := meta.GetTopic(ctx, "before"); err != nil {
		t.Fatalf("topic created on broker 1 not in etcd: %v", err)
	}

	// Killing an etcd member interrupts nothing: the brokers' etcd clients
	// move to the others (which also elect a new leader if it led).
	if err := c.Etcd.Kill(0); err != nil {
		t.Fatal(err)
	}
	produceConsume(ctx, t, c.Brokers[0].Addr, "before", false, 10, 10)
	produceConsume(ctx, t, c.Brokers[1].Addr, "after", true, 0, 10)
	if _, err := meta.GetTopic(ctx, "after"); err != nil {
		t.Fatalf("topic created with an etcd member down not in etcd: %v", err)
	}
	if err := c.Etcd.Restart(ctx, 0); err != nil {
		t.Fatal(err)
	}

	// A paused broker answers nothing until resumed.
	if err := c.Brokers[2].Pause(); err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
	if err := Ping(pctx, c.Brokers[2].Addr); err == nil {
		t.Fatal("paused broker answered ApiVersions")
	}
	pcancel()
	if err := c.Brokers[2].Resume(); err != nil {
		t.Fatal(err)
	}
	if err := Ping(ctx, c.Brokers[2].Addr); err != nil {
		t.Fatalf("resumed broker: %v", err)
	}

	// A killed broker restarts on its data and serves its topic again.
	if err := c.Brokers[1].Kill(); err != nil {
		t.Fatal(err)
	}
	if err := c.Brokers[1].Pause(); err != ErrNotRunning {
		t.Fatalf("Pause of a killed broker: %v", err)
	}
	if err := c.Brokers[1].Restart(ctx); err != nil {
		t.Fatal(err)
	}
	produceConsume(ctx, t, c.Brokers[1].Addr, "after", false, 10, 5)
}
