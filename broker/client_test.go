package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestFranzGoClientRoundTrip runs a real client against the broker: an
// idempotent producer (InitProducerId, Produce v9+) and a group consumer
// (FindCoordinator, JoinGroup, SyncGroup, Fetch with sessions refused,
// OffsetCommit), then checks the committed offsets with kadm.
func TestFranzGoClientRoundTrip(t *testing.T) {
	tb := startBroker(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	adm := kadm.NewClient(newClient(t, tb))
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "kgo"); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	prod := newClient(t, tb, kgo.DefaultProduceTopic("kgo"))
	const n = 100
	for i := 0; i < n; i++ {
		prod.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprint(i % 7)), Value: []byte(fmt.Sprint(i))}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	cons := newClient(t, tb, kgo.ConsumeTopics("kgo"), kgo.ConsumerGroup("kgo-group"),
		kgo.FetchMaxWait(200*time.Millisecond), kgo.DisableAutoCommit())
	got := map[string]bool{}
	for len(got) < n {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", len(got), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if got[string(r.Value)] {
				t.Errorf("record %s consumed twice", r.Value)
			}
			got[string(r.Value)] = true
		})
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	offs, err := adm.FetchOffsets(ctx, "kgo-group")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Err != nil {
			t.Errorf("offset %s-%d: %v", o.Topic, o.Partition, o.Err)
		}
		total += o.At
	})
	if total != n {
		t.Fatalf("committed offsets sum to %d, want %d", total, n)
	}
}

func newClient(t *testing.T, tb *testBroker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(tb.addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}
