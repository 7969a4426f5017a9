// Package controller runs the cluster controller: one broker at a time,
// elected through etcd (metastore.Store.Campaign), owns every partition's
// replica assignment and leadership.
//
// While elected, the controller keeps an in-memory view of the live brokers
// (their registrations on etcd leases), the topics and the partition states,
// all fed by etcd watches, and reconciles it after every change:
//
//   - partitions without a state (a new topic, CreatePartitions, or a topic
//     from a single-node cluster) get replicas assigned rack-aware and
//     round-robin (placement.go), leader = first replica, ISR = replicas;
//   - when a broker's registration disappears, partitions it led get a new
//     leader from the ISR in preference order (or none, unless the topic
//     allows unclean leader election), and it leaves the ISRs it was in;
//   - a broker that re-registers as a new incarnation (a restarted process,
//     or a session re-created after a lost lease) while still registered is
//     handled as gone and immediately returned: its leaderships move to other
//     ISR members at epoch+1 (or it leads again at epoch+1 when it alone is
//     in sync) and it leaves ISRs; restart.go has the rules, including what
//     a newly elected controller does about restarts it never saw;
//   - a broker in controlled shutdown (registration marked ShuttingDown) has
//     its leaderships moved to other ISR members and leaves ISRs;
//   - a partition with no leader gets one back when an ISR member returns;
//   - every LeaderRebalanceInterval, leadership goes back to the preferred
//     replica (the first) when it is alive and in sync;
//   - reassignments (TargetReplicas) first add the new replicas, then switch
//     to the target set once it is all in sync;
//   - states of deleted topics are removed.
//
// The decisions are pure functions (decide.go, placement.go, plan.go); every
// write goes through metastore.Store.PutPartitionStatesAs, a compare-and-swap
// that also fails once this node is no longer controller, so a deposed
// controller can never overwrite its successor. Each leadership change bumps
// the partition's leader epoch (which also fences manifest commits).
package controller
