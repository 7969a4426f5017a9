// Package compat is the client compatibility suite: one set of scenarios
// (admin, produce/consume under every codec, consumer groups across a broker
// restart, ListOffsets by timestamp, DeleteRecords) written once against the
// small Client interface and run with every client we claim to support:
// franz-go (kgo + kadm), sarama, segmentio/kafka-go and librdkafka.
//
// The librdkafka client drives the kcat binary (/usr/bin/kcat) for metadata,
// consuming, offsets-by-time queries and group consumption, and uses
// confluent-kafka-go (the same librdkafka, linked in through cgo) for what kcat
// cannot do: topic administration, DeleteRecords, and producing records with
// per-record timestamps and headers. See librdkafka.go for the per-method split.
//
// Run with `go test ./test/compat/`; the broker under test comes from
// test/harness (STRATA_TEST_TARGET=kfake runs the suite against kfake).
package compat
