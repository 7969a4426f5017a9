// Package broker is the Kafka protocol server: the listener, per-connection
// request pipelining, the API registry that is the only source of the
// ApiVersions response, and one file per Kafka API family. Partition logs
// live in broker/partlog, group coordination in broker/group and framing in
// broker/wire.
package broker
