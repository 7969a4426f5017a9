package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metastore"
)

// testBroker is a broker serving on a loopback port with its own embedded
// etcd and data directory.
type testBroker struct {
	b    *Broker
	addr string
	dir  string
	meta *metastore.Store
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
}

// startBroker starts a broker (node 1) with an embedded metastore; mod may
// adjust the config. Everything is stopped when the test ends.
func startBroker(t testing.TB, mod func(*Config)) *testBroker {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	meta, err := metastore.Open(ctx, "embedded", dir, quietLogger())
	if err != nil {
		cancel()
		t.Fatalf("metastore: %v", err)
	}
	cfg := Config{NodeID: 1, KafkaAddr: "127.0.0.1:0", DataDir: dir, GroupInitialRebalanceDelay: 0, Logger: quietLogger()}
	if mod != nil {
		mod(&cfg)
	}
	b, err := New(ctx, cfg, meta)
	if err != nil {
		cancel()
		meta.Close()
		t.Fatalf("broker.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		meta.Close()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- b.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
		meta.Close()
	})
	return &testBroker{b: b, addr: ln.Addr().String(), dir: dir, meta: meta}
}

// rawConn speaks the Kafka protocol over one TCP connection, with versions
// chosen by the test.
type rawConn struct {
	t    testing.TB
	nc   net.Conn
	corr int32
	f    *kmsg.RequestFormatter
}

func (tb *testBroker) dial(t testing.TB) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", tb.addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, f: kmsg.NewRequestFormatter(kmsg.FormatterClientID("broker-test"))}
}

// frame encodes req (its version must be set) with the next correlation id.
func (r *rawConn) frame(req kmsg.Request) ([]byte, int32) {
	r.corr++
	return r.f.AppendRequest(nil, req, r.corr), r.corr
}

func (r *rawConn) send(req kmsg.Request) int32 {
	r.t.Helper()
	buf, corr := r.frame(req)
	r.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.nc.Write(buf); err != nil {
		r.t.Fatalf("write %s: %v", kmsg.NameForKey(req.Key()), err)
	}
	return corr
}

// recv reads one response to req and returns it with its correlation id.
func (r *rawConn) recv(req kmsg.Request) (kmsg.Response, int32) {
	r.t.Helper()
	resp, corr, err := r.tryRecv(req, 10*time.Second)
	if err != nil {
		r.t.Fatalf("read %s response: %v", kmsg.NameForKey(req.Key()), err)
	}
	return resp, corr
}

func (r *rawConn) tryRecv(req kmsg.Request, wait time.Duration) (kmsg.Response, int32, error) {
	r.nc.SetReadDeadline(time.Now().Add(wait))
	var sz [4]byte
	if _, err := io.ReadFull(r.nc, sz[:]); err != nil {
		return nil, 0, err
	}
	buf := make([]byte, binary.BigEndian.Uint32(sz[:]))
	if _, err := io.ReadFull(r.nc, buf); err != nil {
		return nil, 0, err
	}
	if len(buf) < 4 {
		return nil, 0, errors.New("short response")
	}
	corr := int32(binary.BigEndian.Uint32(buf))
	body := buf[4:]
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if resp.IsFlexible() && resp.Key() != 18 {
		if len(body) == 0 || body[0] != 0 {
			return nil, corr, errors.New("bad response header tag buffer")
		}
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, corr, err
	}
	return resp, corr, nil
}

// expectClosed checks the broker closes the connection instead of
// answering req.
func (r *rawConn) expectClosed(req kmsg.Request) {
	r.t.Helper()
	resp, _, err := r.tryRecv(req, 5*time.Second)
	if resp != nil {
		r.t.Fatalf("%s got a response; want the connection closed", kmsg.NameForKey(req.Key()))
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		r.t.Fatalf("%s: read error %v; want the connection closed", kmsg.NameForKey(req.Key()), err)
	}
}

// do sends req at version v and returns its response.
func do[Resp kmsg.Response](r *rawConn, v int16, req kmsg.Request) Resp {
	r.t.Helper()
	req.SetVersion(v)
	corr := r.send(req)
	resp, got := r.recv(req)
	if got != corr {
		r.t.Fatalf("%s: correlation id %d, want %d", kmsg.NameForKey(req.Key()), got, corr)
	}
	return resp.(Resp)
}

// createTopic creates a topic and returns its id.
func (r *rawConn) createTopic(name string, partitions int32, configs map[string]string) [16]byte {
	r.t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, partitions, 1
	for k, v := range configs {
		rt.Configs = append(rt.Configs, kmsg.CreateTopicsRequestTopicConfig{Name: k, Value: kmsg.StringPtr(v)})
	}
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10000
	resp := do[*kmsg.CreateTopicsResponse](r, 7, req)
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 {
		r.t.Fatalf("create topic %s: %+v", name, resp.Topics)
	}
	if resp.Topics[0].TopicID == ([16]byte{}) {
		r.t.Fatalf("create topic %s: no topic id", name)
	}
	return resp.Topics[0].TopicID
}

// batchOpts describes a record batch to build.
type batchOpts struct {
	producerID    int64 // -1 for a plain batch
	producerEpoch int16
	firstSeq      int32
	timestamp     int64 // first record's timestamp; each next record +1 ms
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// makeBatch builds a valid magic-2 uncompressed record batch.
func makeBatch(o batchOpts, values ...string) []byte {
	var recs []byte
	for i, v := range values {
		rec := kmsg.Record{TimestampDelta64: int64(i), OffsetDelta: int32(i), Key: nil, Value: []byte(v)}
		body := rec.AppendTo(nil)[1:] // drop the zero length varint
		rec.Length = int32(len(body))
		recs = rec.AppendTo(recs)
	}
	rb := kmsg.RecordBatch{
		FirstOffset:          0,
		PartitionLeaderEpoch: -1,
		Magic:                2,
		LastOffsetDelta:      int32(len(values) - 1),
		FirstTimestamp:       o.timestamp,
		MaxTimestamp:         o.timestamp + int64(len(values)-1),
		ProducerID:           o.producerID,
		ProducerEpoch:        o.producerEpoch,
		FirstSequence:        o.firstSeq,
		NumRecords:           int32(len(values)),
		Records:              recs,
	}
	if o.producerID < 0 {
		rb.ProducerEpoch, rb.FirstSequence = -1, -1
	}
	out := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crcTable))
	return out
}

func plainBatch(ts int64, values ...string) []byte {
	return makeBatch(batchOpts{producerID: -1, timestamp: ts}, values...)
}

// produce sends one batch to topic/partition at Produce v9 (by name, acks=1)
// and returns the partition result.
func (r *rawConn) produce(topic string, partition int32, batch []byte) kmsg.ProduceResponseTopicPartition {
	r.t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = 1, 10000
	req.Topics = []kmsg.ProduceRequestTopic{{Topic: topic, Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: partition, Records: batch}}}}
	resp := do[*kmsg.ProduceResponse](r, 9, req)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		r.t.Fatalf("produce response shape: %+v", resp.Topics)
	}
	return resp.Topics[0].Partitions[0]
}

// mustProduce produces and fails the test on an error code.
func (r *rawConn) mustProduce(topic string, partition int32, batch []byte) int64 {
	r.t.Helper()
	res := r.produce(topic, partition, batch)
	if res.ErrorCode != 0 {
		r.t.Fatalf("produce to %s-%d: error %d", topic, partition, res.ErrorCode)
	}
	return res.BaseOffset
}

// fetchReq builds a by-name fetch of one partition.
func fetchReq(topic string, id [16]byte, partition int32, offset int64) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxBytes = 1 << 20
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, offset, 1<<20
	rp.CurrentLeaderEpoch = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// records decodes every record in a fetch partition's batches, checking
// each batch's CRC, and returns (offset, value) pairs.
func records(t testing.TB, data []byte) (offsets []int64, values []string) {
	t.Helper()
	for len(data) > 0 {
		if len(data) < 61 {
			t.Fatalf("partial batch of %d bytes", len(data))
		}
		n := 12 + int(binary.BigEndian.Uint32(data[8:]))
		if n > len(data) {
			t.Fatalf("batch length %d beyond %d bytes", n, len(data))
		}
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(data[:n]); err != nil {
			t.Fatalf("decode batch: %v", err)
		}
		if crc := crc32.Checksum(data[21:n], crcTable); int32(crc) != rb.CRC {
			t.Fatalf("batch at %d: bad CRC", rb.FirstOffset)
		}
		recs := rb.Records
		for i := int32(0); i < rb.NumRecords; i++ {
			var rec kmsg.Record
			l, sz := binary.Varint(recs)
			if sz <= 0 || int(l)+sz > len(recs) {
				t.Fatalf("bad record length")
			}
			if err := rec.ReadFrom(recs[:sz+int(l)]); err != nil {
				t.Fatalf("decode record: %v", err)
			}
			recs = recs[sz+int(l):]
			offsets = append(offsets, rb.FirstOffset+int64(rec.OffsetDelta))
			values = append(values, string(rec.Value))
		}
		data = data[n:]
	}
	return offsets, values
}
