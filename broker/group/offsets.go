package group

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit serves an OffsetCommit. Valid offsets are visible to
// OffsetFetch as soon as this returns; done is called after the one Store
// write for the request. A failed write answers COORDINATOR_NOT_AVAILABLE
// (retriable) and undoes the in-memory commit.
func (c *Coordinator) OffsetCommit(req *kmsg.OffsetCommitRequest, done func(*kmsg.OffsetCommitResponse)) {
	version := req.GetVersion()
	resp := kmsg.NewPtrOffsetCommitResponse()
	codes := make([][]int16, len(req.Topics))
	for i, t := range req.Topics {
		codes[i] = make([]int16, len(t.Partitions))
	}
	reply := func() {
		for i, t := range req.Topics {
			rt := kmsg.NewOffsetCommitResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			for j, p := range t.Partitions {
				rp := kmsg.NewOffsetCommitResponseTopicPartition()
				rp.Partition = p.Partition
				rp.ErrorCode = codes[i][j]
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		done(resp)
	}
	setAll := func(code int16) {
		for i := range codes {
			for j := range codes[i] {
				if codes[i][j] == 0 {
					codes[i][j] = code
				}
			}
		}
	}

	// Per-partition validation first.
	now := time.Now().UnixMilli()
	offs := make(map[tp]Offset)
	for i, t := range req.Topics {
		for j, p := range t.Partitions {
			switch {
			case p.Metadata != nil && len(*p.Metadata) > c.cfg.MaxMetadataBytes:
				codes[i][j] = kerr.OffsetMetadataTooLarge.Code
			case !c.cfg.TopicPartitionExists(t.Topic, p.Partition):
				codes[i][j] = kerr.UnknownTopicOrPartition.Code
			default:
				o := Offset{Offset: p.Offset, LeaderEpoch: -1, CommitTimestamp: now}
				if version >= 6 {
					o.LeaderEpoch = p.LeaderEpoch
				}
				if p.Metadata != nil {
					o.Metadata = *p.Metadata
				}
				offs[tp{t.Topic, p.Partition}] = o
			}
		}
	}

	generation, memberID := req.Generation, req.MemberID
	if version < 1 {
		generation, memberID = -1, ""
	}
	var instanceID *string
	if version >= 7 {
		instanceID = req.InstanceID
	}
	simple := generation < 0 && memberID == "" && instanceID == nil

	g, gcode := c.lockGroup(req.Group, simple)
	if g == nil {
		switch {
		case gcode != 0:
			setAll(gcode)
		case generation >= 0:
			// Not a group we know: a commit from an older generation.
			setAll(kerr.IllegalGeneration.Code)
		default:
			setAll(kerr.UnknownMemberID.Code)
		}
		reply()
		return
	}
	defer g.unlock()
	if code := g.validateCommit(generation, memberID, instanceID, simple); code != 0 {
		setAll(code)
		g.later(reply)
		return
	}
	if m := g.members[memberID]; m != nil {
		g.heartbeat(m)
	}
	if len(offs) == 0 {
		g.later(reply)
		return
	}
	prev := make(map[tp]Offset, len(offs))
	had := make(map[tp]bool, len(offs))
	stored := make(map[OffsetKey]Offset, len(offs))
	for k, o := range offs {
		prev[k], had[k] = g.offsets[k]
		g.offsets[k] = o
		stored[OffsetKey{Group: g.name, Topic: k.Topic, Partition: k.Partition}] = o
	}
	name := g.name
	c.enqueue(g, func(ctx context.Context, rev int64) error {
		return c.store.CommitOffsets(ctx, name, rev, stored)
	}, func(err error) {
		if err != nil {
			if !errors.Is(err, ErrNotCoordinator) && !errors.Is(err, ErrFenced) {
				c.log.Warn("offset commit write failed", "group", name, "err", err)
			}
			g.mu.Lock()
			for k, o := range offs {
				if g.offsets[k] == o { // not overwritten since: undo
					if had[k] {
						g.offsets[k] = prev[k]
					} else {
						delete(g.offsets, k)
					}
				}
			}
			g.unlock()
			setAll(storeErrCode(err))
		}
		reply()
	})
}

// validateCommit applies Kafka's member and generation checks to an offset
// commit; called with g.mu held.
func (g *group) validateCommit(generation int32, memberID string, instanceID *string, simple bool) int16 {
	if simple {
		if g.state != stateEmpty {
			// Once the group has members, only members may commit.
			return kerr.UnknownMemberID.Code
		}
		return 0
	}
	if instanceID != nil {
		cur, ok := g.static[*instanceID]
		switch {
		case ok && cur != memberID:
			return kerr.FencedInstanceID.Code
		case !ok:
			return kerr.UnknownMemberID.Code
		}
	}
	if g.members[memberID] == nil {
		return kerr.UnknownMemberID.Code
	}
	if generation != g.generation {
		return kerr.IllegalGeneration.Code
	}
	if g.state == stateCompletingRebalance {
		return kerr.RebalanceInProgress.Code
	}
	return 0
}

// OffsetFetch serves an OffsetFetch, v0-v7 (one group) and v8+ (Groups).
// Nil topics means every committed offset of the group. Unknown partitions
// get offset -1. RequireStable is ignored: there are no pending
// transactional offsets.
func (c *Coordinator) OffsetFetch(req *kmsg.OffsetFetchRequest, done func(*kmsg.OffsetFetchResponse)) {
	version := req.GetVersion()
	resp := kmsg.NewPtrOffsetFetchResponse()
	if version >= 8 {
		for _, rg := range req.Groups {
			var topics []fetchTopic
			if rg.Topics != nil {
				topics = make([]fetchTopic, 0, len(rg.Topics))
				for _, t := range rg.Topics {
					topics = append(topics, fetchTopic{t.Topic, t.Partitions})
				}
			}
			res, code := c.fetchOffsets(rg.Group, topics, rg.Topics == nil)
			g := kmsg.NewOffsetFetchResponseGroup()
			g.Group = rg.Group
			g.ErrorCode = code
			for _, t := range res {
				gt := kmsg.NewOffsetFetchResponseGroupTopic()
				gt.Topic = t.topic
				for _, p := range t.parts {
					gp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					gp.Partition, gp.Offset, gp.LeaderEpoch = p.partition, p.o.Offset, p.o.LeaderEpoch
					gp.Metadata = strPtr(p.o.Metadata)
					gt.Partitions = append(gt.Partitions, gp)
				}
				g.Topics = append(g.Topics, gt)
			}
			resp.Groups = append(resp.Groups, g)
		}
		done(resp)
		return
	}
	var topics []fetchTopic
	for _, t := range req.Topics {
		topics = append(topics, fetchTopic{t.Topic, t.Partitions})
	}
	res, code := c.fetchOffsets(req.Group, topics, version >= 2 && req.Topics == nil)
	if version >= 2 {
		resp.ErrorCode = code
	}
	for _, t := range res {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.topic
		for _, p := range t.parts {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch = p.partition, p.o.Offset, p.o.LeaderEpoch
			rp.Metadata = strPtr(p.o.Metadata)
			if version < 2 {
				rp.ErrorCode = code
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	done(resp)
}

type fetchTopic struct {
	topic string
	parts []int32
}

type fetchedTopic struct {
	topic string
	parts []fetchedPartition
}

type fetchedPartition struct {
	partition int32
	o         Offset
}

// fetchOffsets looks up the requested (or, with all, every) committed offset
// of a group, and a group-level error code.
func (c *Coordinator) fetchOffsets(name string, topics []fetchTopic, all bool) ([]fetchedTopic, int16) {
	unknown := Offset{Offset: -1, LeaderEpoch: -1}
	var code int16
	snapshot := map[tp]Offset{}
	g, gcode := c.lockGroup(name, false)
	if g != nil {
		if all {
			snapshot = make(map[tp]Offset, len(g.offsets))
		}
		for k, o := range g.offsets {
			snapshot[k] = o
		}
		g.unlock()
	} else {
		code = gcode
	}
	if all {
		byTopic := map[string][]fetchedPartition{}
		var order []string
		for k, o := range snapshot {
			if _, ok := byTopic[k.Topic]; !ok {
				order = append(order, k.Topic)
			}
			byTopic[k.Topic] = append(byTopic[k.Topic], fetchedPartition{k.Partition, o})
		}
		sortStrings(order)
		out := make([]fetchedTopic, 0, len(order))
		for _, t := range order {
			ps := byTopic[t]
			sortPartitions(ps)
			out = append(out, fetchedTopic{t, ps})
		}
		return out, code
	}
	out := make([]fetchedTopic, 0, len(topics))
	for _, t := range topics {
		ft := fetchedTopic{topic: t.topic}
		for _, p := range t.parts {
			o, ok := snapshot[tp{t.topic, p}]
			if !ok {
				o = unknown
			}
			ft.parts = append(ft.parts, fetchedPartition{p, o})
		}
		out = append(out, ft)
	}
	return out, code
}

// OffsetDelete serves an OffsetDelete: offsets of an Empty group, or of
// topics a consumer group is not subscribed to, are deleted; done is called
// after the Store write.
func (c *Coordinator) OffsetDelete(req *kmsg.OffsetDeleteRequest, done func(*kmsg.OffsetDeleteResponse)) {
	resp := kmsg.NewPtrOffsetDeleteResponse()
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		done(resp)
		return
	}
	g, gcode := c.lockGroup(req.Group, false)
	if g == nil {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		if gcode != 0 {
			resp.ErrorCode = gcode
		}
		done(resp)
		return
	}
	defer g.unlock()

	var subscribed func(string) bool
	switch {
	case g.state == stateEmpty:
		subscribed = func(string) bool { return false }
	case g.protocolType == "consumer":
		subscribed = g.subscribedTopics()
	default:
		resp.ErrorCode = kerr.NonEmptyGroup.Code
		g.later(func() { done(resp) })
		return
	}

	var keys []OffsetKey
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		isSubscribed := subscribed(t.Topic)
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition = p.Partition
			switch {
			case !c.cfg.TopicPartitionExists(t.Topic, p.Partition):
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case isSubscribed:
				rp.ErrorCode = kerr.GroupSubscribedToTopic.Code
			default:
				k := tp{t.Topic, p.Partition}
				if _, ok := g.offsets[k]; ok {
					delete(g.offsets, k)
					keys = append(keys, OffsetKey{Group: g.name, Topic: k.Topic, Partition: k.Partition})
				}
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if len(keys) == 0 {
		g.later(func() { done(resp) })
		return
	}
	name := g.name
	c.enqueue(g, func(ctx context.Context, rev int64) error {
		return c.store.DeleteOffsets(ctx, name, rev, keys)
	}, func(err error) {
		if err != nil {
			c.log.Warn("offset delete write failed", "group", name, "err", err)
			resp.ErrorCode = storeErrCode(err)
			resp.Topics = nil
		}
		done(resp)
	})
}

// subscribedTopics returns a predicate telling whether any member of a
// consumer group subscribes to a topic, from the members' consumer protocol
// metadata (the selected protocol's, or every protocol's before one is
// chosen). Undecodable metadata counts as subscribed to everything.
func (g *group) subscribedTopics() func(string) bool {
	topics := map[string]bool{}
	for _, m := range g.members {
		for _, p := range m.protocols {
			if g.protocol != "" && p.Name != g.protocol {
				continue
			}
			var meta kmsg.ConsumerMemberMetadata
			if err := meta.ReadFrom(p.Metadata); err != nil {
				return func(string) bool { return true }
			}
			for _, t := range meta.Topics {
				topics[t] = true
			}
		}
	}
	return func(t string) bool { return topics[t] }
}

// storeErrCode is the error code for a failed store write: NOT_COORDINATOR
// when it was refused or fenced because the group moved, else
// COORDINATOR_NOT_AVAILABLE.
func storeErrCode(err error) int16 {
	if errors.Is(err, ErrNotCoordinator) || errors.Is(err, ErrFenced) {
		return kerr.NotCoordinator.Code
	}
	return kerr.CoordinatorNotAvailable.Code
}
