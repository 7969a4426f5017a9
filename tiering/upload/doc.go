// Package upload moves sealed partition-log segments to object storage and
// keeps the remote side of a tiered partition in shape (issue 3, KIP-405).
//
// The broker Tracks every partition it leads. For each one a loop:
//
//   - on start, reads the partition's manifest and marks what it already
//     holds as uploaded (partlog.Log.MarkUploaded), so a restarted broker
//     neither re-uploads nor deletes anything it should not;
//   - rolls an active segment that has been idle for Config.IdleRollAfter so
//     quiet partitions reach object storage too;
//   - uploads each sealed, not yet uploaded segment as one object
//     (segment.Write checks the segment and builds the trailer; the body is
//     the segment file followed by that trailer, seekable, so backends send
//     it without another copy), commits it
//     to the manifest guarded by the leader epoch, then marks it uploaded so
//     local retention may delete it; a deposed leader's (ErrFenced) or
//     otherwise uncommitted object is deleted again;
//   - applies total retention (retention.ms by max timestamp, retention.bytes
//     over remote plus un-uploaded local bytes, and the log start moved by
//     DeleteRecords) on the remote side: manifest entries first, objects
//     second, then partlog.Log.AdvanceLogStart;
//   - garbage-collects objects under the partition's prefix that the
//     manifest does not know and that are older than Config.OrphanMinAge
//     (uploads whose commit never happened, deletes that failed).
//
// A new leader's segments are cut elsewhere than its predecessor's, so its
// first sealed segment usually straddles the remote log end: only its part
// from the first batch above the end is uploaded (segment.TailFrom), and
// segments wholly below it are just marked uploaded. A partition that
// implements HighWatermarker uploads only segments wholly below its high
// watermark, so object storage never holds records a new leader lacks.
// Every Config.SweepInterval, Sweep collects the orphans of the partitions
// the uploader does not track (leaderships that moved, deleted topics);
// for a deleted topic (Config.Topics) it also removes the manifest entries
// an upload committed after the topic's were deleted, and every object.
//
// Uploads across all partitions share a bounded pool (Config.Concurrency).
// They yield to produce: while a tracked partition took appends within
// Config.BusyWindow (Busy), sealed segments wait until the broker's backlog
// reaches Config.DeferWhileBusyBytes, and past that only one uploads at a
// time until produce pauses.
// Failures back off exponentially with jitter; nothing is deleted locally
// until the manifest holds it, so an unreachable store never loses data.
// Accepting reports when a partition's un-uploaded bytes pass
// Config.MaxLocalBacklogBytes, so the broker can answer produce with a
// retriable error. Flush rolls and uploads everything (graceful shutdown).
package upload
