package controller

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-io/strata/metastore"
)

func TestDecideRestart(t *testing.T) {
	r := func(ids ...int32) []int32 { return ids }
	tests := []struct {
		name      string
		cur       metastore.PartitionState
		live      brokers
		restarted []int32
		unclean   bool
		want      metastore.PartitionState
		change    bool
	}{
		{"no restart: plain decide", ps(r(1, 2), 1, 3, r(1, 2)), live(1, 2), nil, false,
			ps(r(1, 2), 1, 3, r(1, 2)), false},
		{"restarted leader: next ISR member leads, restarted leaves ISR", ps(r(1, 2, 3), 1, 3, r(1, 2, 3)), live(1, 2, 3), r(1), false,
			ps(r(1, 2, 3), 2, 4, r(2, 3)), true},
		{"restarted leader, sole ISR member: leads again at epoch+1", ps(r(1, 2), 1, 3, r(1)), live(1, 2), r(1), false,
			ps(r(1, 2), 1, 4, r(1)), true},
		{"restarted leader, sole ISR member, unclean allowed: still no unclean election", ps(r(1, 2), 1, 3, r(1)), live(1, 2), r(1), true,
			ps(r(1, 2), 1, 4, r(1)), true},
		{"restarted sole replica", ps(r(1), 1, 3, r(1)), live(1), r(1), false,
			ps(r(1), 1, 4, r(1)), true},
		{"restarted follower leaves ISR, epoch kept", ps(r(1, 2, 3), 1, 3, r(1, 2, 3)), live(1, 2, 3), r(3), false,
			ps(r(1, 2, 3), 1, 3, r(1, 2)), true},
		{"leader and follower restarted, no other ISR member: one leads, the other leaves ISR", ps(r(1, 2), 1, 3, r(1, 2)), live(1, 2), r(1, 2), false,
			ps(r(1, 2), 1, 4, r(1)), true},
		{"restarted leader, other ISR member gone: leads again", ps(r(1, 2), 1, 3, r(1, 2)), live(1), r(1), false,
			ps(r(1, 2), 1, 4, r(1)), true},
		{"restarted leader moves to a non-restarted ISR member", ps(r(1, 2, 3), 1, 3, r(1, 2, 3)), live(1, 2, 3), r(1, 2), false,
			ps(r(1, 2, 3), 3, 4, r(3)), true},
		{"restarted member of a leaderless partition leads", ps(r(1, 2), -1, 4, r(1)), live(1, 2), r(1), false,
			ps(r(1, 2), 1, 5, r(1)), true},
		{"restarted and shutting down leader: controlled shutdown", ps(r(1, 2), 1, 3, r(1, 2)), shuttingDown(live(1, 2), 1), r(1), false,
			ps(r(1, 2), 2, 4, r(2)), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.cur.Clone()
			d := decideRestart(tc.cur, tc.live, tc.restarted, tc.unclean, true)
			if (d.reason != "") != tc.change {
				t.Fatalf("changed = %v (reason %q), want %v", d.reason != "", d.reason, tc.change)
			}
			got := d.next
			if !equalState(got, tc.want) {
				t.Fatalf("got leader %d epoch %d isr %v, want leader %d epoch %d isr %v (reason %q)",
					got.Leader, got.LeaderEpoch, got.ISR, tc.want.Leader, tc.want.LeaderEpoch, tc.want.ISR, d.reason)
			}
			if !equalState(tc.cur, before) || !slices.Equal(tc.cur.ISR, before.ISR) {
				t.Fatal("decideRestart modified its input")
			}
		})
	}
}

func TestRestartedIn(t *testing.T) {
	reg := func(id int32, inc, rev int64) metastore.BrokerInfo {
		return metastore.BrokerInfo{NodeID: id, Incarnation: inc, Revision: rev}
	}
	st := ps([]int32{1, 2, 3}, 1, 3, []int32{1, 2}) // Revision 7
	tests := []struct {
		name    string
		live    brokers
		pending map[int32]int64
		want    []int32
		used    map[int32]int64
	}{
		{"registrations older than the state", brokers{1: reg(1, 10, 5), 2: reg(2, 20, 6), 3: reg(3, 30, 9)}, nil, nil, nil},
		{"leader registered after the state", brokers{1: reg(1, 11, 8), 2: reg(2, 20, 6)}, nil, []int32{1}, nil},
		{"out-of-sync replica ignored", brokers{1: reg(1, 10, 5), 2: reg(2, 20, 6), 3: reg(3, 31, 99)}, nil, nil, nil},
		{"pending restart of the current incarnation, state rewritten since", brokers{1: reg(1, 11, 5), 2: reg(2, 20, 6)},
			map[int32]int64{1: 11}, []int32{1}, map[int32]int64{1: 11}},
		{"pending restart of an older incarnation ignored", brokers{1: reg(1, 12, 5), 2: reg(2, 20, 6)},
			map[int32]int64{1: 11}, nil, nil},
		{"gone broker ignored", brokers{2: reg(2, 20, 8)}, map[int32]int64{1: 11}, []int32{2}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, used := restartedIn(st, tc.live, tc.pending)
			if !slices.Equal(got, tc.want) || len(used) != len(tc.used) {
				t.Fatalf("restartedIn = %v (used %v), want %v (used %v)", got, used, tc.want, tc.used)
			}
			for k, v := range tc.used {
				if used[k] != v {
					t.Fatalf("used %v, want %v", used, tc.used)
				}
			}
		})
	}
}

func TestPendingRestarts(t *testing.T) {
	a := metastore.PartitionID{TopicID: [16]byte{1}}
	b := metastore.PartitionID{TopicID: [16]byte{2}}
	c := metastore.PartitionID{TopicID: [16]byte{3}}
	states := map[metastore.PartitionID]metastore.PartitionState{
		a: ps([]int32{1, 2}, 1, 0, []int32{1, 2}),
		b: ps([]int32{2, 1}, 2, 0, []int32{2, 1}),
		c: ps([]int32{2, 3}, 2, 0, []int32{2, 3}),
	}
	p := pendingRestarts{}
	if n := p.add(states, 1, 11); n != 2 || p[a][1] != 11 || p[b][1] != 11 || p[c] != nil {
		t.Fatalf("add: n=%d pending %v", n, p)
	}
	p.resolve(a, map[int32]int64{1: 10}) // another incarnation: kept
	if p[a][1] != 11 {
		t.Fatalf("resolve of an older incarnation dropped the entry: %v", p)
	}
	p.resolve(a, map[int32]int64{1: 11})
	if _, ok := p[a]; ok {
		t.Fatalf("resolve kept %v", p)
	}
	p.forgetBroker(1)
	if len(p) != 0 {
		t.Fatalf("forgetBroker kept %v", p)
	}
}

// A broker re-registering on a new lease while its old registration is still
// alive (a crashed process restarted within the session timeout) is handled
// as failed and returned: its leaderships move to another ISR member at
// epoch+1, it leaves ISRs, and a partition it alone is in sync for gets
// epoch+1 with it as leader. A controller taking over later applies the same
// to a restart it never saw.
func TestRestartedBrokerIsNewIncarnation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	c := newCluster(t)
	ctx := context.Background()
	s := c.open()
	register := func(st *metastore.Store, id int32) {
		t.Helper()
		if _, err := st.RegisterBrokerSession(ctx, metastore.BrokerInfo{NodeID: id, Host: "h", Port: id}, 4*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	register(s, 1)
	register(s, 2)
	reg := prometheus.NewRegistry()
	stopController := startController(t, s, 1, reg)
	two, err := s.CreateTopic(ctx, metastore.Topic{Name: "two", Partitions: 1, ReplicationFactor: 2})
	if err != nil {
		t.Fatal(err)
	}
	one, err := s.CreateTopic(ctx, metastore.Topic{Name: "one", Partitions: 1, ReplicationFactor: 1})
	if err != nil {
		t.Fatal(err)
	}
	twoID, oneID := metastore.PartitionID{TopicID: two.ID}, metastore.PartitionID{TopicID: one.ID}
	eventually(t, 10*time.Second, "assigned", func() bool {
		return len(statesOf(t, s, two.ID)) == 1 && len(statesOf(t, s, one.ID)) == 1
	})
	// Broker 1 leads both, [1,2] in sync for "two", alone for "one".
	lead1 := func(id metastore.PartitionID, replicas []int32) metastore.PartitionState {
		t.Helper()
		st, err := s.UpdatePartitionState(ctx, id, func(p *metastore.PartitionState) error {
			if p.Leader != 1 {
				p.LeaderEpoch++
			}
			p.Replicas, p.Leader, p.ISR = replicas, 1, slices.Clone(replicas)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	twoBefore, oneBefore := lead1(twoID, []int32{1, 2}), lead1(oneID, []int32{1})
	get := func(id metastore.PartitionID) metastore.PartitionState {
		t.Helper()
		st, err := s.GetPartitionState(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// Steady: the controller (rebalancing every second) leaves them alone.
	time.Sleep(1500 * time.Millisecond)
	if st := get(twoID); st.Revision != twoBefore.Revision {
		t.Fatalf("steady state changed: %+v -> %+v", twoBefore, st)
	}
	if st := get(oneID); st.Revision != oneBefore.Revision {
		t.Fatalf("steady state changed: %+v -> %+v", oneBefore, st)
	}

	// Broker 1 restarts: a new process (store) registers on a new lease
	// while the old lease is still kept alive.
	register(c.open(), 1)
	eventually(t, 10*time.Second, "leadership of two moved to 2 at epoch+1", func() bool {
		st := get(twoID)
		return st.Leader == 2 && st.LeaderEpoch == twoBefore.LeaderEpoch+1 && slices.Equal(st.ISR, []int32{2})
	})
	eventually(t, 10*time.Second, "one led by 1 at epoch+1", func() bool {
		st := get(oneID)
		return st.Leader == 1 && st.LeaderEpoch == oneBefore.LeaderEpoch+1 && slices.Equal(st.ISR, []int32{1})
	})
	if v := metricValue(t, reg, "strata_controller_broker_restarts_total"); v != 1 {
		t.Fatalf("strata_controller_broker_restarts_total = %v, want 1", v)
	}
	// Handled once: no further bumps.
	twoAfter, oneAfter := get(twoID), get(oneID)
	time.Sleep(1500 * time.Millisecond)
	if st := get(twoID); st.Revision != twoAfter.Revision {
		t.Fatalf("state of two changed again: %+v -> %+v", twoAfter, st)
	}
	if st := get(oneID); st.Revision != oneAfter.Revision {
		t.Fatalf("state of one changed again: %+v -> %+v", oneAfter, st)
	}

	// Broker 1 caught up and rejoined two's ISR (its leader's write); then,
	// with no controller running, it restarts again. The next controller
	// has never seen the earlier incarnation and still handles it.
	twoAfter, err = s.UpdatePartitionState(ctx, twoID, func(p *metastore.PartitionState) error {
		p.ISR = []int32{2, 1}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stopController()
	register(c.open(), 1)
	startController(t, c.open(), 2, nil)
	eventually(t, 10*time.Second, "restarted 1 leaves two's ISR", func() bool {
		st := get(twoID)
		return st.Leader == 2 && st.LeaderEpoch == twoAfter.LeaderEpoch && slices.Equal(st.ISR, []int32{2})
	})
	eventually(t, 10*time.Second, "one led by 1 at epoch+2", func() bool {
		st := get(oneID)
		return st.Leader == 1 && st.LeaderEpoch == oneBefore.LeaderEpoch+2
	})
}
