package cli

import (
	"cmp"
	"fmt"
	"slices"
)

// node is a live broker as the planners see it.
type node struct {
	id   int32
	rack string
}

// assignment is one partition's replica list (preference order).
type assignment struct {
	topic     string
	partition int32
	replicas  []int32
}

func (a assignment) String() string {
	return fmt.Sprintf("%s/%d [%s]", a.topic, a.partition, joinInt32(a.replicas))
}

// loads counts the replicas each live broker holds.
func loads(nodes []node, parts []assignment) map[int32]int {
	out := make(map[int32]int, len(nodes))
	for _, n := range nodes {
		out[n.id] = 0
	}
	for _, p := range parts {
		for _, r := range p.replicas {
			if _, ok := out[r]; ok {
				out[r]++
			}
		}
	}
	return out
}

// racksOf returns the racks of replicas other than skip.
func racksOf(nodes []node, replicas []int32, skip int32) map[string]bool {
	rackOf := map[int32]string{}
	for _, n := range nodes {
		rackOf[n.id] = n.rack
	}
	out := map[string]bool{}
	for _, r := range replicas {
		if r != skip {
			out[rackOf[r]] = true
		}
	}
	return out
}

// pickReplacement returns the broker that should take over replica from in
// replicas: not already a replica and not excluded, preferring a rack no
// other replica uses, then the least loaded, then the lowest id. ok is false
// when no broker qualifies.
func pickReplacement(nodes []node, load map[int32]int, replicas []int32, from int32, exclude func(int32) bool) (best int32, ok bool) {
	used := racksOf(nodes, replicas, from)
	var bestNode node
	for _, n := range nodes {
		if n.id == from || slices.Contains(replicas, n.id) || (exclude != nil && exclude(n.id)) {
			continue
		}
		if !ok || better(n, bestNode, used, load) {
			bestNode, ok = n, true
		}
	}
	return bestNode.id, ok
}

func better(a, b node, usedRacks map[string]bool, load map[int32]int) bool {
	ar, br := usedRacks[a.rack], usedRacks[b.rack]
	if ar != br {
		return !ar
	}
	if c := cmp.Compare(load[a.id], load[b.id]); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

// planDrain moves every replica off broker drain: each is replaced, at the
// same position in the replica list, by another live broker chosen by
// pickReplacement. It returns the new assignments of the partitions that
// change, or an error naming a partition that has nowhere to go.
func planDrain(nodes []node, parts []assignment, drain int32) ([]assignment, error) {
	var others []node
	for _, n := range nodes {
		if n.id != drain {
			others = append(others, n)
		}
	}
	load := loads(others, parts)
	var out []assignment
	for _, p := range parts {
		i := slices.Index(p.replicas, drain)
		if i < 0 {
			continue
		}
		to, ok := pickReplacement(others, load, p.replicas, drain, nil)
		if !ok {
			return nil, fmt.Errorf("partition %s: no other live broker can take the replica on broker %d", p, drain)
		}
		next := slices.Clone(p.replicas)
		next[i] = to
		load[to]++
		out = append(out, assignment{topic: p.topic, partition: p.partition, replicas: next})
	}
	return out, nil
}

// planRebalance spreads replicas evenly over nodes with few moves: while the
// most loaded broker holds at least two more replicas than the least loaded
// one, it moves one replica from a most loaded broker to the least loaded
// broker that can take it (not already a replica; a move that would put two
// replicas in one rack is taken only when no rack-safe move exists). Replicas
// on brokers not in nodes are left alone (drain them first). It returns the
// new assignments of the partitions that change.
func planRebalance(nodes []node, parts []assignment) []assignment {
	if len(nodes) < 2 {
		return nil
	}
	cur := make([]assignment, len(parts))
	for i, p := range parts {
		cur[i] = assignment{topic: p.topic, partition: p.partition, replicas: slices.Clone(p.replicas)}
	}
	load := loads(nodes, cur)
	changed := map[int]bool{}
	byLoad := func(desc bool) []node {
		ns := slices.Clone(nodes)
		slices.SortStableFunc(ns, func(a, b node) int {
			c := cmp.Compare(load[a.id], load[b.id])
			if desc {
				c = -c
			}
			return cmp.Or(c, cmp.Compare(a.id, b.id))
		})
		return ns
	}
	// Each move lowers the sum of squared loads, so this terminates; the
	// bound is a guard.
	for step := 0; step < 100000; step++ {
		moved := false
		for _, src := range byLoad(true) {
			for _, dst := range byLoad(false) {
				if load[src.id]-load[dst.id] < 2 {
					continue
				}
				if i, p := movable(nodes, cur, src.id, dst); i >= 0 {
					cur[i].replicas[p] = dst.id
					load[src.id]--
					load[dst.id]++
					changed[i] = true
					moved = true
					break
				}
			}
			if moved {
				break
			}
		}
		if !moved {
			break
		}
	}
	var out []assignment
	for i := range cur {
		if changed[i] && !slices.Equal(cur[i].replicas, parts[i].replicas) {
			out = append(out, cur[i])
		}
	}
	return out
}

// movable finds a partition with a replica on src that dst can take: the
// index of the partition and the position of the replica, or -1. It prefers
// a move that keeps the partition's replicas in distinct racks, and among
// those a follower (not the preferred leader) so leadership moves less.
func movable(nodes []node, parts []assignment, src int32, dst node) (int, int) {
	bestI, bestPos, bestScore := -1, -1, -1
	for i, p := range parts {
		pos := slices.Index(p.replicas, src)
		if pos < 0 || slices.Contains(p.replicas, dst.id) {
			continue
		}
		score := 0
		if !racksOf(nodes, p.replicas, src)[dst.rack] {
			score += 2
		}
		if pos > 0 {
			score++
		}
		if score > bestScore {
			bestI, bestPos, bestScore = i, pos, score
		}
	}
	return bestI, bestPos
}
