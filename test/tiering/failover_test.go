package tiering

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metastore"
	"github.com/strata-io/strata/test/harness"
)

// Failover test shape: bursts of burstLen 1 KiB records with pauses longer
// than the idle roll, so the leader seals and uploads a segment after every
// burst. Followers do not roll on idleness: the follower's one segment
// holds everything, and once it leads, its first sealed segment straddles
// the remote end.
const (
	burstLen     = 37
	failSegBytes = 1 << 20 // larger than all records: only idle rolls seal
	idleRoll     = time.Second
)

// TestNewLeaderUploadsAfterFailover: the leader of a replicated tiered
// partition uploads its segments and is killed. The new leader's local
// segments straddle the remote log end (they are cut elsewhere); it must
// upload the part above it and keep the manifest contiguous. Then the old
// leader returns on a wiped disk and serves every record from offset 0,
// the cold part from object storage.
func TestNewLeaderUploadsAfterFailover(t *testing.T) {
	c := harness.StartCluster(t, harness.ClusterOptions{
		Brokers: 2, EtcdMembers: 1, MinIO: true,
		Args: []string{"--log-level", "info", "--tiering-idle-roll", idleRoll.String(),
			"--log-retention-check-interval", "1s", "--replica-lag-time-max", "3s"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const topic = "straddle"
	st, err := c.CreateTopic(ctx, topic, 1, 2, map[string]*string{
		"segment.bytes":         str(strconv.Itoa(failSegBytes)),
		"local.retention.bytes": str(strconv.Itoa(failSegBytes)),
		"min.insync.replicas":   str("1"),
	})
	if err != nil {
		t.Fatalf("create topic: %v%s", err, st)
	}
	meta, err := metastore.Open(ctx, c.MetaSpec, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	mt, err := meta.GetTopic(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	oldLeader := st[0].Leader
	newLeader := c.NodeID(0)
	if newLeader == oldLeader {
		newLeader = c.NodeID(1)
	}
	remoteEnd := func() (int64, []metastore.RemoteSegment) {
		t.Helper()
		segs, err := meta.ListSegments(ctx, mt.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) == 0 {
			return 0, nil
		}
		return segs[len(segs)-1].LastOffset + 1, segs
	}

	// Phase 1: four bursts on the first leader, acknowledged by both
	// replicas and all uploaded; then a fifth, and the leader is killed at
	// once, before its idle roll: the follower holds offsets the remote
	// log does not.
	const n1 = 5 * burstLen
	produceBursts(t, ctx, c, topic, 0, n1-burstLen, kgo.AllISRAcks(), true)
	waitFor(t, "the first leader's uploads to reach the log end", time.Minute, func() bool {
		end, _ := remoteEnd()
		return end == n1-burstLen
	})
	produceBursts(t, ctx, c, topic, n1-burstLen, burstLen, kgo.AllISRAcks(), false)
	if err := c.Brokers[c.BrokerIndex(oldLeader)].Kill(); err != nil {
		t.Fatal(err)
	}
	oldEnd, oldSegs := remoteEnd()
	if oldEnd != n1-burstLen {
		t.Fatalf("remote log ends at %d when the leader dies, want %d", oldEnd, n1-burstLen)
	}
	t.Logf("first leader %d uploaded [0,%d) in %d segments; log end %d", oldLeader, oldEnd, len(oldSegs), n1)

	// No follower segment starts at the remote end: its one segment holds
	// everything, so the new leader's first sealed segment straddles the
	// remote end. That is the case under test.
	bases := segmentBases(t, c.Brokers[c.BrokerIndex(newLeader)].DataDir, mt.ID)
	if slices.Contains(bases, oldEnd) {
		t.Fatalf("follower segments %v start at the remote end %d: no straddling segment to test", bases, oldEnd)
	}
	t.Logf("follower %d segment bases %v; remote end %d", newLeader, bases, oldEnd)

	// Phase 2: the follower takes over and gets more.
	if _, err := c.WaitTopic(ctx, topic, func(s harness.TopicState) error {
		if s[0].Leader != newLeader {
			return fmt.Errorf("not led by %d yet: %s", newLeader, s[0])
		}
		return nil
	}); err != nil {
		t.Fatalf("failover to %d: %v", newLeader, err)
	}
	const n2 = 4 * burstLen
	produceBursts(t, ctx, c, topic, n1, n2, kgo.LeaderAck(), true)
	waitFor(t, "the new leader's uploads to reach the log end", time.Minute, func() bool {
		end, _ := remoteEnd()
		return end == n1+n2
	})
	end, segs := remoteEnd()
	// The manifest is contiguous from 0, and the new leader's first upload
	// starts exactly at the old remote end.
	next := int64(0)
	firstNew := -1
	for i, s := range segs {
		if s.BaseOffset != next {
			t.Fatalf("manifest not contiguous at entry %d: [%d,%d] after %d\n%v", i, s.BaseOffset, s.LastOffset, next-1, segs)
		}
		if firstNew < 0 && s.LeaderEpoch > oldSegs[len(oldSegs)-1].LeaderEpoch {
			firstNew = i
		}
		next = s.LastOffset + 1
	}
	if firstNew < 0 || segs[firstNew].BaseOffset != oldEnd {
		t.Fatalf("new leader's first upload is not at the old remote end %d: %v", oldEnd, segs)
	}
	t.Logf("manifest: %d segments over [0,%d); the new leader's from %d", len(segs), end, segs[firstNew].BaseOffset)

	// Phase 3: the old leader returns on a wiped disk and serves all of it.
	old := c.Brokers[c.BrokerIndex(oldLeader)]
	if err := old.WipeData(); err != nil {
		t.Fatal(err)
	}
	if err := old.Restart(ctx); err != nil {
		t.Fatalf("restart broker %d on an empty disk: %v", oldLeader, err)
	}
	if _, err := c.WaitTopic(ctx, topic, func(s harness.TopicState) error {
		if !slices.Contains(s[0].ISR, oldLeader) {
			return fmt.Errorf("broker %d not in the ISR: %s", oldLeader, s[0])
		}
		return nil
	}); err != nil {
		t.Fatalf("broker %d did not rejoin: %v", oldLeader, err)
	}
	readAllFrom(t, ctx, old.Addr, topic, mt.ID, n1+n2)
}

// produceBursts writes records [first, first+n) in bursts of burstLen,
// pausing past the idle roll after each burst if pause is set.
func produceBursts(t *testing.T, ctx context.Context, c *harness.Cluster, topic string, first, n int64, acks kgo.Acks, pause bool) {
	t.Helper()
	opts := []kgo.Opt{kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(acks), kgo.ProducerLinger(5 * time.Millisecond),
		kgo.ProducerBatchCompression(kgo.NoCompression())}
	if acks != kgo.AllISRAcks() {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	cl, err := c.Client(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := first; i < first+n; {
		recs := make([]*kgo.Record, 0, burstLen)
		for ; i < first+n && len(recs) < burstLen; i++ {
			recs = append(recs, &kgo.Record{Value: value(i)})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce up to %d: %v", i, err)
		}
		if pause {
			time.Sleep(idleRoll + idleRoll/2)
		}
	}
}

// segmentBases lists the base offsets of partition 0's local segments.
func segmentBases(t *testing.T, dataDir string, id [16]byte) []int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dataDir, "logs", fmt.Sprintf("%x", id), "0", "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, f := range files {
		b, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(f), ".log"), 10, 64)
		if err == nil {
			out = append(out, b)
		}
	}
	slices.Sort(out)
	return out
}

// readAllFrom fetches partition 0 from offset 0 to n from the broker at
// addr (a replica; consumers may read from any) and checks every record.
func readAllFrom(t *testing.T, ctx context.Context, addr, topic string, id [16]byte, n int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	br := cl.SeedBrokers()[0]
	next := int64(0)
	deadline := time.Now().Add(time.Minute)
	for next < n {
		if time.Now().After(deadline) {
			t.Fatalf("read %d of %d records from %s in a minute", next, n, addr)
		}
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID, req.MaxWaitMillis, req.MaxBytes = -1, 100, 4<<20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = topic, id
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = 0, next, 1<<20
		rp.CurrentLeaderEpoch, rp.LogStartOffset = -1, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		kresp, err := br.Request(ctx, req)
		if err != nil {
			t.Fatalf("fetch at %d from %s: %v", next, addr, err)
		}
		resp := kresp.(*kmsg.FetchResponse)
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			t.Fatalf("fetch at %d: %d topics, error %v", next, len(resp.Topics), kerr.ErrorForCode(resp.ErrorCode))
		}
		p := resp.Topics[0].Partitions[0]
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
			var ke *kerr.Error
			if errors.As(err, &ke) && ke.Retriable {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			t.Fatalf("fetch at %d from %s: %v", next, addr, err)
		}
		if next, err = checkBatches(p.RecordBatches, next); err != nil {
			t.Fatalf("from %s: %v", addr, err)
		}
	}
}

// checkBatches walks uncompressed record batches, checking each record at
// or above next has offset next and value(next); it returns the offset
// after the last record seen.
func checkBatches(b []byte, next int64) (int64, error) {
	for len(b) >= 61 {
		size := 12 + int(int32(binary.BigEndian.Uint32(b[8:12])))
		if size > len(b) {
			break // partial batch at the end of the response
		}
		base := int64(binary.BigEndian.Uint64(b))
		if attrs := binary.BigEndian.Uint16(b[21:]); attrs&7 != 0 {
			return next, fmt.Errorf("batch at %d is compressed (%d)", base, attrs&7)
		}
		count := int(int32(binary.BigEndian.Uint32(b[57:])))
		r := bytes.NewReader(b[61:size])
		for range count {
			if _, err := binary.ReadVarint(r); err != nil { // length
				return next, fmt.Errorf("batch at %d: %w", base, err)
			}
			if _, err := r.ReadByte(); err != nil { // attributes
				return next, err
			}
			if _, err := binary.ReadVarint(r); err != nil { // timestamp delta
				return next, err
			}
			delta, err := binary.ReadVarint(r)
			if err != nil {
				return next, err
			}
			if kl, err := binary.ReadVarint(r); err != nil {
				return next, err
			} else if kl > 0 {
				r.Seek(kl, io.SeekCurrent)
			}
			vl, err := binary.ReadVarint(r)
			if err != nil || vl < 0 {
				return next, fmt.Errorf("batch at %d: value length %d: %v", base, vl, err)
			}
			v := make([]byte, vl)
			if _, err := io.ReadFull(r, v); err != nil {
				return next, err
			}
			hc, err := binary.ReadVarint(r)
			if err != nil || hc != 0 {
				return next, fmt.Errorf("batch at %d: %d headers: %v", base, hc, err)
			}
			off := base + delta
			if off < next {
				continue
			}
			if off != next {
				return next, fmt.Errorf("record at offset %d, want %d", off, next)
			}
			if !bytes.Equal(v, value(off)) {
				return next, fmt.Errorf("record %d has the wrong value", off)
			}
			next++
		}
		b = b[size:]
	}
	return next, nil
}
