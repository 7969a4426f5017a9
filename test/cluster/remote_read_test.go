package cluster

import (
	"log/slog"
	"testing"
	"time"

	"github.com/strata-io/strata/metastore"
)

// TestRemoteReadsFromAnyBroker: a broker that holds no replica of a
// partition serves its remote (object storage) range.
func TestRemoteReadsFromAnyBroker(t *testing.T) {
	c := startCluster(t, true)
	ctx := timeout(t, 3*time.Minute)
	const topic = "remote-any"
	const valueSize, perPart = 16 << 10, 512 // 8 MiB
	st := createTopic(t, ctx, c, topic, 1, 1, configs(
		"segment.bytes=1048576", "local.retention.bytes=1048576"))
	leader := st[0].Leader

	meta, err := metastore.Open(ctx, c.MetaSpec, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	mt, err := meta.GetTopic(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}

	p, err := newSeqProducer(c, topic, 1, valueSize)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.produceN(ctx, perPart); err != nil {
		t.Fatalf("produce: %v", err)
	}
	acks, _, _, firstErr := p.snapshot()
	if firstErr != nil {
		t.Fatalf("produce: %v", firstErr)
	}

	// Wait until most of the partition is in object storage.
	var remoteEnd int64
	deadline := time.Now().Add(time.Minute)
	for {
		ends, err := remoteLogEnds(ctx, meta, mt.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if remoteEnd = ends[0]; remoteEnd >= perPart/2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("remote log end %d after a minute, want >= %d", remoteEnd, perPart/2)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A broker with no replica answers from object storage, up to the
	// remote log end.
	other := -1
	for i := range c.Brokers {
		if c.NodeID(i) != leader {
			other = i
			break
		}
	}
	n, end, err := batchBytes(ctx, c.Brokers[other].Addr, topic, mt.ID, 0, 0)
	if err != nil {
		t.Fatalf("fetch from broker %d (no replica): %v", c.NodeID(other), err)
	}
	if end < remoteEnd || n < int64(remoteEnd)*valueSize {
		t.Fatalf("broker %d (no replica) served %d bytes up to offset %d; remote log end %d", c.NodeID(other), n, end, remoteEnd)
	}
	t.Logf("broker %d, holding no replica, served offsets [0, %d) (%d bytes) from object storage", c.NodeID(other), end, n)

	// And what it served is the partition's data, every record intact:
	// read the whole partition back through the cluster.
	log, err := readAll(ctx, c, topic, 1)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	t.Logf("read back: %s", verifyLog(t, log, acks))
	if got, _ := c.Brokers[other].Metric(ctx, "strata_follower_fetch_bytes_total", nil); got < float64(n) {
		t.Errorf("broker %d: strata_follower_fetch_bytes_total %.0f, want >= the %d bytes it served", c.NodeID(other), got, n)
	}
}
