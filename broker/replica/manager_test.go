package replica

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func testManager(t *testing.T, reg prometheus.Registerer) *Manager {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	m := NewManager(Config{NodeID: 2, MaxWait: 50 * time.Millisecond, PartitionMaxBytes: 2048, Logger: logger, Registerer: reg})
	t.Cleanup(m.Close)
	return m
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestCatchUpFromZero(t *testing.T) {
	leader := newFakeLeader(t, "", 3)
	lg0, lg1 := openLog(t), openLog(t)
	appendN(t, lg0, 40, 1, 'a')
	appendN(t, lg0, 40, 3, 'a')
	appendN(t, lg1, 10, 3, 'b')
	leader.add("t", 0, lg0)
	leader.add("t", 1, lg1)

	reg := prometheus.NewRegistry()
	m := testManager(t, reg)
	p0, p1 := newTestPart(t, "t", 0), newTestPart(t, "t", 1)
	m.Follow(p0, 1, leader.addr, 3)
	m.Follow(p1, 1, leader.addr, 3)
	waitFor(t, "catch-up", func() bool { return p0.LogEndOffset() == 160 && p1.LogEndOffset() == 20 && p0.hw.Load() == 160 })
	sameLog(t, lg0, p0.Log)
	sameLog(t, lg1, p1.Log)
	if e, o := p0.EndOffsetForEpoch(1); e != 1 || o != 80 {
		t.Fatalf("follower epoch 1 ends at (%d,%d)", e, o)
	}
	if leader.replicaID.Load() != 2 || leader.clientID.Load() != "strata-replica-2" {
		t.Fatalf("fetch identity: replica %d client %v", leader.replicaID.Load(), leader.clientID.Load())
	}

	// New data is replicated as it arrives (long polling).
	appendN(t, lg1, 5, 3, 'b')
	waitFor(t, "new data", func() bool { return p1.LogEndOffset() == 30 && p1.hw.Load() == 30 })
	sameLog(t, lg1, p1.Log)

	if got := testutil.ToFloat64(m.metrics.fetchBytes); got != float64(lg0.Size()+lg1.Size()) {
		t.Fatalf("fetch bytes metric %v, want %d", got, lg0.Size()+lg1.Size())
	}
	if testutil.ToFloat64(m.metrics.fetchRequests) < 2 {
		t.Fatal("fetch requests not counted")
	}
	if n, err := testutil.GatherAndCount(reg, "strata_replica_lag_records", "strata_replica_fetch_bytes_total"); err != nil || n != 2 {
		t.Fatalf("registered metrics: %d %v", n, err)
	}
}

// divergedPair builds a leader log (epoch 1: 20 records, epoch 3: 20) and a
// follower that has the same epoch-1 data followed by 12 records of its
// own from epoch 2 that the leader never had.
func divergedPair(t *testing.T) (leaderLog *testPart, follower *testPart) {
	ll := newTestPart(t, "t", 0)
	appendN(t, ll.Log, 10, 1, 'a')
	f := newTestPart(t, "t", 0)
	common, err := ll.Read(0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Log.AppendReplica(wholeBatches(common, 0)); err != nil {
		t.Fatal(err)
	}
	if f.LogEndOffset() != 20 {
		t.Fatalf("common prefix %d", f.LogEndOffset())
	}
	appendN(t, f.Log, 6, 2, 'z')
	appendN(t, ll.Log, 10, 3, 'a')
	return ll, f
}

func TestDivergenceTruncatedByLeaderEpoch(t *testing.T) {
	ll, f := divergedPair(t)
	leader := newFakeLeader(t, "", 3)
	leader.add("t", 0, ll.Log)
	m := testManager(t, nil)
	m.Follow(f, 1, leader.addr, 3)
	waitFor(t, "replace diverged tail", func() bool { return f.LogEndOffset() == 40 && f.LatestEpoch() == 3 })
	sameLog(t, ll.Log, f.Log)
	if e, o := f.EndOffsetForEpoch(2); e != 1 || o != 20 {
		t.Fatalf("epoch 2 still known: (%d,%d)", e, o)
	}
	if testutil.ToFloat64(m.metrics.truncations) != 1 {
		t.Fatalf("truncations %v", testutil.ToFloat64(m.metrics.truncations))
	}
}

func TestDivergenceTruncatedByDivergingEpoch(t *testing.T) {
	ll, f := divergedPair(t)
	leader := newFakeLeader(t, "", 3)
	leader.undefinedEpochs = true // only Fetch's DivergingEpoch reveals it
	leader.add("t", 0, ll.Log)
	m := testManager(t, nil)
	m.Follow(f, 1, leader.addr, 3)
	waitFor(t, "replace diverged tail", func() bool { return f.LogEndOffset() == 40 && f.LatestEpoch() == 3 })
	sameLog(t, ll.Log, f.Log)
}

func TestLeaderChange(t *testing.T) {
	// Old leader A (epoch 1) has 30 records; the follower copies them all.
	a := newFakeLeader(t, "", 1)
	la := openLog(t)
	appendN(t, la, 15, 1, 'a')
	a.add("t", 0, la)
	m := testManager(t, nil)
	f := newTestPart(t, "t", 0)
	m.Follow(f, 1, a.addr, 1)
	waitFor(t, "copy from A", func() bool { return f.LogEndOffset() == 30 })

	// B was behind (20 records of epoch 1), became leader at epoch 2 and
	// wrote its own records. The follower must drop A's last 10.
	b := newFakeLeader(t, "", 2)
	lb := openLog(t)
	common, _ := la.Read(0, 1<<20)
	bs := wholeBatches(common, 0)
	if _, err := lb.AppendReplica(bs[:10*len(testBatch(2, 'a', 0))]); err != nil {
		t.Fatal(err)
	}
	appendN(t, lb, 8, 2, 'b')
	b.add("t", 0, lb)
	m.Follow(f, 3, b.addr, 2)
	waitFor(t, "follow B", func() bool { return f.LogEndOffset() == 36 && f.LatestEpoch() == 2 })
	sameLog(t, lb, f.Log)
	// A is no longer fetched from.
	before := a.fetches.Load()
	time.Sleep(150 * time.Millisecond)
	if n := a.fetches.Load() - before; n > 1 {
		t.Fatalf("%d fetches to the old leader after the change", n)
	}
}

func TestFencedEpochRetriesUntilRefollowed(t *testing.T) {
	leader := newFakeLeader(t, "", 5)
	lg := openLog(t)
	appendN(t, lg, 5, 5, 'a')
	leader.add("t", 0, lg)
	m := testManager(t, nil)
	f := newTestPart(t, "t", 0)
	m.Follow(f, 1, leader.addr, 4) // stale assignment: FENCED_LEADER_EPOCH
	time.Sleep(300 * time.Millisecond)
	if f.LogEndOffset() != 0 {
		t.Fatalf("fetched with a fenced epoch: %d", f.LogEndOffset())
	}
	if n := leader.fetches.Load(); n > 6 {
		t.Fatalf("%d fetches in 300 ms: no backoff", n)
	}
	m.Follow(f, 1, leader.addr, 5)
	waitFor(t, "fetch at the new epoch", func() bool { return f.LogEndOffset() == 10 })
}

func TestUnfollowWhileFetching(t *testing.T) {
	leader := newFakeLeader(t, "", 1)
	lg := openLog(t)
	leader.add("t", 0, lg)
	m := testManager(t, nil)
	f := newTestPart(t, "t", 0)
	m.Follow(f, 1, leader.addr, 1)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := lg.Append(testBatch(2, 'a', i), 1); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	waitFor(t, "replication running", func() bool { return f.LogEndOffset() > 50 })
	m.Unfollow(f)
	f.gone.Store(true) // any later touch fails the test
	end := f.LogEndOffset()
	time.Sleep(200 * time.Millisecond)
	close(stop)
	<-done
	if f.LogEndOffset() != end {
		t.Fatalf("log grew after Unfollow: %d -> %d", end, f.LogEndOffset())
	}
	// The fetcher for a leader with nothing to follow is gone.
	m.mu.Lock()
	n := len(m.fetchers)
	m.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d fetchers left", n)
	}
}

func TestReconnectAfterLeaderRestart(t *testing.T) {
	leader := newFakeLeader(t, "", 1)
	lg := openLog(t)
	appendN(t, lg, 5, 1, 'a')
	leader.add("t", 0, lg)
	m := testManager(t, nil)
	f := newTestPart(t, "t", 0)
	m.Follow(f, 1, leader.addr, 1)
	waitFor(t, "first copy", func() bool { return f.LogEndOffset() == 10 })

	leader.stop()
	appendN(t, lg, 5, 1, 'a')
	time.Sleep(300 * time.Millisecond) // several failed reconnects
	again := newFakeLeader(t, leader.addr, 1)
	again.add("t", 0, lg)
	waitFor(t, "copy after restart", func() bool { return f.LogEndOffset() == 20 })
	sameLog(t, lg, f.Log)
}

func TestBehindLeaderLogStartRestarts(t *testing.T) {
	leader := newFakeLeader(t, "", 1)
	lg := openLog(t)
	appendN(t, lg, 50, 1, 'a')
	if _, err := lg.DeleteRecords(40); err != nil {
		t.Fatal(err)
	}
	leader.add("t", 0, lg)
	m := testManager(t, nil)
	f := newTestPart(t, "t", 0)
	m.Follow(f, 1, leader.addr, 1)
	waitFor(t, "restart at the leader's log start", func() bool { return f.LogEndOffset() == 100 })
	if f.LogStartOffset() != 40 {
		t.Fatalf("follower log start %d", f.LogStartOffset())
	}
	sameLog(t, lg, f.Log)
}

func TestAheadOfEmptyLeaderTruncates(t *testing.T) {
	// The leader's log is empty (no epochs): OffsetForLeaderEpoch answers
	// UNDEFINED, the fetch is out of range, and the follower is cut to the
	// leader's end.
	leader := newFakeLeader(t, "", 2)
	lg := openLog(t)
	leader.add("t", 0, lg)
	m := testManager(t, nil)
	f := newTestPart(t, "t", 0)
	appendN(t, f.Log, 3, 1, 'z')
	m.Follow(f, 1, leader.addr, 2)
	waitFor(t, "cut to the leader's end", func() bool { return f.LogEndOffset() == 0 })
	appendN(t, lg, 2, 2, 'a')
	waitFor(t, "copy", func() bool { return f.LogEndOffset() == 4 })
	sameLog(t, lg, f.Log)
}
