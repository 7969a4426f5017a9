// Package replica owns the follower side of replication: a Manager runs one
// fetcher goroutine and one TCP connection per leader broker, fetching all
// of the partitions this broker follows from that leader in one Kafka Fetch
// request (v12, ReplicaID set, full fetches only) and appending the batches
// exactly as the leader stored them (Partition.AppendReplica).
//
// Before fetching a partition (a new assignment, or after an epoch error
// or a diverging-epoch answer) the fetcher truncates the local log by
// leader epoch (KIP-101, KIP-279): it asks the leader with
// OffsetForLeaderEpoch for the end of the follower's latest epoch and cuts
// the log there, repeating with the new latest epoch until both agree.
// Fetch responses may also carry a DivergingEpoch (KIP-320), handled by the
// same rule. OFFSET_OUT_OF_RANGE is resolved with the leader's log start
// and end (ListOffsets with ReplicaID set): a follower behind the leader's
// log start restarts its log there, one ahead of the leader's end is cut.
//
// The broker decides what to follow (Follow, Unfollow); leader-side
// replication (high watermark, ISR) lives in package broker. The package
// speaks the protocol with a tiny request/response client over net.Conn
// using kmsg for the message bodies.
package replica
