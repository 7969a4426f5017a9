// Package cli tests the strata admin and perf subcommands end to end: each
// test builds the real strata binary, starts a real broker with
// test/harness, runs the commands as processes and checks their stdout,
// stderr, --output json and exit codes, including the error cases (unknown
// topic or group, usage errors, a broker that is down).
package cli
