// Package crash holds the SIGKILL durability test: an idempotent acks=all
// producer writes keyed, numbered records to a real strata broker while
// the test kills the broker process with SIGKILL at random moments and
// restarts it; afterwards every acknowledged record must be in the log
// exactly once, at its acknowledged offset, and no record may appear twice.
//
// The package has no non-test code; run it with go test ./test/crash/.
package crash
