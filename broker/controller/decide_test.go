package controller

import (
	"slices"
	"testing"

	"github.com/strata-io/strata/metastore"
)

func live(ids ...int32) brokers {
	b := brokers{}
	for _, id := range ids {
		b[id] = metastore.BrokerInfo{NodeID: id}
	}
	return b
}

func shuttingDown(b brokers, ids ...int32) brokers {
	for _, id := range ids {
		info := b[id]
		info.ShuttingDown = true
		b[id] = info
	}
	return b
}

func ps(replicas []int32, leader, epoch int32, isr []int32) metastore.PartitionState {
	return metastore.PartitionState{TopicID: [16]byte{1}, Replicas: replicas, Leader: leader, LeaderEpoch: epoch, ISR: isr, Revision: 7}
}

func TestDecide(t *testing.T) {
	r := func(ids ...int32) []int32 { return ids }
	withTarget := func(st metastore.PartitionState, target ...int32) metastore.PartitionState {
		st.TargetReplicas = target
		return st
	}
	tests := []struct {
		name      string
		cur       metastore.PartitionState
		live      brokers
		unclean   bool
		rebalance bool
		want      metastore.PartitionState
		change    bool
	}{
		{"steady", ps(r(1, 2, 3), 1, 3, r(1, 2, 3)), live(1, 2, 3), false, true,
			ps(r(1, 2, 3), 1, 3, r(1, 2, 3)), false},
		{"leader gone: next ISR replica in preference order", ps(r(1, 2, 3), 1, 3, r(1, 3, 2)), live(2, 3), false, false,
			ps(r(1, 2, 3), 2, 4, r(3, 2)), true},
		{"leader gone: out-of-sync replica skipped", ps(r(1, 2, 3), 1, 3, r(1, 3)), live(2, 3), false, false,
			ps(r(1, 2, 3), 3, 4, r(3)), true},
		{"leader gone, no ISR replica: leaderless, ISR kept", ps(r(1, 2), 1, 3, r(1)), live(2), false, false,
			ps(r(1, 2), -1, 4, r(1)), true},
		{"leader gone, unclean allowed", ps(r(1, 2), 1, 3, r(1)), live(2), true, false,
			ps(r(1, 2), 2, 4, r(2)), true},
		{"follower gone leaves ISR", ps(r(1, 2, 3), 1, 3, r(1, 2, 3)), live(1, 3), false, false,
			ps(r(1, 2, 3), 1, 3, r(1, 3)), true},
		{"ISR never below one member", ps(r(1, 2), 1, 3, r(1)), live(1), false, false,
			ps(r(1, 2), 1, 3, r(1)), false},
		{"leaderless: ISR member returns", ps(r(1, 2), -1, 4, r(1)), live(1, 2), false, false,
			ps(r(1, 2), 1, 5, r(1)), true},
		{"leaderless: out-of-sync replica stays out", ps(r(1, 2), -1, 4, r(1)), live(2), false, false,
			ps(r(1, 2), -1, 4, r(1)), false},
		{"controlled shutdown moves leadership and leaves ISR", ps(r(1, 2, 3), 1, 3, r(1, 2, 3)), shuttingDown(live(1, 2, 3), 1), false, false,
			ps(r(1, 2, 3), 2, 4, r(2, 3)), true},
		{"controlled shutdown of a follower", ps(r(1, 2, 3), 1, 3, r(1, 2, 3)), shuttingDown(live(1, 2, 3), 3), false, false,
			ps(r(1, 2, 3), 1, 3, r(1, 2)), true},
		{"controlled shutdown, sole replica: keeps leading until its lease ends", ps(r(1), 1, 3, r(1)), shuttingDown(live(1), 1), false, false,
			ps(r(1), 1, 3, r(1)), false},
		{"shutting-down broker is not re-elected", ps(r(1), -1, 4, r(1)), shuttingDown(live(1), 1), false, false,
			ps(r(1), -1, 4, r(1)), false},
		{"rebalance to preferred", ps(r(1, 2, 3), 2, 4, r(2, 3, 1)), live(1, 2, 3), false, true,
			ps(r(1, 2, 3), 1, 5, r(2, 3, 1)), true},
		{"no rebalance when preferred out of sync", ps(r(1, 2, 3), 2, 4, r(2, 3)), live(1, 2, 3), false, true,
			ps(r(1, 2, 3), 2, 4, r(2, 3)), false},
		{"no rebalance unless asked", ps(r(1, 2, 3), 2, 4, r(2, 3, 1)), live(1, 2, 3), false, false,
			ps(r(1, 2, 3), 2, 4, r(2, 3, 1)), false},
		{"reassignment adds new replicas", withTarget(ps(r(1, 2), 1, 3, r(1, 2)), 3, 4), live(1, 2, 3, 4), false, false,
			withTarget(ps(r(1, 2, 3, 4), 1, 3, r(1, 2)), 3, 4), true},
		{"reassignment waits for catch-up", withTarget(ps(r(1, 2, 3, 4), 1, 3, r(1, 2, 3)), 3, 4), live(1, 2, 3, 4), false, false,
			withTarget(ps(r(1, 2, 3, 4), 1, 3, r(1, 2, 3)), 3, 4), false},
		{"reassignment completes, leader moves", withTarget(ps(r(1, 2, 3, 4), 1, 3, r(1, 2, 4, 3)), 3, 4), live(1, 2, 3, 4), false, false,
			ps(r(3, 4), 3, 4, r(4, 3)), true},
		{"reassignment completes, leader stays", withTarget(ps(r(1, 2, 3), 2, 3, r(2, 1, 3)), 2, 3), live(1, 2, 3), false, false,
			ps(r(2, 3), 2, 3, r(2, 3)), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.cur.Clone()
			d := decide(tc.cur, tc.live, tc.unclean, tc.rebalance)
			if (d.reason != "") != tc.change {
				t.Fatalf("changed = %v (reason %q), want %v", d.reason != "", d.reason, tc.change)
			}
			got := d.next
			if !equalState(got, tc.want) {
				t.Fatalf("got replicas %v leader %d epoch %d isr %v target %v\nwant replicas %v leader %d epoch %d isr %v target %v",
					got.Replicas, got.Leader, got.LeaderEpoch, got.ISR, got.TargetReplicas,
					tc.want.Replicas, tc.want.Leader, tc.want.LeaderEpoch, tc.want.ISR, tc.want.TargetReplicas)
			}
			if !equalState(tc.cur, before) || !slices.Equal(tc.cur.ISR, before.ISR) {
				t.Fatal("decide modified its input")
			}
		})
	}
}
