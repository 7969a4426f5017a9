// Package tiering owns the path from the local partition log to object
// storage: sealed-segment upload, the remote segment manifest, cold reads
// (ranged GETs through a chunk cache), remote retention and garbage
// collection. Its dependencies are metastore and objstore only.
//
// Subpackages:
//   - segment: the object format of one uploaded segment (name, writer,
//     footer, index lookups). The manifest entries that say which objects are
//     committed live in metastore (RemoteSegment, CommitSegment).
package tiering
