// Package harness starts real broker processes for end-to-end tests and
// benchmarks: it builds the strata binary once per test process, starts it on
// free ports with its own data directory, waits until it answers Kafka
// ApiVersions, captures its output to a log file, and stops, kills or restarts
// it on demand.
//
// Setting STRATA_BIN uses a prebuilt strata binary. Setting
// STRATA_TEST_TARGET=kfake makes Start run franz-go's kfake (see
// ./kfakeserver) instead of strata, for developing suites before the broker
// works or for comparing against a reference; kfake persists to the data
// directory, so Restart keeps its state.
package harness
