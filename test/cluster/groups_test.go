package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/test/harness"
)

const (
	groupsTopic    = "groups"
	groupsParts    = 6
	groupsPerBatch = 200 // records per partition per phase
)

// TestGroupCoordinatorFailover spreads group coordinators over 3 brokers,
// runs a 2-member consumer group on an RF 3 topic, SIGKILLs the group's
// coordinator and checks that the members move to the new coordinator
// within seconds, that no committed offset is lost and no record skipped.
func TestGroupCoordinatorFailover(t *testing.T) {
	c := startCluster(t, false)
	ctx := timeout(t, 4*time.Minute)
	createTopic(t, ctx, c, groupsTopic, groupsParts, 3, configs("min.insync.replicas=2"))

	admin, err := c.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	// Two groups whose coordinators differ, and every broker agrees on them.
	g1 := "orders"
	coord1 := coordinatorOf(t, ctx, c, g1)
	var g2 string
	var coord2 int32
	for i := 0; i < 100 && g2 == ""; i++ {
		name := fmt.Sprintf("audit-%d", i)
		if id := coordinatorOf(t, ctx, c, name); id != coord1 {
			g2, coord2 = name, id
		}
	}
	if g2 == "" {
		t.Fatalf("100 group ids all coordinated by node %d: coordinators are not spread", coord1)
	}
	t.Logf("group %s -> node %d, group %s -> node %d", g1, coord1, g2, coord2)

	// A broker that does not own a group answers NOT_COORDINATOR.
	other := int32(1)
	for other == coord1 {
		other++
	}
	ofr := kmsg.NewPtrOffsetFetchRequest()
	ofr.Group = g1
	rg := kmsg.NewOffsetFetchRequestGroup()
	rg.Group = g1
	ofr.Groups = append(ofr.Groups, rg) // v8+ (batched)
	resp, err := admin.Broker(int(other)).Request(ctx, ofr)
	if err != nil {
		t.Fatalf("offset fetch from node %d: %v", other, err)
	}
	ofResp := resp.(*kmsg.OffsetFetchResponse)
	code := ofResp.ErrorCode
	if len(ofResp.Groups) == 1 {
		code = ofResp.Groups[0].ErrorCode
	}
	if code != kerr.NotCoordinator.Code {
		t.Fatalf("offset fetch of %s from non-coordinator %d: error %v, want NOT_COORDINATOR", g1, other, kerr.ErrorForCode(code))
	}

	// Group 2: a simple commit on its coordinator, checked after the kill.
	adm := kadm.NewClient(admin)
	g2offs := kadm.Offsets{}
	g2offs.AddOffset(groupsTopic, 0, 7, -1)
	if cr, err := adm.CommitOffsets(ctx, g2, g2offs); err != nil || cr.Error() != nil {
		t.Fatalf("commit group %s: %v / %v", g2, err, cr.Error())
	}

	produceGroupRecords(t, ctx, c, 0)

	cons := newGroupConsumers(t, c, g1, 2)
	defer cons.close()
	want := int64(groupsPerBatch)
	cons.waitCommitted(t, ctx, c, g1, want, 60*time.Second)
	before := fetchCommitted(t, ctx, c, g1)
	t.Logf("committed before the kill: %v", before)

	// SIGKILL the coordinator of group 1.
	victim := c.Brokers[c.BrokerIndex(coord1)]
	if err := victim.Kill(); err != nil {
		t.Fatalf("kill node %d: %v", coord1, err)
	}
	killed := time.Now()
	produceGroupRecords(t, ctx, c, groupsPerBatch)

	// The members rejoin the new coordinator and resume; nothing committed is lost.
	var newCoord int32 = -1
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		dg, err := withFreshAdmin(t, c, func(adm *kadm.Client) (kadm.DescribedGroups, error) { return adm.DescribeGroups(ctx, g1) })
		last = fmt.Sprintf("err=%v", err)
		if err == nil {
			d := dg[g1]
			last = fmt.Sprintf("coordinator=%d state=%s members=%d err=%v", d.Coordinator.NodeID, d.State, len(d.Members), d.Err)
			if d.Err == nil && d.Coordinator.NodeID != coord1 && d.State == "Stable" && len(d.Members) == 2 {
				newCoord = d.Coordinator.NodeID
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if newCoord < 0 {
		t.Fatalf("group %s not Stable with 2 members on a new coordinator within 30s of killing node %d; last described: %s\n%s", g1, coord1, last, c.LogTails(30))
	}
	t.Logf("group %s Stable with 2 members on node %d %s after killing node %d", g1, newCoord, time.Since(killed).Round(time.Millisecond), coord1)
	after := fetchCommitted(t, ctx, c, g1)
	for p, o := range before {
		if after[p] < o {
			t.Errorf("partition %d: committed offset went back from %d to %d after failover", p, o, after[p])
		}
	}
	cons.waitCommitted(t, ctx, c, g1, 2*want, 90*time.Second)
	t.Logf("every record consumed and committed %s after the kill", time.Since(killed).Round(time.Millisecond))
	cons.checkNoGaps(t, 2*want)

	// Group 2 kept its coordinator and its offset.
	if id := coordinatorOf(t, ctx, c, g2); id != coord2 {
		t.Errorf("group %s moved from node %d to %d though its coordinator is alive", g2, coord2, id)
	}
	fo, err := withFreshAdmin(t, c, func(adm *kadm.Client) (kadm.OffsetResponses, error) { return adm.FetchOffsets(ctx, g2) })
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", g2, err)
	}
	if o, ok := fo.Lookup(groupsTopic, 0); !ok || o.At != 7 {
		t.Errorf("group %s offset of partition 0 = %+v, want 7", g2, o)
	}
}

// coordinatorOf asks every running broker for group's coordinator, requires
// they agree, and returns it.
func coordinatorOf(t *testing.T, ctx context.Context, c *harness.Cluster, group string) int32 {
	t.Helper()
	var agreed int32 = -1
	for _, b := range c.Brokers {
		if !b.Running() {
			continue
		}
		var id int32 = -1
		for try := 0; try < 50; try++ {
			cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.RequestRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			req := kmsg.NewPtrFindCoordinatorRequest()
			req.CoordinatorKey = group
			req.CoordinatorKeys = []string{group} // v4+ (batched)
			resp, err := cl.SeedBrokers()[0].Request(ctx, req)
			cl.Close()
			if err == nil {
				r := resp.(*kmsg.FindCoordinatorResponse)
				code, node := r.ErrorCode, r.NodeID
				if len(r.Coordinators) == 1 {
					code, node = r.Coordinators[0].ErrorCode, r.Coordinators[0].NodeID
				}
				if code == 0 {
					id = node
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		if id < 0 {
			t.Fatalf("broker %s: no coordinator for %s", b.Addr, group)
		}
		if agreed >= 0 && id != agreed {
			t.Fatalf("brokers disagree on the coordinator of %s: %d and %d", group, agreed, id)
		}
		agreed = id
	}
	return agreed
}

// produceGroupRecords writes groupsPerBatch records to every partition,
// values "<partition>:<n>" for n from first.
func produceGroupRecords(t *testing.T, ctx context.Context, c *harness.Cluster, first int) {
	t.Helper()
	cl, err := c.Client(kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RecordRetries(100), kgo.RetryTimeout(60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var rs []*kgo.Record
	for p := int32(0); p < groupsParts; p++ {
		for n := first; n < first+groupsPerBatch; n++ {
			rs = append(rs, &kgo.Record{Topic: groupsTopic, Partition: p, Value: fmt.Appendf(nil, "%d:%d", p, n)})
		}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// groupConsumers are franz-go group members that record every offset they
// see and commit after each poll.
type groupConsumers struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	seen   map[int32]map[int64]bool
}

func newGroupConsumers(t *testing.T, c *harness.Cluster, group string, n int) *groupConsumers {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	gc := &groupConsumers{cancel: cancel, seen: map[int32]map[int64]bool{}}
	for i := 0; i < n; i++ {
		cl, err := c.Client(kgo.ConsumerGroup(group), kgo.ConsumeTopics(groupsTopic),
			kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.ClientID(fmt.Sprintf("member-%d", i)))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		gc.wg.Add(1)
		go func() {
			defer gc.wg.Done()
			defer cl.Close()
			for ctx.Err() == nil {
				fs := cl.PollFetches(ctx)
				fs.EachRecord(func(r *kgo.Record) {
					gc.mu.Lock()
					if gc.seen[r.Partition] == nil {
						gc.seen[r.Partition] = map[int64]bool{}
					}
					gc.seen[r.Partition][r.Offset] = true
					gc.mu.Unlock()
				})
				if ctx.Err() != nil {
					return
				}
				cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
				_ = cl.CommitUncommittedOffsets(cctx) // retried with the next poll
				ccancel()
			}
		}()
	}
	return gc
}

func (gc *groupConsumers) close() {
	gc.cancel()
	gc.wg.Wait()
}

// waitCommitted waits until group's committed offset of every partition is at least want.
func (gc *groupConsumers) waitCommitted(t *testing.T, ctx context.Context, c *harness.Cluster, group string, want int64, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last map[int32]int64
	for time.Now().Before(deadline) {
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		fo, err := withFreshAdmin(t, c, func(adm *kadm.Client) (kadm.OffsetResponses, error) { return adm.FetchOffsets(fctx, group) })
		cancel()
		if err == nil {
			last = map[int32]int64{}
			done := true
			for p := int32(0); p < groupsParts; p++ {
				o, ok := fo.Lookup(groupsTopic, p)
				last[p] = o.At
				if !ok || o.At < want {
					done = false
				}
			}
			if done {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("group %s did not commit offset %d on every partition within %s; last committed %v", group, want, limit, last)
}

// checkNoGaps asserts every offset below end of every partition was consumed.
func (gc *groupConsumers) checkNoGaps(t *testing.T, end int64) {
	t.Helper()
	gc.mu.Lock()
	defer gc.mu.Unlock()
	for p := int32(0); p < groupsParts; p++ {
		for o := int64(0); o < end; o++ {
			if !gc.seen[p][o] {
				t.Errorf("partition %d: offset %d was never consumed", p, o)
				break
			}
		}
	}
}

// fetchCommitted returns group's committed offsets of the test topic.
func fetchCommitted(t *testing.T, ctx context.Context, c *harness.Cluster, group string) map[int32]int64 {
	t.Helper()
	var fo kadm.OffsetResponses
	var err error
	for try := 0; try < 100; try++ {
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		fo, err = withFreshAdmin(t, c, func(adm *kadm.Client) (kadm.OffsetResponses, error) { return adm.FetchOffsets(fctx, group) })
		cancel()
		if err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	out := map[int32]int64{}
	for p := int32(0); p < groupsParts; p++ {
		if o, ok := fo.Lookup(groupsTopic, p); ok {
			out[p] = o.At
		}
	}
	return out
}

// withFreshAdmin runs f with a new admin client seeded with the running
// brokers, so no coordinator cached before a kill is used.
func withFreshAdmin[T any](t *testing.T, c *harness.Cluster, f func(*kadm.Client) (T, error)) (T, error) {
	t.Helper()
	var seeds []string
	for _, b := range c.Brokers {
		if b.Running() {
			seeds = append(seeds, b.Addr)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		var zero T
		return zero, err
	}
	defer cl.Close()
	return f(kadm.NewClient(cl))
}
