package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetForLeaderEpoch: v2-4
//
// Behavior:
//   - For each partition returns the largest leader epoch at or below the
//     requested one and the offset where the next epoch starts (the log
//     end for the latest epoch), from the partition's epoch cache. Clients
//     use it to detect log truncation after a leader change.
//   - An unknown epoch gives leader epoch -1 and end offset -1;
//     CurrentLeaderEpoch beyond ours UNKNOWN_LEADER_EPOCH; unknown partitions
//     UNKNOWN_TOPIC_OR_PARTITION.
//
// Version notes:
//   - v2: current leader epoch; v3: replica id; v4: flexible
func init() { register(23, 2, 4, handleOffsetForLeaderEpoch) }

func handleOffsetForLeaderEpoch(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LeaderEpoch, sp.EndOffset = -1, -1
			p := b.partitionOf(rt.Topic, rp.Partition)
			switch {
			case p == nil:
				sp.ErrorCode = b.notHostedCode(b.topicByName(rt.Topic), rp.Partition)
			case !b.isLeader(p):
				sp.ErrorCode = notLeaderCode
			case epochRefused(p, rp.CurrentLeaderEpoch, &sp.ErrorCode):
			default:
				sp.LeaderEpoch, sp.EndOffset = p.log.EndOffsetForEpoch(rp.LeaderEpoch)
				if sp.LeaderEpoch < 0 {
					if e, end, ok := b.remoteEndOffsetForEpoch(p, rp.LeaderEpoch); ok {
						sp.LeaderEpoch, sp.EndOffset = e, end
					}
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return now(resp)
}
