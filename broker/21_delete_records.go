package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteRecords: v0-2
//
// Behavior:
//   - Moves the partition's log start offset up to Offset (-1 means the
//     high watermark); segments wholly below it are deleted. The new log
//     start is persisted, so it survives restarts.
//   - An offset above the high watermark gets OFFSET_OUT_OF_RANGE; unknown
//     partitions UNKNOWN_TOPIC_OR_PARTITION. Moving backwards is a no-op
//     that reports the current log start.
//
// Version notes:
//   - v1: no schema change; v2: flexible
func init() { register(21, 0, 2, handleDeleteRecords) }

func handleDeleteRecords(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LowWatermark = -1
			p := b.partitionOf(rt.Topic, rp.Partition)
			offset := rp.Offset
			if p != nil && offset == -1 {
				offset = p.highWatermark()
			}
			if p == nil {
				sp.ErrorCode = b.notHostedCode(b.topicByName(rt.Topic), rp.Partition)
			} else if !b.isLeader(p) {
				sp.ErrorCode = notLeaderCode
			} else if offset > p.highWatermark() {
				sp.ErrorCode = kerr.OffsetOutOfRange.Code
			} else if start, err := p.log.DeleteRecords(offset); err != nil {
				if sp.ErrorCode = errorCode(err); sp.ErrorCode == kerr.KafkaStorageError.Code {
					b.log.Error("delete records", "topic", rt.Topic, "partition", rp.Partition, "err", err)
				}
			} else {
				sp.LowWatermark = start
				b.log.Info("deleted records", "topic", rt.Topic, "partition", rp.Partition, "log_start", start)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return now(resp)
}
