package controller

import (
	"slices"

	"github.com/strata-io/strata/metastore"
)

// brokers is the set of live broker registrations by node id.
type brokers map[int32]metastore.BrokerInfo

// alive reports whether id is registered.
func (b brokers) alive(id int32) bool { _, ok := b[id]; return ok }

// eligible reports whether id is registered and not shutting down: it may
// lead and may be assigned replicas.
func (b brokers) eligible(id int32) bool { info, ok := b[id]; return ok && !info.ShuttingDown }

// decision is the outcome of decide for one partition.
type decision struct {
	next   metastore.PartitionState
	reason string // empty: no change
}

// decide returns the state a partition should move to given the live
// brokers. unclean allows electing a leader outside the ISR; rebalance asks
// for leadership to go back to the preferred replica. It bumps the leader
// epoch whenever the leader changes. It does not touch cur.
func decide(cur metastore.PartitionState, live brokers, unclean, rebalance bool) decision {
	st := cur.Clone()
	var reasons []string
	leaderChanged := false
	setLeader := func(id int32, why string) {
		if st.Leader != id {
			st.Leader = id
			leaderChanged = true
		}
		reasons = append(reasons, why)
	}

	// Reassignment.
	if st.TargetReplicas != nil {
		for _, r := range st.TargetReplicas {
			if !slices.Contains(st.Replicas, r) {
				st.Replicas = append(st.Replicas, r)
				reasons = append(reasons, "reassignment: add replica")
			}
		}
		if allIn(st.TargetReplicas, st.ISR) {
			st.Replicas = slices.Clone(st.TargetReplicas)
			st.ISR = slices.DeleteFunc(st.ISR, func(r int32) bool { return !slices.Contains(st.TargetReplicas, r) })
			st.TargetReplicas = nil
			if st.Leader != -1 && !slices.Contains(st.Replicas, st.Leader) {
				next := int32(-1)
				for _, r := range st.Replicas {
					if live.eligible(r) && slices.Contains(st.ISR, r) {
						next = r
						break
					}
				}
				setLeader(next, "reassignment: leader not in target")
			}
			reasons = append(reasons, "reassignment complete")
		}
	}

	// Leader gone or shutting down.
	if st.Leader != -1 && !live.eligible(st.Leader) {
		old := st.Leader
		dead := !live.alive(old)
		if c := firstEligible(st.Replicas, st.ISR, live, old); c != -1 {
			if dead {
				setLeader(c, "leader broker gone")
			} else {
				setLeader(c, "controlled shutdown")
			}
			st.ISR = slices.DeleteFunc(st.ISR, func(r int32) bool { return r == old })
		} else if dead && unclean {
			if c := firstEligible(st.Replicas, nil, live, old); c != -1 {
				setLeader(c, "unclean election: leader broker gone")
				st.ISR = []int32{c}
			} else {
				setLeader(-1, "leader broker gone, no live replica")
			}
		} else if dead {
			setLeader(-1, "leader broker gone, no in-sync replica")
		}
		// A shutting-down leader with no other in-sync replica keeps its
		// leadership (as in Kafka: nothing can take over), so it can still
		// upload its last segments under its epoch before it exits; the
		// partition goes leaderless when its lease ends.
	}

	// Followers gone or shutting down leave the ISR (never below one member;
	// a leaderless partition keeps its ISR so its last member can return).
	if st.Leader != -1 {
		for _, r := range slices.Clone(st.ISR) {
			if r != st.Leader && !live.eligible(r) && len(st.ISR) > 1 {
				st.ISR = slices.DeleteFunc(st.ISR, func(x int32) bool { return x == r })
				reasons = append(reasons, "follower gone or shutting down")
			}
		}
	}

	// Leaderless: an in-sync replica is back.
	if st.Leader == -1 {
		if c := firstEligible(st.Replicas, st.ISR, live, -1); c != -1 {
			setLeader(c, "in-sync replica available")
		} else if unclean {
			if c := firstEligible(st.Replicas, nil, live, -1); c != -1 {
				setLeader(c, "unclean election")
				st.ISR = []int32{c}
			}
		}
	}

	// Preferred leader.
	if rebalance && st.Leader != -1 {
		pref := st.Replicas[0]
		if pref != st.Leader && live.eligible(pref) && slices.Contains(st.ISR, pref) {
			setLeader(pref, "preferred leader rebalance")
		}
	}

	if leaderChanged {
		st.LeaderEpoch++
	}
	if equalState(cur, st) {
		return decision{next: cur}
	}
	return decision{next: st, reason: joinReasons(reasons)}
}

// firstEligible returns the first of replicas (preference order) that is
// eligible, in isr (when isr is non-nil) and not skip; -1 if none.
func firstEligible(replicas, isr []int32, live brokers, skip int32) int32 {
	for _, r := range replicas {
		if r != skip && live.eligible(r) && (isr == nil || slices.Contains(isr, r)) {
			return r
		}
	}
	return -1
}

func allIn(xs, set []int32) bool {
	for _, x := range xs {
		if !slices.Contains(set, x) {
			return false
		}
	}
	return true
}

func equalState(a, b metastore.PartitionState) bool {
	return a.Leader == b.Leader && a.LeaderEpoch == b.LeaderEpoch && slices.Equal(a.Replicas, b.Replicas) &&
		slices.Equal(a.ISR, b.ISR) && slices.Equal(a.TargetReplicas, b.TargetReplicas) &&
		(a.TargetReplicas == nil) == (b.TargetReplicas == nil)
}

func joinReasons(rs []string) string {
	rs = slices.Compact(rs)
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += "; "
		}
		out += r
	}
	return out
}
