// Package cli implements strata's admin and perf subcommands: topic, group,
// cluster, produce, consume and perf. They speak only the Kafka protocol
// (franz-go's kgo and kadm), so they work against Strata and against any other
// Kafka-compatible cluster.
//
// Every command takes --brokers (default 127.0.0.1:9092, env STRATA_BROKERS),
// --output table|json and --timeout. Results go to stdout, errors to stderr.
// Exit codes: 0 success, 1 an operation failed (unknown topic, broker
// unreachable, a Kafka error), 2 a usage error (bad flags or arguments).
package cli
