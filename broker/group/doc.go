// Package group is the consumer-group coordinator: Kafka's classic group
// protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), static membership,
// committed offsets (OffsetCommit, OffsetFetch, OffsetDelete) and the group
// admin APIs (DescribeGroups, ListGroups, DeleteGroups).
//
// The package owns the group state machine (Empty, PreparingRebalance,
// CompletingRebalance, Stable, Dead), its timers (session, rebalance and
// initial rebalance delay), the in-memory committed offsets and their
// persistence through the narrow Store interface. It does not decode or encode
// frames: the broker decodes requests with kmsg and hands them to a
// Coordinator, which answers through a callback.
//
// Concurrency: every group has its own mutex; the coordinator-wide lock only
// guards the map of groups and is never held while a group lock is taken.
// Store writes of one group are applied in order by a per-group queue, so a
// later commit never lands before an earlier one.
package group
