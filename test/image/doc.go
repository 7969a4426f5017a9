// Package image tests the container image end to end: it starts Debian's
// Docker engine if none is running, builds the image with `make image`
// (FROM scratch, from this checkout's static binary), runs it, and connects
// a Kafka client to the broker inside.
package image
