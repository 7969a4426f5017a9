package controller

import (
	"maps"
	"slices"

	"github.com/strata-io/strata/metastore"
)

// A broker process that crashed and came back within the session timeout
// re-registers (on a new lease) before its old registration expires, so the
// controller never sees it disappear. It may have lost unflushed data, so it
// must not go on leading at the same leader epoch, nor count as in sync. Like
// Kafka's broker epochs, a new incarnation (metastore.BrokerInfo.Incarnation,
// the registration's lease) is handled as the broker disappearing and
// immediately returning.
//
// A broker counts as restarted for a partition state when it is the state's
// leader or in its ISR, is registered, and either
//
//  1. its registration is newer than the state (BrokerInfo.Revision >
//     PartitionState.Revision): the state was last written for an earlier
//     incarnation. This needs no memory, so it also holds for a controller
//     that has just taken over (and for restarts it never observed, e.g. when
//     the restarted broker was the controller itself). Once the leader, the
//     controller or ISR changes write a state after the registration, the
//     rule no longer applies; registrations updated later in place
//     (SetShuttingDown) only make it apply to brokers that are leaving
//     their leaderships and ISRs anyway; or
//  2. this controller saw its incarnation change while it was live
//     (pendingRestarts, in memory only), and has not yet written the
//     partition since. This also covers a restarted leader that wrote the
//     state (e.g. an ISR change) before the controller acted.
//
// On takeover, a controller accepts the incarnations in its first broker
// view as known; rule 1 covers what happened before.

// pendingRestarts holds, per partition, the restarted brokers (by node id,
// with the new incarnation) the controller has observed and not yet handled.
type pendingRestarts map[metastore.PartitionID]map[int32]int64

// add records that node restarted as incarnation inc, for every state in
// states that names it leader or ISR member.
func (p pendingRestarts) add(states map[metastore.PartitionID]metastore.PartitionState, node int32, inc int64) int {
	n := 0
	for id, st := range states {
		if st.Leader != node && !slices.Contains(st.ISR, node) {
			continue
		}
		if p[id] == nil {
			p[id] = map[int32]int64{}
		}
		p[id][node] = inc
		n++
	}
	return n
}

// forgetBroker drops node's entries (it is gone: the ordinary gone-broker
// handling applies).
func (p pendingRestarts) forgetBroker(node int32) {
	for id, m := range p {
		delete(m, node)
		if len(m) == 0 {
			delete(p, id)
		}
	}
}

// resolve drops the entries of handled that are still current.
func (p pendingRestarts) resolve(id metastore.PartitionID, handled map[int32]int64) {
	m := p[id]
	for node, inc := range handled {
		if m[node] == inc {
			delete(m, node)
		}
	}
	if len(m) == 0 {
		delete(p, id)
	}
}

// restartedIn returns the members of st (leader and ISR) that count as
// restarted (see the rules above), in ascending order, and the pending
// entries consulted.
func restartedIn(st metastore.PartitionState, live brokers, pending map[int32]int64) ([]int32, map[int32]int64) {
	var out []int32
	var used map[int32]int64
	members := append([]int32{st.Leader}, st.ISR...)
	for _, m := range members {
		b, ok := live[m]
		if !ok || slices.Contains(out, m) {
			continue
		}
		inc, isPending := pending[m]
		if isPending && inc == b.Incarnation {
			if used == nil {
				used = map[int32]int64{}
			}
			used[m] = inc
			out = append(out, m)
			continue
		}
		if b.Revision > st.Revision {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out, used
}

// decideRestart is decide for a partition some of whose members (leader or
// ISR) restarted: the outcome of those brokers disappearing (no unclean
// election) and then returning. A restarted leader is replaced by another
// live ISR member, or, when none is left, leads again; either way the
// epoch goes up by exactly one. Restarted followers leave the ISR (never
// emptying it) and rejoin through the leader once caught up.
func decideRestart(cur metastore.PartitionState, live brokers, restarted []int32, unclean, rebalance bool) decision {
	if len(restarted) == 0 {
		return decide(cur, live, unclean, rebalance)
	}
	gone := maps.Clone(live)
	for _, r := range restarted {
		delete(gone, r)
	}
	away := decide(cur, gone, false, false)
	back := decide(away.next, live, unclean, rebalance)
	// Once more, for what the returned leader's state implies (e.g. gone
	// followers leaving the ISR it regained).
	st := decide(back.next, live, unclean, false).next.Clone()
	if st.Leader != -1 {
		for _, r := range restarted {
			if r != st.Leader && len(st.ISR) > 1 {
				st.ISR = slices.DeleteFunc(st.ISR, func(x int32) bool { return x == r })
			}
		}
	}
	st.LeaderEpoch = cur.LeaderEpoch
	if st.Leader != cur.Leader || (cur.Leader != -1 && slices.Contains(restarted, cur.Leader)) {
		st.LeaderEpoch++
	}
	if equalState(cur, st) {
		return decision{next: cur}
	}
	reasons := []string{"broker restarted"}
	for _, d := range []decision{away, back} {
		if d.reason != "" {
			reasons = append(reasons, d.reason)
		}
	}
	return decision{next: st, reason: joinReasons(reasons)}
}
