// Package bridge is Strata's HTTP bridge: a JSON REST API, in the manner of
// Strimzi's Kafka Bridge, that lets HTTP clients produce to topics, inspect
// topics, partitions and offsets, and consume through consumer instances that
// are members of Kafka consumer groups.
//
// The bridge is a Kafka client of the cluster (franz-go): one shared producer
// client for every produce request and topic query, and one kgo client per
// consumer instance. It speaks only the Kafka protocol, so it works against
// any Kafka-compatible cluster; `strata serve` mounts Handler on --http-addr.
//
// Routes (all bodies and errors are JSON; errors are {"error_code": n,
// "message": "..."} with error_code equal to the HTTP status):
//
//	GET    /topics                                         topic names
//	GET    /topics/{topic}                                 partitions, replicas, configs
//	POST   /topics/{topic}                                 produce records
//	GET    /topics/{topic}/partitions                      partition metadata
//	GET    /topics/{topic}/partitions/{partition}          one partition
//	POST   /topics/{topic}/partitions/{partition}          produce to one partition
//	GET    /topics/{topic}/partitions/{partition}/offsets  beginning and end offsets
//	POST   /consumers/{group}                              create a consumer instance
//	DELETE /consumers/{group}/instances/{name}             delete it (leaves the group)
//	POST   /consumers/{group}/instances/{name}/subscription  subscribe to topics
//	GET    /consumers/{group}/instances/{name}/subscription  current subscription and assignment
//	DELETE /consumers/{group}/instances/{name}/subscription  unsubscribe
//	GET    /consumers/{group}/instances/{name}/records     poll (timeout, max_bytes)
//	POST   /consumers/{group}/instances/{name}/offsets     commit given offsets, or all consumed
//	POST   /consumers/{group}/instances/{name}/positions[/beginning|/end]  seek
//
// Record keys and values are embedded JSON (application/vnd.kafka.json.v2+json),
// base64 (application/vnd.kafka.binary.v2+json) or plain strings
// (application/vnd.kafka.text.v2+json); header values are always base64.
// Request bodies over Config.MaxRequestBytes get 413, malformed JSON 400,
// well-formed but invalid requests 422, unknown topics, partitions and consumer
// instances 404. Consumer instances unused for Config.ConsumerIdleTimeout are
// closed and forgotten.
package bridge
