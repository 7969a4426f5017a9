package replica

// truncation is where to cut a follower's log and whether the answer is
// final (done) or the follower must ask again with its new latest epoch.
type truncation struct {
	offset int64
	done   bool
}

// epochEnd answers OffsetForLeaderEpoch against the local log: the largest
// local epoch <= epoch and the offset where it ends (partlog semantics).
type epochEnd func(epoch int32) (int32, int64)

// decideTruncation applies Kafka's follower rule (KIP-101 / KIP-279, also
// used for KIP-320 diverging epochs) to the leader's answer (leaderEpoch,
// leaderEnd) for the follower's latest epoch. leo is the local log end.
//
//   - leaderEnd undefined (-1): the leader knows no epoch at or below ours
//     (an empty leader, or one whose log was reset). There is nothing to
//     compare against, so nothing is cut here; a fetch past the leader's end
//     then gets OFFSET_OUT_OF_RANGE and is cut to the leader's log end.
//   - leaderEpoch undefined (-1) with a defined end: cut to the end offset.
//   - otherwise look the leader's epoch up locally. If we know the same
//     epoch, cut to the smaller of both ends: done. If our largest epoch at
//     or below it is older, cut to where that one ends and ask again (the
//     leader may have written epochs we never saw). If we know nothing that
//     old, the leader's end is the answer.
//
// The offset never exceeds leo.
func decideTruncation(leaderEpoch int32, leaderEnd int64, local epochEnd, leo int64) truncation {
	if leaderEnd < 0 {
		return truncation{offset: leo, done: true}
	}
	if leaderEpoch < 0 {
		return truncation{offset: min(leaderEnd, leo), done: true}
	}
	e, end := local(leaderEpoch)
	switch {
	case e < 0 || end < 0:
		return truncation{offset: min(leaderEnd, leo), done: true}
	case e != leaderEpoch:
		return truncation{offset: min(end, leo), done: false}
	default:
		return truncation{offset: min(end, leaderEnd, leo), done: true}
	}
}
