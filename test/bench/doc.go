// Command bench is the benchmark harness behind `make bench`.
//
// It starts Strata and, as a reference, franz-go's kfake cluster, each as a
// process of its own, runs the same franz-go (kgo) produce/consume load
// against both (1 KiB records, 16 partitions, 1 MiB batches, 5 ms linger)
// and prints one table: produce and consume throughput, produce latency
// percentiles at a fixed offered rate, and the broker's peak RSS, for
// acks=1 and acks=all. Under the table it prints the machine's ceilings
// (fsynced sequential disk writes, one-stream loopback TCP) and the ratios
// the project targets.
//
// A second section measures tiered storage against a MinIO server it starts
// (issue 3): a consumer's cold and warm read of a data set that lives in the
// bucket next to plain ranged GETs of the same objects, produce throughput
// with tiering on and off, and p99 produce latency with and without a cold
// reader. Without MinIO it says so and skips; -tiering=false turns it off.
//
// The package owns only load generation, measurement and reporting; process
// start-up comes from test/harness.
package main
