package controller

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-io/strata/metastore"
	"github.com/strata-io/strata/metastore/etcdtest"
)

var prefixSeq atomic.Int64

// cluster is a real etcd shared by the stores of one test.
type cluster struct {
	t        *testing.T
	endpoint string
	prefix   string
}

func newCluster(t *testing.T) *cluster {
	e := etcdtest.Start(t, etcdtest.Options{})
	return &cluster{t: t, endpoint: e.Endpoint, prefix: fmt.Sprintf("ctl-%d", prefixSeq.Add(1))}
}

func (c *cluster) open() *metastore.Store {
	c.t.Helper()
	s, err := metastore.Open(context.Background(), "etcd://"+c.endpoint+"/"+c.prefix, "", testLogger(c.t))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = s.Close() })
	return s
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// startController runs a controller until the returned cancel is called.
func startController(t *testing.T, s *metastore.Store, node int32, reg prometheus.Registerer) (cancel func()) {
	ctx, cancelCtx := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{NodeID: node, Store: s, Logger: testLogger(t).With("test_controller", node),
			LeaderRebalanceInterval: time.Second, SessionTimeout: 2 * time.Second, Registerer: reg})
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancelCtx()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("controller %d: Run = %v", node, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("controller %d did not stop", node)
		}
	}
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func statesOf(t *testing.T, s *metastore.Store, topicID [16]byte) []metastore.PartitionState {
	t.Helper()
	all, err := s.ListPartitionStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(all, func(st metastore.PartitionState) bool { return st.TopicID != topicID })
}

func TestControllerIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and waits for lease expiry")
	}
	c := newCluster(t)
	ctx := context.Background()
	brokerStore := c.open()
	regs := map[int32]context.CancelFunc{}
	sessions := map[int32]*metastore.BrokerSession{}
	register := func(id int32) {
		rctx, cancel := context.WithCancel(ctx)
		bs, err := brokerStore.RegisterBrokerSession(rctx, metastore.BrokerInfo{NodeID: id, Host: "127.0.0.1", Port: 9000 + id}, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		regs[id], sessions[id] = cancel, bs
	}
	for id := int32(1); id <= 3; id++ {
		register(id)
	}

	// Two controllers; the first one elected leads.
	storeA, storeB := c.open(), c.open()
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	startController(t, storeA, 101, regA)
	eventually(t, 10*time.Second, "controller 101 elected", func() bool {
		id, _ := brokerStore.Controller(ctx)
		return id == 101
	})
	startController(t, storeB, 102, regB)
	eventually(t, 5*time.Second, "101 reports active", func() bool { return metricValue(t, regA, "strata_controller_active") == 1 })
	if v := metricValue(t, regB, "strata_controller_active"); v != 0 {
		t.Fatalf("strata_controller_active on standby 102 = %v", v)
	}

	// A new topic gets every partition assigned: 3 replicas, leaders spread.
	tp, err := brokerStore.CreateTopic(ctx, metastore.Topic{Name: "t", Partitions: 3, ReplicationFactor: 3})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "partitions assigned", func() bool { return len(statesOf(t, brokerStore, tp.ID)) == 3 })
	leaders := map[int32]bool{}
	for _, st := range statesOf(t, brokerStore, tp.ID) {
		if len(st.Replicas) != 3 || st.Leader != st.Replicas[0] || !slices.Equal(st.ISR, st.Replicas) || st.LeaderEpoch != 0 {
			t.Fatalf("new partition state %+v", st)
		}
		leaders[st.Leader] = true
	}
	if len(leaders) != 3 {
		t.Fatalf("leaders not spread over the brokers: %v", leaders)
	}

	// Kill the controller's store (no resign): its session lease expires and
	// the other controller takes over within seconds.
	killed := time.Now()
	_ = storeA.Close()
	eventually(t, 8*time.Second, "controller 102 takes over", func() bool {
		id, _ := brokerStore.Controller(ctx)
		return id == 102
	})
	t.Logf("controller failover took %s", time.Since(killed))
	eventually(t, 5*time.Second, "102 reports active", func() bool { return metricValue(t, regB, "strata_controller_active") == 1 })

	// A broker's registration disappears: its leaderships move to the next
	// in-sync replica with a new epoch, and it leaves every ISR.
	victim := statesOf(t, brokerStore, tp.ID)[0].Leader
	regs[victim]()
	eventually(t, 10*time.Second, "leaders moved off the dead broker", func() bool {
		for _, st := range statesOf(t, brokerStore, tp.ID) {
			if st.Leader == victim || st.Leader == -1 || slices.Contains(st.ISR, victim) {
				return false
			}
		}
		return true
	})
	for _, st := range statesOf(t, brokerStore, tp.ID) {
		e, err := brokerStore.PartitionEpoch(ctx, tp.ID, st.Partition)
		if err != nil || e != st.LeaderEpoch {
			t.Fatalf("leaderepochs %d (%v) != state epoch %d", e, err, st.LeaderEpoch)
		}
		if st.Replicas[0] == victim && st.LeaderEpoch != 1 {
			t.Fatalf("partition led by the victim: epoch %d, want 1", st.LeaderEpoch)
		}
	}
	if n := metricValue(t, regB, "strata_controller_leader_elections_total"); n < 1 {
		t.Fatalf("strata_controller_leader_elections_total = %v", n)
	}

	// It returns and catches up (the leader adds it back to the ISR): the
	// preferred-leader rebalance gives it back the partitions it prefers.
	register(victim)
	for _, st := range statesOf(t, brokerStore, tp.ID) {
		if _, err := brokerStore.UpdatePartitionState(ctx, st.ID(), func(p *metastore.PartitionState) error {
			p.ISR = append(p.ISR, victim)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "preferred leaders restored", func() bool {
		for _, st := range statesOf(t, brokerStore, tp.ID) {
			if st.Leader != st.Replicas[0] {
				return false
			}
		}
		return true
	})

	// Controlled shutdown: the broker ends up leading nothing and in no ISR
	// that has other members.
	sd := statesOf(t, brokerStore, tp.ID)[1].Leader
	if err := sessions[sd].SetShuttingDown(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "shutting-down broker leads nothing", func() bool {
		for _, st := range statesOf(t, brokerStore, tp.ID) {
			if st.Leader == sd || st.Leader == -1 || slices.Contains(st.ISR, sd) {
				return false
			}
		}
		return true
	})
	// Nothing new lands on it.
	tp2, err := brokerStore.CreateTopic(ctx, metastore.Topic{Name: "during-shutdown", Partitions: 4, ReplicationFactor: 3})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "second topic assigned", func() bool { return len(statesOf(t, brokerStore, tp2.ID)) == 4 })
	for _, st := range statesOf(t, brokerStore, tp2.ID) {
		if slices.Contains(st.Replicas, sd) || len(st.Replicas) != 2 {
			t.Fatalf("partition assigned to shutting-down broker or RF not capped: %+v", st)
		}
	}
	regs[sd]()
	register(sd)

	// Reassignment: move a single-replica partition to another broker.
	tp3, err := brokerStore.CreateTopic(ctx, metastore.Topic{Name: "moving", Partitions: 1, ReplicationFactor: 1})
	if err != nil {
		t.Fatal(err)
	}
	id3 := metastore.PartitionID{TopicID: tp3.ID, Partition: 0}
	eventually(t, 10*time.Second, "moving assigned", func() bool { return len(statesOf(t, brokerStore, tp3.ID)) == 1 })
	from := statesOf(t, brokerStore, tp3.ID)[0].Leader
	to := from%3 + 1
	if _, err := brokerStore.UpdatePartitionState(ctx, id3, func(p *metastore.PartitionState) error {
		p.TargetReplicas = []int32{to}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "target replica added", func() bool {
		st, err := brokerStore.GetPartitionState(ctx, id3)
		return err == nil && slices.Equal(st.Replicas, []int32{from, to}) && st.Leader == from
	})
	// The new replica catches up.
	if _, err := brokerStore.UpdatePartitionState(ctx, id3, func(p *metastore.PartitionState) error {
		p.ISR = append(p.ISR, to)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "reassignment completed", func() bool {
		st, err := brokerStore.GetPartitionState(ctx, id3)
		return err == nil && slices.Equal(st.Replicas, []int32{to}) && st.Leader == to &&
			slices.Equal(st.ISR, []int32{to}) && st.TargetReplicas == nil && st.LeaderEpoch == 1
	})

	// States of topics that no longer exist are removed.
	stray := metastore.PartitionState{TopicID: [16]byte{0xee}, Partition: 0, Replicas: []int32{1}, Leader: 1, ISR: []int32{1}}
	if err := brokerStore.CreatePartitionStates(ctx, []metastore.PartitionState{stray}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "stray state deleted", func() bool { return len(statesOf(t, brokerStore, stray.TopicID)) == 0 })
}

func TestLeaderlessUntilISRMemberReturns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	c := newCluster(t)
	ctx := context.Background()
	s := c.open()
	rctx, unregister := context.WithCancel(ctx)
	if _, err := s.RegisterBrokerSession(rctx, metastore.BrokerInfo{NodeID: 1, Host: "h", Port: 1}, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterBroker(ctx, metastore.BrokerInfo{NodeID: 2, Host: "h", Port: 2}); err != nil {
		t.Fatal(err)
	}
	startController(t, s, 1, nil)
	tp, err := s.CreateTopic(ctx, metastore.Topic{Name: "solo", Partitions: 1, ReplicationFactor: 2,
		Configs: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	id := metastore.PartitionID{TopicID: tp.ID}
	eventually(t, 10*time.Second, "assigned", func() bool { return len(statesOf(t, s, tp.ID)) == 1 })
	// Make broker 1 the leader and only ISR member (broker 2 fell behind).
	if _, err := s.UpdatePartitionState(ctx, id, func(p *metastore.PartitionState) error {
		p.Replicas = []int32{1, 2}
		p.Leader, p.ISR = 1, []int32{1}
		p.LeaderEpoch++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before, _ := s.GetPartitionState(ctx, id)
	unregister()
	eventually(t, 10*time.Second, "leaderless", func() bool {
		st, err := s.GetPartitionState(ctx, id)
		return err == nil && st.Leader == -1 && slices.Equal(st.ISR, []int32{1}) && st.LeaderEpoch == before.LeaderEpoch+1
	})
	// Broker 1 comes back: it leads again.
	if err := s.RegisterBroker(ctx, metastore.BrokerInfo{NodeID: 1, Host: "h", Port: 1}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "ISR member leads again", func() bool {
		st, err := s.GetPartitionState(ctx, id)
		return err == nil && st.Leader == 1 && st.LeaderEpoch == before.LeaderEpoch+2
	})
}

// metricValue reads an unlabelled gauge or counter from reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) != 1 {
			continue
		}
		m := mf.GetMetric()[0]
		if g := m.GetGauge(); g != nil {
			return g.GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

// A topic from a single-node cluster already has a leader epoch (and a
// broker may raise it behind the controller's back): the controller's
// epochs always go above the stored one.
func TestEpochsStayAboveStoredLeaderEpoch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	c := newCluster(t)
	ctx := context.Background()
	s := c.open()
	for id := int32(1); id <= 2; id++ {
		if err := s.RegisterBroker(ctx, metastore.BrokerInfo{NodeID: id, Host: "h", Port: id}); err != nil {
			t.Fatal(err)
		}
	}
	rctx, unregister3 := context.WithCancel(ctx)
	if _, err := s.RegisterBrokerSession(rctx, metastore.BrokerInfo{NodeID: 3, Host: "h", Port: 3}, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	topicID := [16]byte{0x42, 1}
	if err := s.SetPartitionEpoch(ctx, topicID, 0, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTopic(ctx, metastore.Topic{Name: "old", ID: topicID, Partitions: 1, ReplicationFactor: 3}); err != nil {
		t.Fatal(err)
	}
	startController(t, s, 1, nil)
	id := metastore.PartitionID{TopicID: topicID}
	var st metastore.PartitionState
	eventually(t, 10*time.Second, "assigned above the stored epoch", func() bool {
		var err error
		st, err = s.GetPartitionState(ctx, id)
		return err == nil && st.LeaderEpoch == 6
	})
	// Make broker 3 the leader, then raise the stored epoch behind the
	// controller's back and kill broker 3.
	if _, err := s.UpdatePartitionState(ctx, id, func(p *metastore.PartitionState) error {
		p.Replicas, p.Leader, p.ISR = []int32{3, 1, 2}, 3, []int32{3, 1, 2}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPartitionEpoch(ctx, topicID, 0, 9); err != nil {
		t.Fatal(err)
	}
	unregister3()
	eventually(t, 10*time.Second, "new leader at an epoch above 9", func() bool {
		st, err := s.GetPartitionState(ctx, id)
		return err == nil && st.Leader == 1 && st.LeaderEpoch == 10 && slices.Equal(st.ISR, []int32{1, 2})
	})
	if e, err := s.PartitionEpoch(ctx, topicID, 0); err != nil || e != 10 {
		t.Fatalf("leaderepochs = %d, %v; want 10", e, err)
	}
}
