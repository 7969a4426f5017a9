// Package wire owns Kafka's framing: reading size-prefixed request frames
// under a maximum size, parsing request headers (v0-v2, including the
// flexible-version tagged fields of KIP-482) and encoding response frames
// with the matching response header version. It knows nothing about what
// requests mean; the broker's API registry decides that.
package wire
