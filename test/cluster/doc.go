// Package cluster holds the multi-broker acceptance tests: real strata
// processes on a 3-member etcd cluster (and MinIO where tiering matters),
// started by test/harness.StartCluster, under faults.
//
//   - safety_test.go: an idempotent acks=all producer to a 6-partition,
//     RF 3, min.insync.replicas=2 topic while partition leaders are
//     SIGKILLed (then restarted) or SIGSTOPped (then continued); every
//     acknowledged record must be in the log exactly once, at its
//     acknowledged offset, in order, and the produce unavailability after
//     each fault is reported.
//   - etcd_test.go: losing the etcd raft leader interrupts neither produce
//     nor consume.
//   - rejoin_test.go: a broker whose data directory is wiped rejoins the
//     ISR by copying no more than the un-uploaded tail from the leaders.
//
// The helpers shared by the tests are in producer_test.go (a producer of
// per-partition sequence numbers that records every acknowledgement) and
// verify_test.go (reads every partition back and checks it against the
// acknowledgements).
//
// Run with `go test ./test/cluster`; it needs etcd (and MinIO) as
// test/harness finds them and fails under CI when they are missing.
package cluster
