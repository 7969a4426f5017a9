package broker

import (
	"time"

	"github.com/strata-io/strata/broker/group"
	"github.com/strata-io/strata/metastore"
)

// Group coordinators are spread over the live brokers that are not shutting
// down: a group's coordinator is the rendezvous-hash owner of its id
// (group.Owner), so a broker leaving or arriving moves only its own groups.

// coordinatorNodes returns the brokers eligible to coordinate groups, sorted
// by node id: the live ones not shutting down, or, when every live broker is
// shutting down (a single broker draining), all live ones.
func (b *Broker) coordinatorNodes() ([]group.Node, map[int32]metastore.BrokerInfo) {
	live := b.liveBrokers()
	nodes := make([]group.Node, 0, len(live))
	byID := make(map[int32]metastore.BrokerInfo, len(live))
	for _, draining := range []bool{false, true} {
		for _, bi := range live {
			if bi.ShuttingDown && !draining {
				continue
			}
			nodes = append(nodes, group.Node{ID: bi.NodeID, Incarnation: bi.Incarnation})
			byID[bi.NodeID] = bi
		}
		if len(nodes) > 0 {
			break
		}
	}
	return nodes, byID
}

// viewWait bounds how long FindCoordinator waits for the first broker list
// of a just-started broker.
const viewWait = 2 * time.Second

// groupCoordinator returns the broker coordinating the group key, or false
// when no eligible broker is known yet. Right after start, before the
// broker watch delivered its first list, it waits for it (bounded).
func (b *Broker) groupCoordinator(key string) (metastore.BrokerInfo, bool) {
	nodes, byID := b.coordinatorNodes()
	for deadline := time.Now().Add(viewWait); len(nodes) == 0 && time.Now().Before(deadline); {
		// Nothing known yet: the first broker list is still on its way.
		time.Sleep(10 * time.Millisecond)
		nodes, byID = b.coordinatorNodes()
	}
	if len(nodes) == 0 {
		return metastore.BrokerInfo{}, false
	}
	bi, ok := byID[group.Owner(key, nodes)]
	return bi, ok
}

// coordinatorsChanged is called after the set of live brokers changed: the
// group coordinator drops the groups it no longer owns and loads the ones
// it gained. While this broker's registration may be lost (paused, cut off
// from etcd) it serves and writes no group.
func (b *Broker) coordinatorsChanged() {
	if b.groups == nil {
		return
	}
	nodes, _ := b.coordinatorNodes()
	b.groups.Place(b.cfg.NodeID, nodes, b.sessionValid)
}
