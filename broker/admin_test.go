package broker

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func createPartitions(rc *rawConn, v int16, validateOnly bool, topics ...kmsg.CreatePartitionsRequestTopic) []kmsg.CreatePartitionsResponseTopic {
	rc.t.Helper()
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis, req.ValidateOnly, req.Topics = 10000, validateOnly, topics
	return do[*kmsg.CreatePartitionsResponse](rc, v, req).Topics
}

func TestCreatePartitions(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("cp", 1, nil)
	numParts := func() int {
		return len(do[*kmsg.MetadataResponse](rc, 12, metadataFor("cp")).Topics[0].Partitions)
	}

	if r := createPartitions(rc, 3, true, kmsg.CreatePartitionsRequestTopic{Topic: "cp", Count: 5}); r[0].ErrorCode != 0 {
		t.Fatalf("validate only: error %d", r[0].ErrorCode)
	}
	if n := numParts(); n != 1 {
		t.Fatalf("validate only created partitions: %d", n)
	}
	if r := createPartitions(rc, 0, false, kmsg.CreatePartitionsRequestTopic{Topic: "cp", Count: 3}); r[0].ErrorCode != 0 {
		t.Fatalf("grow to 3: error %d", r[0].ErrorCode)
	}
	if n := numParts(); n != 3 {
		t.Fatalf("%d partitions after growing to 3", n)
	}
	if off := rc.mustProduce("cp", 2, plainBatch(1, "new")); off != 0 {
		t.Fatalf("produce to new partition: offset %d", off)
	}
	cases := []struct {
		name string
		tp   []kmsg.CreatePartitionsRequestTopic
		code int16
	}{
		{"not an increase", []kmsg.CreatePartitionsRequestTopic{{Topic: "cp", Count: 3}}, kerr.InvalidPartitions.Code},
		{"decrease", []kmsg.CreatePartitionsRequestTopic{{Topic: "cp", Count: 2}}, kerr.InvalidPartitions.Code},
		{"unknown topic", []kmsg.CreatePartitionsRequestTopic{{Topic: "nope", Count: 2}}, kerr.UnknownTopicOrPartition.Code},
		{"unknown broker", []kmsg.CreatePartitionsRequestTopic{{Topic: "cp", Count: 4,
			Assignment: []kmsg.CreatePartitionsRequestTopicAssignment{{Replicas: []int32{9}}}}}, kerr.InvalidReplicaAssignment.Code},
		{"assignment count", []kmsg.CreatePartitionsRequestTopic{{Topic: "cp", Count: 5,
			Assignment: []kmsg.CreatePartitionsRequestTopicAssignment{{Replicas: []int32{1}}}}}, kerr.InvalidReplicaAssignment.Code},
		{"twice", []kmsg.CreatePartitionsRequestTopic{{Topic: "cp", Count: 4}, {Topic: "cp", Count: 5}}, kerr.InvalidRequest.Code},
	}
	for _, c := range cases {
		r := createPartitions(rc, 3, false, c.tp...)
		for _, rt := range r {
			if rt.ErrorCode != c.code {
				t.Errorf("%s: error %d, want %d", c.name, rt.ErrorCode, c.code)
			}
		}
	}
	if n := numParts(); n != 3 {
		t.Fatalf("%d partitions after refused requests", n)
	}
	// A valid assignment naming this broker.
	r := createPartitions(rc, 3, false, kmsg.CreatePartitionsRequestTopic{Topic: "cp", Count: 4,
		Assignment: []kmsg.CreatePartitionsRequestTopicAssignment{{Replicas: []int32{1}}}})
	if r[0].ErrorCode != 0 || numParts() != 4 {
		t.Fatalf("grow to 4 with assignment: error %d", r[0].ErrorCode)
	}
}

func TestDescribeLogDirs(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("ld", 2, nil)
	rc.createTopic("ld-other", 1, nil)
	rc.mustProduce("ld", 1, plainBatch(1, "some", "data"))

	req := kmsg.NewPtrDescribeLogDirsRequest()
	req.Topics = []kmsg.DescribeLogDirsRequestTopic{{Topic: "ld", Partitions: []int32{0, 1, 9}}, {Topic: "nope", Partitions: []int32{0}}}
	resp := do[*kmsg.DescribeLogDirsResponse](rc, 4, req)
	if resp.ErrorCode != 0 || len(resp.Dirs) != 1 {
		t.Fatalf("error %d, %d dirs", resp.ErrorCode, len(resp.Dirs))
	}
	d := resp.Dirs[0]
	if d.ErrorCode != 0 || d.Dir != tb.dir || d.TotalBytes <= 0 || d.UsableBytes <= 0 || d.UsableBytes > d.TotalBytes {
		t.Fatalf("dir %q error %d total %d usable %d", d.Dir, d.ErrorCode, d.TotalBytes, d.UsableBytes)
	}
	if len(d.Topics) != 1 || d.Topics[0].Topic != "ld" || len(d.Topics[0].Partitions) != 2 {
		t.Fatalf("topics %+v; want ld with partitions 0 and 1 only", d.Topics)
	}
	sizes := map[int32]int64{}
	for _, p := range d.Topics[0].Partitions {
		sizes[p.Partition] = p.Size
		if p.OffsetLag != 0 || p.IsFuture {
			t.Fatalf("partition %d: lag %d future %v", p.Partition, p.OffsetLag, p.IsFuture)
		}
	}
	if sizes[1] <= 0 || sizes[0] != 0 {
		t.Fatalf("sizes %v: want partition 1 > 0 and empty partition 0 == 0", sizes)
	}
	// Null topics: every partition of every topic.
	all := do[*kmsg.DescribeLogDirsResponse](rc, 1, kmsg.NewPtrDescribeLogDirsRequest())
	n := 0
	for _, tp := range all.Dirs[0].Topics {
		n += len(tp.Partitions)
	}
	if len(all.Dirs[0].Topics) != 2 || n != 3 {
		t.Fatalf("all topics: %d topics, %d partitions", len(all.Dirs[0].Topics), n)
	}
}

func TestDescribeCluster(t *testing.T) {
	tb := startBroker(t, func(c *Config) { c.Rack = "az-1" })
	rc := tb.dial(t)
	md := do[*kmsg.MetadataResponse](rc, 12, kmsg.NewPtrMetadataRequest())
	for _, v := range []int16{0, 1, 2} {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.EndpointType = 1
		resp := do[*kmsg.DescribeClusterResponse](rc, v, req)
		if resp.ErrorCode != 0 || resp.ClusterID == "" || resp.ClusterID != *md.ClusterID || resp.ControllerID != 1 {
			t.Fatalf("v%d: error %d cluster %q (metadata %q) controller %d", v, resp.ErrorCode, resp.ClusterID, *md.ClusterID, resp.ControllerID)
		}
		if len(resp.Brokers) != 1 {
			t.Fatalf("v%d: %d brokers", v, len(resp.Brokers))
		}
		br := resp.Brokers[0]
		if br.NodeID != 1 || br.Port != md.Brokers[0].Port || br.Host != md.Brokers[0].Host || br.Rack == nil || *br.Rack != "az-1" {
			t.Fatalf("v%d: broker %+v, metadata %+v", v, br, md.Brokers[0])
		}
	}
	req := kmsg.NewPtrDescribeClusterRequest()
	req.EndpointType = 2
	if resp := do[*kmsg.DescribeClusterResponse](rc, 1, req); resp.ErrorCode != 120 {
		t.Fatalf("controller endpoints: error %d, want UNSUPPORTED_ENDPOINT_TYPE (120)", resp.ErrorCode)
	}
}

func initProducerID(rc *rawConn, v int16, id int64, epoch int16) *kmsg.InitProducerIDResponse {
	rc.t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionTimeoutMillis = 60000
	req.ProducerID, req.ProducerEpoch = id, epoch
	return do[*kmsg.InitProducerIDResponse](rc, v, req)
}

func TestInitProducerID(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	a := initProducerID(rc, 0, -1, -1)
	b := initProducerID(rc, 4, -1, -1)
	if a.ErrorCode != 0 || b.ErrorCode != 0 || a.ProducerID < 0 || a.ProducerEpoch != 0 || b.ProducerEpoch != 0 {
		t.Fatalf("fresh ids: %+v %+v", a, b)
	}
	if a.ProducerID == b.ProducerID {
		t.Fatalf("two producers got the same id %d", a.ProducerID)
	}
	// Without a transactional id Kafka always hands out a fresh id, even
	// when the request names an existing id and epoch (v3+): naming another
	// producer's id must not fence it.
	renewed := initProducerID(rc, 3, b.ProducerID, b.ProducerEpoch)
	if renewed.ErrorCode != 0 || renewed.ProducerID == b.ProducerID || renewed.ProducerID < 0 || renewed.ProducerEpoch != 0 {
		t.Fatalf("re-init: %+v", renewed)
	}
	// Transactions are not supported.
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID = kmsg.StringPtr("txn")
	req.TransactionTimeoutMillis = 60000
	if r := do[*kmsg.InitProducerIDResponse](rc, 4, req); r.ErrorCode == 0 || r.ProducerID != -1 {
		t.Fatalf("transactional: %+v", r)
	}
}

func TestProducerIDsUniqueAcrossBrokers(t *testing.T) {
	// Ids come from blocks reserved in etcd: another broker (or this one
	// restarted) on the same metastore never hands out an id twice.
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	seen := map[int64]bool{}
	for i := 0; i < 5; i++ {
		r := initProducerID(rc, 4, -1, -1)
		if r.ErrorCode != 0 || seen[r.ProducerID] {
			t.Fatalf("id %d (error %d) handed out twice", r.ProducerID, r.ErrorCode)
		}
		seen[r.ProducerID] = true
	}
	ctx := context.Background()
	other, err := New(ctx, Config{NodeID: 2, KafkaAddr: "127.0.0.1:0", DataDir: t.TempDir(), Logger: quietLogger()}, tb.meta)
	if err != nil {
		t.Fatal(err)
	}
	defer other.shutdown()
	for i := 0; i < 5; i++ {
		id, err := other.pids.allocate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if seen[id] {
			t.Fatalf("second broker handed out id %d again", id)
		}
		seen[id] = true
	}
	if r := initProducerID(rc, 4, -1, -1); seen[r.ProducerID] {
		t.Fatalf("first broker handed out id %d again", r.ProducerID)
	}
}

func describeProducers(rc *rawConn, topic string, partitions ...int32) []kmsg.DescribeProducersResponseTopicPartition {
	rc.t.Helper()
	req := kmsg.NewPtrDescribeProducersRequest()
	req.Topics = []kmsg.DescribeProducersRequestTopic{{Topic: topic, Partitions: partitions}}
	return do[*kmsg.DescribeProducersResponse](rc, 0, req).Topics[0].Partitions
}

func TestIdempotentProduceAndDescribeProducers(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("idem", 1, nil)
	pid := initProducerID(rc, 4, -1, -1)
	id, epoch := pid.ProducerID, pid.ProducerEpoch

	first := makeBatch(batchOpts{producerID: id, producerEpoch: epoch, firstSeq: 0, timestamp: 100}, "a", "b", "c")
	if off := rc.mustProduce("idem", 0, first); off != 0 {
		t.Fatalf("first batch at %d", off)
	}
	// A retried duplicate returns the original offset and appends nothing.
	if r := rc.produce("idem", 0, first); r.ErrorCode != 0 || r.BaseOffset != 0 {
		t.Fatalf("duplicate: error %d offset %d", r.ErrorCode, r.BaseOffset)
	}
	second := makeBatch(batchOpts{producerID: id, producerEpoch: epoch, firstSeq: 3, timestamp: 200}, "d")
	if off := rc.mustProduce("idem", 0, second); off != 3 {
		t.Fatalf("second batch at %d, want 3", off)
	}
	// A gap in sequence numbers.
	gap := makeBatch(batchOpts{producerID: id, producerEpoch: epoch, firstSeq: 9, timestamp: 300}, "x")
	if r := rc.produce("idem", 0, gap); r.ErrorCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("sequence gap: error %d, want OUT_OF_ORDER_SEQUENCE_NUMBER", r.ErrorCode)
	}
	if end := tb.b.partitionOf("idem", 0).log.LogEndOffset(); end != 4 {
		t.Fatalf("log end %d, want 4", end)
	}

	parts := describeProducers(rc, "idem", 0, 5)
	if len(parts) != 2 {
		t.Fatalf("%d partitions", len(parts))
	}
	p := parts[0]
	if p.ErrorCode != 0 || len(p.ActiveProducers) != 1 {
		t.Fatalf("partition 0: error %d producers %+v", p.ErrorCode, p.ActiveProducers)
	}
	ap := p.ActiveProducers[0]
	if ap.ProducerID != id || ap.ProducerEpoch != int32(epoch) || ap.LastSequence != 3 || ap.LastTimestamp != 200 {
		t.Fatalf("producer %+v; want id %d epoch %d last sequence 3 timestamp 200", ap, id, epoch)
	}
	if ap.CoordinatorEpoch != -1 || ap.CurrentTxnStartOffset != -1 {
		t.Fatalf("transaction fields %+v", ap)
	}
	if parts[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown partition: error %d", parts[1].ErrorCode)
	}

	// A higher epoch for the same id starts again at sequence 0 and the
	// old epoch is fenced.
	next := makeBatch(batchOpts{producerID: id, producerEpoch: epoch + 1, firstSeq: 0, timestamp: 400}, "e")
	if off := rc.mustProduce("idem", 0, next); off != 4 {
		t.Fatalf("after bump: offset %d", off)
	}
	stale := makeBatch(batchOpts{producerID: id, producerEpoch: epoch, firstSeq: 4, timestamp: 500}, "f")
	if r := rc.produce("idem", 0, stale); r.ErrorCode != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("old epoch: error %d, want INVALID_PRODUCER_EPOCH", r.ErrorCode)
	}
	if p := describeProducers(rc, "idem", 0)[0]; p.ActiveProducers[0].ProducerEpoch != int32(epoch+1) || p.ActiveProducers[0].LastSequence != 0 {
		t.Fatalf("after bump: %+v", p.ActiveProducers)
	}
}
