package controller

import (
	"cmp"
	"hash/fnv"
	"slices"

	"github.com/strata-io/strata/metastore"
)

// rackAlternated orders brokers so that consecutive entries are in different
// racks where possible: racks sorted by name, brokers by id within a rack,
// then one broker from each rack in turn (Kafka's rack-alternated list).
// Brokers without a rack form their own group.
func rackAlternated(bs []metastore.BrokerInfo) []metastore.BrokerInfo {
	byRack := map[string][]metastore.BrokerInfo{}
	for _, b := range bs {
		byRack[b.Rack] = append(byRack[b.Rack], b)
	}
	racks := make([]string, 0, len(byRack))
	for r, list := range byRack {
		slices.SortFunc(list, func(a, b metastore.BrokerInfo) int { return cmp.Compare(a.NodeID, b.NodeID) })
		racks = append(racks, r)
	}
	slices.Sort(racks)
	out := make([]metastore.BrokerInfo, 0, len(bs))
	for i := 0; len(out) < len(bs); i++ {
		for _, r := range racks {
			if i < len(byRack[r]) {
				out = append(out, byRack[r][i])
			}
		}
	}
	return out
}

// topicSeed derives the per-topic start offsets from the topic id, so the
// assignment of a topic's partitions is stable and different topics start
// on different brokers.
func topicSeed(id [16]byte, n int) (start, shift int) {
	h := fnv.New64a()
	h.Write(id[:])
	v := h.Sum64()
	return int(v % uint64(n)), int((v >> 32) % uint64(n))
}

// assignReplicas picks rf replicas (capped at the broker count) for
// partition p of the topic with the given id, from the eligible brokers:
// leaders go round-robin over a rack-alternated broker list from a per-topic
// offset; followers follow the leader at a shift that grows every full round,
// skipping brokers in racks already used while unused racks remain.
// It returns nil if there are no brokers.
func assignReplicas(topicID [16]byte, p int32, rf int, bs []metastore.BrokerInfo) []int32 {
	n := len(bs)
	if n == 0 || rf < 1 {
		return nil
	}
	rf = min(rf, n)
	list := rackAlternated(bs)
	start, shift := topicSeed(topicID, n)
	pi := int(p)
	shift += pi / n
	first := (pi + start) % n
	replicas := []int32{list[first].NodeID}
	racks := map[string]bool{list[first].Rack: true}
	nRacks := len(countRacks(list))
	for j := 0; len(replicas) < rf; j++ {
		idx := (first + 1 + (shift+j)%max(n-1, 1)) % n
		// Walk forward from idx to the first broker not yet chosen, preferring
		// an unused rack while there is one.
		chosen := -1
		for k := 0; k < n && chosen < 0; k++ {
			c := list[(idx+k)%n]
			if slices.Contains(replicas, c.NodeID) {
				continue
			}
			if len(racks) < nRacks && racks[c.Rack] {
				continue
			}
			chosen = (idx + k) % n
		}
		if chosen < 0 {
			for k := 0; k < n && chosen < 0; k++ {
				if c := list[(idx+k)%n]; !slices.Contains(replicas, c.NodeID) {
					chosen = (idx + k) % n
				}
			}
		}
		replicas = append(replicas, list[chosen].NodeID)
		racks[list[chosen].Rack] = true
	}
	return replicas
}

func countRacks(bs []metastore.BrokerInfo) map[string]bool {
	out := map[string]bool{}
	for _, b := range bs {
		out[b.Rack] = true
	}
	return out
}
