// Package tiering owns the path from the local partition log to object
// storage: sealed-segment upload, the remote segment manifest, cold reads
// (ranged GETs through a chunk cache), remote retention and garbage
// collection. Its dependencies are metastore and objstore only.
package tiering
