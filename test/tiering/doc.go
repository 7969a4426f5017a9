// Package tiering tests tiered storage end to end with real processes: a
// MinIO server, a strata broker uploading sealed segments to it, consumers
// reading cold data back, a broker rebuilt from object storage after its
// data directory is wiped, an object-store outage and a corrupted object.
package tiering
