package group

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func describe(t *testing.T, c *Coordinator, version int16, groups ...string) []kmsg.DescribeGroupsResponseGroup {
	t.Helper()
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.SetVersion(version)
	req.Groups = groups
	ch := make(chan *kmsg.DescribeGroupsResponse, 1)
	c.DescribeGroups(req, func(r *kmsg.DescribeGroupsResponse) { ch <- r })
	r := await(t, ch)
	if len(r.Groups) != len(groups) {
		t.Fatalf("described %d groups, want %d", len(r.Groups), len(groups))
	}
	return r.Groups
}

// commitOne commits one offset as a member (or simply, with gen -1 and no id).
func commitOne(t *testing.T, c *Coordinator, group, member string, gen int32, topic string, part int32, off int64) int16 {
	t.Helper()
	r := commit(t, c, 8, group, member, gen, nil, map[string]map[int32]int64{topic: {part: off}}, "")
	return r.Topics[0].Partitions[0].ErrorCode
}

func commit(t *testing.T, c *Coordinator, version int16, group, member string, gen int32, instance *string, offs map[string]map[int32]int64, meta string) *kmsg.OffsetCommitResponse {
	t.Helper()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.SetVersion(version)
	req.Group, req.MemberID, req.Generation, req.InstanceID = group, member, gen, instance
	for topic, parts := range offs {
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = topic
		for p, o := range parts {
			rp := kmsg.NewOffsetCommitRequestTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata = p, o, 7, strPtr(meta)
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	ch := make(chan *kmsg.OffsetCommitResponse, 1)
	c.OffsetCommit(req, func(r *kmsg.OffsetCommitResponse) { ch <- r })
	return await(t, ch)
}
