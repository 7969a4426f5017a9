package broker

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeLogDirs: v1-5
//
// Behavior:
//   - One log dir, the data dir, with the on-disk size of each requested
//     partition (all partitions when Topics is null). OffsetLag is 0: the
//     log is never behind itself. Unknown partitions are left out, as Kafka
//     does. v4+ report total and usable bytes of the file system.
//
// Version notes:
//   - v2: flexible; v3: top-level error code; v4: total/usable bytes
func init() { register(35, 1, 5, handleDescribeLogDirs) }

func handleDescribeLogDirs(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DescribeLogDirsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	dir := kmsg.NewDescribeLogDirsResponseDir()
	dir.Dir = b.cfg.DataDir
	dir.TotalBytes, dir.UsableBytes = diskSpace(b.cfg.DataDir)
	addTopic := func(t *topic, parts []int32) {
		dt := kmsg.NewDescribeLogDirsResponseDirTopic()
		dt.Topic = t.name
		for _, id := range parts {
			p := b.partitionOf(t.name, id)
			if p == nil {
				continue
			}
			dp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
			dp.Partition = id
			dp.Size = p.log.Size()
			dt.Partitions = append(dt.Partitions, dp)
		}
		if len(dt.Partitions) > 0 {
			dir.Topics = append(dir.Topics, dt)
		}
	}
	if req.Topics == nil {
		ts := b.snapshotTopics()
		sort.Slice(ts, func(i, j int) bool { return ts[i].name < ts[j].name })
		for _, t := range ts {
			ids := make([]int32, t.numPartitions(b))
			for i := range ids {
				ids[i] = int32(i)
			}
			addTopic(t, ids)
		}
	} else {
		for _, rt := range req.Topics {
			if t := b.topicByName(rt.Topic); t != nil {
				addTopic(t, rt.Partitions)
			}
		}
	}
	resp.Dirs = append(resp.Dirs, dir)
	return now(resp)
}
