package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-io/strata/metastore"
	"github.com/strata-io/strata/test/harness"
)

const (
	moveParts     = 4
	moveValueSize = 16 << 10
	moveBytes     = 32 << 20
	moveSegment   = 1 << 20
)

// strataCLI runs `strata args...` against brokers and returns its stdout,
// failing the test on a non-zero exit.
func strataCLI(t *testing.T, ctx context.Context, brokers string, args ...string) string {
	t.Helper()
	bin, err := harness.BuildStrata()
	if err != nil {
		t.Fatalf("build strata: %v", err)
	}
	cmd := exec.CommandContext(ctx, bin, append(args, "--brokers", brokers)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("strata %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	t.Logf("strata %s:\n%s", strings.Join(args, " "), out.String())
	return out.String()
}

// TestReassignAndDrain moves a replica to a broker that had none (it must
// copy no more than the tail not in object storage yet), then drains a
// broker with `strata cluster drain`; consumers read everything after.
func TestReassignAndDrain(t *testing.T) {
	c := harness.StartCluster(t, harness.ClusterOptions{
		Brokers: 4, Racks: []string{"a", "b"}, MinIO: true,
		Args: []string{"--log-level", "info"},
	})
	ctx := timeout(t, 5*time.Minute)
	const topic = "moves"
	createTopic(t, ctx, c, topic, moveParts, 2, configs(
		fmt.Sprintf("segment.bytes=%d", moveSegment),
		fmt.Sprintf("local.retention.bytes=%d", moveSegment)))

	meta, err := metastore.Open(ctx, c.MetaSpec, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	mt, err := meta.GetTopic(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}

	p, err := newSeqProducer(c, topic, moveParts, moveValueSize)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.produceN(ctx, moveBytes/moveValueSize/moveParts); err != nil {
		t.Fatalf("produce: %v", err)
	}
	acks, _, _, firstErr := p.snapshot()
	if firstErr != nil {
		t.Fatalf("produce: %v", firstErr)
	}

	// Wait until at most the active segment (plus one uploading) is local only.
	perSegment := int64(moveSegment / moveValueSize)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ends, err := endOffsets(ctx, c, topic, moveParts)
		if err != nil {
			t.Fatal(err)
		}
		remote, err := remoteLogEnds(ctx, meta, mt.ID, moveParts)
		if err != nil {
			t.Fatal(err)
		}
		behind := false
		for part := range moveParts {
			behind = behind || ends[part]-remote[part] > 2*perSegment
		}
		if !behind {
			t.Logf("log ends %v, remote log ends %v", ends, remote)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("uploads not committed in time: log ends %v, remote %v", ends, remote)
		}
		time.Sleep(time.Second)
	}

	st, err := c.TopicState(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	// Partition 0 moves its second replica to a broker that has none of it,
	// preferably one with no replica of the topic at all.
	const part = 0
	orig := st[part].Replicas
	holds := map[int32]int{}
	for _, s := range st {
		for _, r := range s.Replicas {
			holds[r]++
		}
	}
	newNode := int32(-1)
	for i := range c.Brokers {
		n := c.NodeID(i)
		if slices.Contains(orig, n) {
			continue
		}
		if newNode == -1 || holds[n] < holds[newNode] {
			newNode = n
		}
	}
	target := []int32{orig[0], newNode}
	nb := c.Brokers[c.BrokerIndex(newNode)]
	before, err := nb.Metric(ctx, "strata_replica_fetch_bytes_total", nil)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := remoteLogEnds(ctx, meta, mt.ID, moveParts)
	if err != nil {
		t.Fatal(err)
	}
	leaderAddr := c.Brokers[c.BrokerIndex(st[part].Leader)].Addr
	tail, end, err := batchBytes(ctx, leaderAddr, topic, mt.ID, part, remote[part])
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := batchBytes(ctx, leaderAddr, topic, mt.ID, part, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("partition %d: %v -> %v; remote log end %d, log end %d: tail %d of %d bytes", part, orig, target, remote[part], end, tail, all)
	if tail*3 > all {
		t.Fatalf("un-uploaded tail %d bytes is over a third of the %d bytes stored: the test would not show a cheap move", tail, all)
	}

	seed := c.Brokers[3].Addr
	out := strataCLI(t, ctx, seed, "cluster", "reassign", "--topic", topic, "--partition", strconv.Itoa(part),
		"--replicas", fmt.Sprintf("%d,%d", target[0], target[1]), "--wait", "--wait-timeout", "90s")
	if !strings.Contains(out, "1/1 partitions reassigned") {
		t.Fatalf("reassign --wait did not report completion:\n%s", out)
	}
	st, err = c.WaitTopic(ctx, topic, func(st harness.TopicState) error {
		if s := st[part]; !slices.Equal(s.Replicas, target) || !slices.Contains(s.ISR, newNode) {
			return fmt.Errorf("partition %d: %s", part, s)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reassignment to %v: %v", target, err)
	}
	after, err := nb.Metric(ctx, "strata_replica_fetch_bytes_total", nil)
	if err != nil {
		t.Fatal(err)
	}
	copied := int64(after - before)
	if limit := tail + tail/10 + moveSegment; copied > limit {
		t.Errorf("broker %d copied %d bytes by replication to join partition %d; the un-uploaded tail was %d bytes (limit %d; %d bytes stored)",
			newNode, copied, part, tail, limit, all)
	}
	t.Logf("SUMMARY reassign: broker %d copied %d bytes; un-uploaded tail %d bytes; partition holds %d bytes", newNode, copied, tail, all)

	var listed []map[string]any
	if err := json.Unmarshal([]byte(strataCLI(t, ctx, seed, "cluster", "reassignments", "--output", "json")), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 0 {
		t.Fatalf("reassignments still listed after completion: %v", listed)
	}

	// Drain the partition's preferred leader.
	drain := target[0]
	out = strataCLI(t, ctx, seed, "cluster", "drain", "--broker", strconv.Itoa(int(drain)), "--wait-timeout", "3m", "--timeout", "20s")
	if !strings.Contains(out, "done") {
		t.Fatalf("drain did not finish:\n%s", out)
	}
	st, err = c.WaitTopic(ctx, topic, func(st harness.TopicState) error {
		for pn, s := range st {
			if slices.Contains(s.Replicas, drain) || len(s.Replicas) != 2 || len(s.ISR) != 2 || s.Leader < 0 {
				return fmt.Errorf("partition %d: %s", pn, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("after draining broker %d: %v", drain, err)
	}
	t.Logf("after drain of broker %d:%s", drain, st)

	log, err := readAll(ctx, c, topic, moveParts, kgo.FetchMaxBytes(32<<20))
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	t.Logf("read back: %s", verifyLog(t, log, acks))

	// Rebalance afterwards puts replicas back on the drained broker.
	strataCLI(t, ctx, seed, "cluster", "rebalance", "--wait-timeout", "3m", "--timeout", "20s")
	if _, err := c.WaitTopic(ctx, topic, func(st harness.TopicState) error {
		n := 0
		for _, s := range st {
			if slices.Contains(s.Replicas, drain) {
				n++
			}
		}
		if n == 0 {
			return fmt.Errorf("broker %d holds no replica after rebalance", drain)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
