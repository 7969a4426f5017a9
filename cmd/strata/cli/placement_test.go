package cli

import (
	"slices"
	"testing"
)

func rackOf(nodes []node, id int32) string {
	for _, n := range nodes {
		if n.id == id {
			return n.rack
		}
	}
	return "?"
}

// apply returns parts with the plan's assignments substituted.
func apply(parts, plan []assignment) []assignment {
	out := slices.Clone(parts)
	for _, a := range plan {
		for i := range out {
			if out[i].topic == a.topic && out[i].partition == a.partition {
				out[i] = a
			}
		}
	}
	return out
}

func TestPlanDrain(t *testing.T) {
	nodes := []node{{1, "a"}, {2, "b"}, {3, "c"}, {4, "a"}}
	parts := []assignment{
		{"t", 0, []int32{1, 2}},
		{"t", 1, []int32{2, 3}},
		{"t", 2, []int32{3, 1}},
		{"u", 0, []int32{1, 2, 3}},
	}
	plan, err := planDrain(nodes, parts, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 3 {
		t.Fatalf("plan %v: want the 3 partitions on broker 1", plan)
	}
	for _, a := range apply(parts, plan) {
		if slices.Contains(a.replicas, 1) {
			t.Fatalf("%v still on broker 1", a)
		}
		seen := map[int32]bool{}
		for _, r := range a.replicas {
			if seen[r] {
				t.Fatalf("%v: duplicate replica", a)
			}
			seen[r] = true
		}
	}
	// Rack spread: t/0 [1(a),2(b)] must not go to 4 if a rack-new broker
	// exists: 3 is rack c. u/0 [1,2,3] has only 4 left (rack a, unused).
	for _, a := range plan {
		switch a.topic + string(rune('0'+a.partition)) {
		case "t0":
			if !slices.Equal(a.replicas, []int32{3, 2}) && !slices.Equal(a.replicas, []int32{4, 2}) {
				t.Fatalf("t/0 -> %v", a.replicas)
			}
			if rackOf(nodes, a.replicas[0]) == "b" {
				t.Fatalf("t/0 put two replicas in rack b: %v", a.replicas)
			}
		case "u0":
			if !slices.Equal(a.replicas, []int32{4, 2, 3}) {
				t.Fatalf("u/0 -> %v, want [4 2 3] (leader position kept)", a.replicas)
			}
		}
	}
	// Nowhere to go.
	if _, err := planDrain(nodes[:3], []assignment{{"x", 0, []int32{1, 2, 3}}}, 1); err == nil {
		t.Fatal("drain with no spare broker succeeded")
	}
	// Nothing on the broker.
	if plan, err := planDrain(nodes, parts, 9); err != nil || len(plan) != 0 {
		t.Fatalf("drain of an empty broker: %v %v", plan, err)
	}
}

func TestPlanRebalance(t *testing.T) {
	// Three brokers hold everything; broker 4 was just added.
	nodes := []node{{1, "a"}, {2, "b"}, {3, "c"}, {4, "a"}}
	var parts []assignment
	for p := int32(0); p < 12; p++ {
		parts = append(parts, assignment{"t", p, []int32{1 + p%3, 1 + (p+1)%3}})
	}
	plan := planRebalance(nodes, parts)
	after := apply(parts, plan)
	load := loads(nodes, after)
	lo, hi := 1<<30, 0
	for _, n := range nodes {
		lo, hi = min(lo, load[n.id]), max(hi, load[n.id])
	}
	if hi-lo > 1 {
		t.Fatalf("loads %v after plan %v", load, plan)
	}
	// 24 replicas over 4 brokers: broker 4 gets 6, so 6 moves, each in its
	// own partition (a partition is changed at most once per replica moved).
	moves := 0
	for i, a := range after {
		for j, r := range a.replicas {
			if r != parts[i].replicas[j] {
				moves++
			}
		}
		if len(a.replicas) != 2 || a.replicas[0] == a.replicas[1] {
			t.Fatalf("bad assignment %v", a)
		}
	}
	if moves != 6 {
		t.Fatalf("%d replica moves, want 6 (minimal)", moves)
	}
	// Already balanced: no moves.
	if again := planRebalance(nodes, after); len(again) != 0 {
		t.Fatalf("second rebalance moves %v", again)
	}
}

func TestParseBrokerList(t *testing.T) {
	got, err := parseBrokerList("1, 2,3")
	if err != nil || !slices.Equal(got, []int32{1, 2, 3}) {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := parseBrokerList("1,x"); err == nil {
		t.Fatal("bad id accepted")
	}
}
