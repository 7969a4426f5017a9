package tiering

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mc "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/test/harness"
)

const (
	bucket     = "strata"
	recordSize = 1024
)

type env struct {
	t      *testing.T
	minio  *harness.Minio
	broker *harness.Broker
	s3     *mc.Client
}

func setup(t *testing.T, extraArgs ...string) *env {
	t.Helper()
	m := harness.StartMinioT(t)
	ctx := context.Background()
	if err := m.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	s3, err := mc.New(m.Endpoint, &mc.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--objstore", fmt.Sprintf("s3://%s/e2e?endpoint=%s&region=us-east-1", bucket, m.URL()),
		"--tiering-idle-roll", "2s",
		"--log-retention-check-interval", "1s",
	}, extraArgs...)
	b := harness.StartT(t, harness.Options{
		Args: args,
		Env:  []string{"AWS_ACCESS_KEY_ID=" + m.AccessKey, "AWS_SECRET_ACCESS_KEY=" + m.SecretKey, "AWS_REGION=us-east-1"},
	})
	return &env{t: t, minio: m, broker: b, s3: s3}
}

// value is record i's deterministic payload.
func value(i int64) []byte {
	v := bytes.Repeat([]byte{byte(i), byte(i >> 8), byte(i >> 16), 0x5a}, recordSize/4)
	binary.BigEndian.PutUint64(v, uint64(i))
	return v
}

func (e *env) client(opts ...kgo.Opt) *kgo.Client {
	e.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.broker.Addr)}, opts...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(cl.Close)
	return cl
}

func (e *env) createTopic(name string, configs map[string]*string) {
	e.t.Helper()
	adm := kadm.NewClient(e.client())
	resp, err := adm.CreateTopic(context.Background(), 1, 1, configs, name)
	if err != nil || resp.Err != nil {
		e.t.Fatalf("create topic %s: %v %v", name, err, resp.Err)
	}
}

// produce writes n records numbered from first and returns when all are acknowledged.
func (e *env) produce(topic string, first, n int64) {
	e.t.Helper()
	cl := e.client(kgo.DefaultProduceTopic(topic), kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchCompression(kgo.NoCompression())) // real bytes on disk and in the bucket
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	errc := make(chan error, 1)
	for i := first; i < first+n; i++ {
		cl.Produce(ctx, &kgo.Record{Value: value(i)}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errc <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
	select {
	case err := <-errc:
		e.t.Fatalf("produce: %v", err)
	default:
	}
}

// consumeAll reads offsets [0, n) and checks every record.
func (e *env) consumeAll(topic string, n int64) {
	e.t.Helper()
	cl := e.client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(0)}}),
		kgo.FetchMaxBytes(16<<20))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	next := int64(0)
	for next < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			e.t.Fatalf("consumed %d of %d records: %v", next, n, err)
		}
		for _, fe := range fs.Errors() {
			e.t.Fatalf("fetch %s/%d at offset %d: %v", fe.Topic, fe.Partition, next, fe.Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset != next {
				e.t.Fatalf("record at offset %d, want %d", r.Offset, next)
			}
			if !bytes.Equal(r.Value, value(next)) {
				e.t.Fatalf("record %d differs", next)
			}
			next++
		})
	}
}

func (e *env) objects(prefix string) (count int, size int64) {
	e.t.Helper()
	for o := range e.s3.ListObjects(context.Background(), bucket, mc.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			e.t.Fatal(o.Err)
		}
		if strings.HasSuffix(o.Key, ".seg") {
			count++
			size += o.Size
		}
	}
	return count, size
}

func localLogBytes(t *testing.T, dataDir string) int64 {
	t.Helper()
	var total int64
	filepath.Walk(filepath.Join(dataDir, "logs"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".log") {
			total += info.Size()
		}
		return nil
	})
	return total
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func str(s string) *string { return &s }

// checkOffsets asserts what a rebuilt partition of n records reports:
// earliest 0, latest n, latest tiered near n, OffsetForLeaderEpoch(0) = n.
func (e *env) checkOffsets(topic string, n int64) {
	e.t.Helper()
	ctx := context.Background()
	cl := e.client()
	for ts, check := range map[int64]func(int64) bool{
		-2: func(o int64) bool { return o == 0 },
		-1: func(o int64) bool { return o == n },
		-5: func(o int64) bool { return o > n-2000 && o < n },
	} {
		req := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = ts
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			e.t.Fatal(err)
		}
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || !check(p.Offset) {
			e.t.Errorf("ListOffsets(%d) after rebuild: offset %d, error %d", ts, p.Offset, p.ErrorCode)
		}
	}
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	rp.LeaderEpoch, rp.CurrentLeaderEpoch = 0, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		e.t.Fatal(err)
	}
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.LeaderEpoch != 0 || p.EndOffset != n {
		e.t.Errorf("OffsetForLeaderEpoch(0) after rebuild: epoch %d end %d error %d, want 0 %d", p.LeaderEpoch, p.EndOffset, p.ErrorCode, n)
	}
}

// TestTieredRoundTripAndRebuild: 200 MiB through a topic with 1 MiB
// segments and a 2 MiB local retention; the data lands in MinIO, the local
// log stays bounded, a consumer from offset 0 reads it all; then the data
// directory (all but the metastore) is wiped and the rebuilt broker serves
// every record again from object storage.
func TestTieredRoundTripAndRebuild(t *testing.T) {
	e := setup(t)
	e.createTopic("cold", map[string]*string{"segment.bytes": str("1048576"), "local.retention.bytes": str("2097152")})
	const n = 200 << 10 // 200 MiB of 1 KiB records
	e.produce("cold", 0, n)

	last := time.Now()
	waitFor(t, "segments in MinIO and a bounded local log", 2*time.Minute, func() bool {
		count, size := e.objects("e2e/")
		local := localLogBytes(t, e.broker.DataDir)
		if time.Since(last) > 10*time.Second {
			t.Logf("waiting: %d objects, %d MiB in MinIO, local logs %d KiB", count, size>>20, local>>10)
			last = time.Now()
		}
		return size >= 190<<20 && local <= 4<<20
	})
	count, size := e.objects("e2e/")
	t.Logf("after produce: %d objects, %d MiB in MinIO, local logs %d KiB", count, size>>20, localLogBytes(t, e.broker.DataDir)>>10)
	e.consumeAll("cold", n)

	// Graceful stop uploads the active segment; then wipe everything but the metastore.
	if err := e.broker.Stop(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(e.broker.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		if de.Name() != "meta" {
			if err := os.RemoveAll(filepath.Join(e.broker.DataDir, de.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.broker.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.consumeAll("cold", n)
	e.checkOffsets("cold", n)
	// New records continue after the remote log end.
	e.produce("cold", n, 10)
	e.consumeAll("cold", n+10)
}

// TestObjectStoreOutage: MinIO stops while a producer runs and comes back a
// minute later: nothing acknowledged is lost and uploads catch up.
func TestObjectStoreOutage(t *testing.T) {
	e := setup(t)
	e.createTopic("outage", map[string]*string{"segment.bytes": str("1048576"), "local.retention.bytes": str("1048576")})
	e.produce("outage", 0, 20<<10)
	if err := e.minio.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	e.produce("outage", 20<<10, 40<<10)
	if wait := time.Minute - time.Since(stopped); wait > 0 {
		time.Sleep(wait)
	}
	if err := e.minio.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "uploads to catch up", 2*time.Minute, func() bool {
		_, size := e.objects("e2e/")
		return size >= 55<<20
	})
	e.consumeAll("outage", 60<<10)
}

// TestCorruptObjectDetected: bytes flipped inside an uploaded segment make
// the fetch fail with a Kafka error, never return wrong data, and the
// broker logs the object.
func TestCorruptObjectDetected(t *testing.T) {
	e := setup(t)
	e.createTopic("corrupt", map[string]*string{"segment.bytes": str("1048576"), "local.retention.bytes": str("1048576")})
	e.produce("corrupt", 0, 8<<10)
	var first string
	waitFor(t, "segments uploaded and deleted locally", time.Minute, func() bool {
		first = ""
		for o := range e.s3.ListObjects(context.Background(), bucket, mc.ListObjectsOptions{Prefix: "e2e/", Recursive: true}) {
			if strings.HasSuffix(o.Key, "00000000000000000000-0-") || strings.Contains(o.Key, "/00000000000000000000-") {
				first = o.Key
			}
		}
		return first != "" && localLogBytes(t, e.broker.DataDir) <= 2<<20
	})
	ctx := context.Background()
	obj, err := e.s3.GetObject(ctx, bucket, first, mc.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(obj); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	data[100] ^= 0xff // inside the first record batch
	if _, err := e.s3.PutObject(ctx, bucket, first, bytes.NewReader(data), int64(len(data)), mc.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	cl := e.client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"corrupt": {0: kgo.NewOffset().At(0)}}))
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got := 0
	for pctx.Err() == nil {
		fs := cl.PollFetches(pctx)
		fs.EachRecord(func(r *kgo.Record) {
			got++
			if !bytes.Equal(r.Value, value(r.Offset)) {
				t.Fatalf("record %d returned with wrong data", r.Offset)
			}
		})
	}
	// The first segment is corrupt: the consumer must be stuck at offset 0
	// (the broker answers with a retriable storage error), not skip ahead.
	if got != 0 {
		t.Fatalf("consumer received %d records past a corrupt first segment", got)
	}
	waitFor(t, "the broker to log the corrupt object", 10*time.Second, func() bool {
		return strings.Contains(e.broker.LogTail(200), strings.TrimPrefix(first, "e2e/"))
	})
}

// TestRemoteDeletes: DeleteRecords below the local log start moves the log
// start and removes the remote segments below it (manifest first, objects
// after); DeleteTopics removes every object of the topic.
func TestRemoteDeletes(t *testing.T) {
	e := setup(t)
	e.createTopic("deletes", map[string]*string{"segment.bytes": str("1048576"), "local.retention.bytes": str("1048576")})
	const n = 20 << 10
	e.produce("deletes", 0, n)
	waitFor(t, "segments uploaded and deleted locally", time.Minute, func() bool {
		_, size := e.objects("e2e/")
		return size >= 18<<20 && localLogBytes(t, e.broker.DataDir) <= 3<<20
	})
	before, _ := e.objects("e2e/")
	ctx := context.Background()
	adm := kadm.NewClient(e.client())
	del := kadm.Offsets{}
	del.AddOffset("deletes", 0, 10000, -1)
	resp, err := adm.DeleteRecords(ctx, del)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := resp.Lookup("deletes", 0); r.Err != nil || r.LowWatermark != 10000 {
		t.Fatalf("DeleteRecords: low watermark %d, err %v", r.LowWatermark, r.Err)
	}
	starts, err := adm.ListStartOffsets(ctx, "deletes")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := starts.Lookup("deletes", 0); s.Offset != 10000 {
		t.Fatalf("earliest after DeleteRecords = %d, want 10000", s.Offset)
	}
	cl := e.client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"deletes": {0: kgo.NewOffset().AtStart()}}))
	fs := cl.PollRecords(ctx, 1)
	if recs := fs.Records(); len(recs) == 0 || recs[0].Offset != 10000 || !bytes.Equal(recs[0].Value, value(10000)) {
		t.Fatalf("first record from earliest: %v %v", recs, fs.Errors())
	}
	waitFor(t, "remote segments below the log start to be deleted", time.Minute, func() bool {
		after, _ := e.objects("e2e/")
		return after < before-5
	})

	if resp, err := adm.DeleteTopics(ctx, "deletes"); err != nil || resp.Error() != nil {
		t.Fatalf("delete topic: %v %v", err, resp.Error())
	}
	waitFor(t, "the deleted topic's objects to be removed", time.Minute, func() bool {
		after, _ := e.objects("e2e/")
		return after == 0
	})
}
