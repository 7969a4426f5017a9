package group

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func fetchV7(t *testing.T, c *Coordinator, version int16, group string, topics map[string][]int32) *kmsg.OffsetFetchResponse {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.SetVersion(version)
	req.Group = group
	for topic, parts := range topics {
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = topic, parts
		req.Topics = append(req.Topics, rt)
	}
	ch := make(chan *kmsg.OffsetFetchResponse, 1)
	c.OffsetFetch(req, func(r *kmsg.OffsetFetchResponse) { ch <- r })
	return await(t, ch)
}

func fetchedOffset(t *testing.T, r *kmsg.OffsetFetchResponse, topic string, part int32) kmsg.OffsetFetchResponseTopicPartition {
	t.Helper()
	for _, rt := range r.Topics {
		for _, p := range rt.Partitions {
			if rt.Topic == topic && p.Partition == part {
				return p
			}
		}
	}
	t.Fatalf("%s/%d not in fetch response", topic, part)
	return kmsg.OffsetFetchResponseTopicPartition{}
}

func TestSimpleCommitAndFetch(t *testing.T) {
	store := newMemStore()
	c := newTestCoordinator(t, store, func(cfg *Config) {
		cfg.MaxMetadataBytes = 8
		cfg.TopicPartitionExists = func(topic string, p int32) bool { return topic != "gone" && p < 3 }
	})
	r := commit(t, c, 8, "g", "", -1, nil, map[string]map[int32]int64{"t1": {0: 10, 1: 11, 5: 12}, "gone": {0: 1}}, "meta")
	codes := map[string]int16{}
	for _, rt := range r.Topics {
		for _, p := range rt.Partitions {
			codes[rt.Topic+"/"+string(rune('0'+p.Partition))] = p.ErrorCode
		}
	}
	wantCode(t, "t1/0", codes["t1/0"], nil)
	wantCode(t, "t1/1", codes["t1/1"], nil)
	wantCode(t, "t1/5", codes["t1/5"], kerr.UnknownTopicOrPartition)
	wantCode(t, "gone/0", codes["gone/0"], kerr.UnknownTopicOrPartition)
	r = commit(t, c, 8, "g", "", -1, nil, map[string]map[int32]int64{"t1": {2: 1}}, "much too long")
	wantCode(t, "big metadata", r.Topics[0].Partitions[0].ErrorCode, kerr.OffsetMetadataTooLarge)

	// The store was written before the reply.
	if o, ok := store.offset(OffsetKey{"g", "t1", 0}); !ok || o.Offset != 10 || o.Metadata != "meta" || o.LeaderEpoch != 7 || o.CommitTimestamp == 0 {
		t.Fatalf("stored %+v %v", o, ok)
	}
	if d := describe(t, c, 0, "g")[0]; d.State != "Empty" || d.ProtocolType != "" {
		t.Fatalf("commit-created group: %+v", d)
	}

	f := fetchV7(t, c, 5, "g", map[string][]int32{"t1": {0, 1, 2}})
	wantCode(t, "fetch", f.ErrorCode, nil)
	if p := fetchedOffset(t, f, "t1", 0); p.Offset != 10 || p.LeaderEpoch != 7 || *p.Metadata != "meta" {
		t.Fatalf("t1/0: %+v", p)
	}
	if p := fetchedOffset(t, f, "t1", 2); p.Offset != -1 || p.LeaderEpoch != -1 {
		t.Fatalf("uncommitted t1/2: %+v", p)
	}
	// All partitions (nil topics, v2+).
	f = fetchV7(t, c, 7, "g", nil)
	if len(f.Topics) != 1 || len(f.Topics[0].Partitions) != 2 {
		t.Fatalf("fetch all: %+v", f.Topics)
	}
	// Unknown group: -1, no error.
	f = fetchV7(t, c, 1, "other", map[string][]int32{"t1": {0}})
	if p := fetchedOffset(t, f, "t1", 0); p.Offset != -1 || p.ErrorCode != 0 {
		t.Fatalf("unknown group: %+v", p)
	}

	// v8+: several groups at once, one of them "all".
	req := kmsg.NewPtrOffsetFetchRequest()
	req.SetVersion(8)
	g1 := kmsg.NewOffsetFetchRequestGroup()
	g1.Group = "g"
	g2 := kmsg.NewOffsetFetchRequestGroup()
	g2.Group = "other"
	g2.Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: "t1", Partitions: []int32{0}}}
	req.Groups = []kmsg.OffsetFetchRequestGroup{g1, g2}
	var resp *kmsg.OffsetFetchResponse
	c.OffsetFetch(req, func(r *kmsg.OffsetFetchResponse) { resp = r })
	if len(resp.Groups) != 2 || resp.Groups[0].Group != "g" || len(resp.Groups[0].Topics) != 1 || len(resp.Groups[0].Topics[0].Partitions) != 2 {
		t.Fatalf("v8 fetch: %+v", resp.Groups)
	}
	if p := resp.Groups[0].Topics[0].Partitions[1]; p.Partition != 1 || p.Offset != 11 {
		t.Fatalf("v8 g t1/1: %+v", p)
	}
	if p := resp.Groups[1].Topics[0].Partitions[0]; p.Offset != -1 {
		t.Fatalf("v8 other t1/0: %+v", p)
	}

	want := map[OffsetKey]int64{{"g", "t1", 0}: 10, {"g", "t1", 1}: 11}
	got := c.CommittedOffsets()
	if len(got) != len(want) {
		t.Fatalf("CommittedOffsets %v", got)
	}
	for k, o := range want {
		if got[k].Offset != o {
			t.Fatalf("CommittedOffsets[%v] = %d, want %d", k, got[k].Offset, o)
		}
	}
}

func TestMemberCommitValidation(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	s := formGroup(t, c, "g", 2, joinOpts{})
	wantCode(t, "member commit", commitOne(t, c, "g", s.ids[1], s.gen, "t1", 0, 42), nil)
	wantCode(t, "wrong generation", commitOne(t, c, "g", s.ids[1], s.gen+1, "t1", 0, 1), kerr.IllegalGeneration)
	wantCode(t, "unknown member", commitOne(t, c, "g", "ghost", s.gen, "t1", 0, 1), kerr.UnknownMemberID)
	wantCode(t, "simple commit to live group", commitOne(t, c, "g", "", -1, "t1", 0, 1), kerr.UnknownMemberID)
	wantCode(t, "unknown group with generation", commitOne(t, c, "nogroup", "m", 3, "t1", 0, 1), kerr.IllegalGeneration)
	wantCode(t, "unknown group with member", commitOne(t, c, "nogroup", "m", -1, "t1", 0, 1), kerr.UnknownMemberID)
	if d := describe(t, c, 0, "nogroup")[0]; d.State != "Dead" {
		t.Fatalf("failed commit created group: %s", d.State)
	}
	f := fetchV7(t, c, 7, "g", map[string][]int32{"t1": {0}})
	if p := fetchedOffset(t, f, "t1", 0); p.Offset != 42 {
		t.Fatalf("offset %d after rejected commits", p.Offset)
	}
}

func TestCommitStoreFailure(t *testing.T) {
	store := newMemStore()
	c := newTestCoordinator(t, store)
	wantCode(t, "first", commitOne(t, c, "g", "", -1, "t1", 0, 5), nil)
	store.setFail(true)
	wantCode(t, "failing store", commitOne(t, c, "g", "", -1, "t1", 0, 6), kerr.CoordinatorNotAvailable)
	wantCode(t, "failing store, new partition", commitOne(t, c, "g", "", -1, "t1", 1, 6), kerr.CoordinatorNotAvailable)
	store.setFail(false)
	f := fetchV7(t, c, 7, "g", map[string][]int32{"t1": {0, 1}})
	if p := fetchedOffset(t, f, "t1", 0); p.Offset != 5 {
		t.Fatalf("failed commit not undone: %d", p.Offset)
	}
	if p := fetchedOffset(t, f, "t1", 1); p.Offset != -1 {
		t.Fatalf("failed commit of a new partition not undone: %d", p.Offset)
	}
}

func TestCommitVisibleBeforeStoreWriteAndOrdered(t *testing.T) {
	store := newMemStore()
	store.setDelay(30 * time.Millisecond)
	c := newTestCoordinator(t, store)
	var chans []chan *kmsg.OffsetCommitResponse
	for i := range 5 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.SetVersion(8)
		req.Group, req.Generation = "g", -1
		req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: int64(i)}}}}
		ch := make(chan *kmsg.OffsetCommitResponse, 1)
		c.OffsetCommit(req, func(r *kmsg.OffsetCommitResponse) { ch <- r })
		chans = append(chans, ch)
		// Visible at once, long before the store write finishes.
		f := fetchV7(t, c, 7, "g", map[string][]int32{"t": {0}})
		if p := fetchedOffset(t, f, "t", 0); p.Offset != int64(i) {
			t.Fatalf("commit %d not visible: %d", i, p.Offset)
		}
	}
	stillWaiting(t, chans[0], 10*time.Millisecond)
	for _, ch := range chans {
		wantCode(t, "commit", await(t, ch).Topics[0].Partitions[0].ErrorCode, nil)
	}
	if o, _ := store.offset(OffsetKey{"g", "t", 0}); o.Offset != 4 {
		t.Fatalf("store ended at %d, want the last commit 4", o.Offset)
	}
}

func offsetDelete(t *testing.T, c *Coordinator, group string, topics map[string][]int32) *kmsg.OffsetDeleteResponse {
	t.Helper()
	req := kmsg.NewPtrOffsetDeleteRequest()
	req.Group = group
	for topic, parts := range topics {
		rt := kmsg.NewOffsetDeleteRequestTopic()
		rt.Topic = topic
		for _, p := range parts {
			rt.Partitions = append(rt.Partitions, kmsg.OffsetDeleteRequestTopicPartition{Partition: p})
		}
		req.Topics = append(req.Topics, rt)
	}
	ch := make(chan *kmsg.OffsetDeleteResponse, 1)
	c.OffsetDelete(req, func(r *kmsg.OffsetDeleteResponse) { ch <- r })
	return await(t, ch)
}

func TestOffsetDelete(t *testing.T) {
	store := newMemStore()
	c := newTestCoordinator(t, store, func(cfg *Config) {
		cfg.TopicPartitionExists = func(topic string, _ int32) bool { return topic != "gone" }
	})
	wantCode(t, "unknown group", offsetDelete(t, c, "nogroup", map[string][]int32{"t1": {0}}).ErrorCode, kerr.GroupIDNotFound)
	wantCode(t, "empty id", offsetDelete(t, c, "", map[string][]int32{"t1": {0}}).ErrorCode, kerr.InvalidGroupID)

	// Empty group: everything goes.
	commit(t, c, 8, "simple", "", -1, nil, map[string]map[int32]int64{"t1": {0: 1, 1: 2}}, "")
	r := offsetDelete(t, c, "simple", map[string][]int32{"t1": {0}, "gone": {0}})
	wantCode(t, "empty group", r.ErrorCode, nil)
	for _, rt := range r.Topics {
		want := (*kerr.Error)(nil)
		if rt.Topic == "gone" {
			want = kerr.UnknownTopicOrPartition
		}
		wantCode(t, "partition "+rt.Topic, rt.Partitions[0].ErrorCode, want)
	}
	if _, ok := store.offset(OffsetKey{"simple", "t1", 0}); ok {
		t.Fatal("deleted offset still in the store")
	}
	if _, ok := store.offset(OffsetKey{"simple", "t1", 1}); !ok {
		t.Fatal("other offset deleted")
	}

	// Stable consumer group subscribed to t1 only.
	s := formGroup(t, c, "g", 1, joinOpts{})
	commit(t, c, 8, "g", s.ids[0], s.gen, nil, map[string]map[int32]int64{"t1": {0: 1}, "t2": {0: 2}}, "")
	r = offsetDelete(t, c, "g", map[string][]int32{"t1": {0}, "t2": {0}})
	wantCode(t, "group", r.ErrorCode, nil)
	for _, rt := range r.Topics {
		want := (*kerr.Error)(nil)
		if rt.Topic == "t1" {
			want = kerr.GroupSubscribedToTopic
		}
		wantCode(t, "partition "+rt.Topic, rt.Partitions[0].ErrorCode, want)
	}
	f := fetchV7(t, c, 7, "g", map[string][]int32{"t1": {0}, "t2": {0}})
	if fetchedOffset(t, f, "t1", 0).Offset != 1 || fetchedOffset(t, f, "t2", 0).Offset != -1 {
		t.Fatalf("after delete: %+v", f.Topics)
	}

	// A non-consumer group with members: NON_EMPTY_GROUP.
	id := memberIDFor(t, c, "connect", joinOpts{ptype: "connect"})
	await(t, joinAsync(c, "connect", joinOpts{ptype: "connect", memberID: id}))
	wantCode(t, "non-consumer", offsetDelete(t, c, "connect", map[string][]int32{"t1": {0}}).ErrorCode, kerr.NonEmptyGroup)
}

func TestTopicDeletedForgetsOffsets(t *testing.T) {
	store := newMemStore()
	c := newTestCoordinator(t, store)
	commit(t, c, 8, "a", "", -1, nil, map[string]map[int32]int64{"t1": {0: 1}, "t2": {0: 2}}, "")
	commit(t, c, 8, "b", "", -1, nil, map[string]map[int32]int64{"t1": {3: 1}}, "")
	c.TopicDeleted("t1")
	got := c.CommittedOffsets()
	if len(got) != 1 || got[OffsetKey{"a", "t2", 0}].Offset != 2 {
		t.Fatalf("after topic deletion: %v", got)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		all, _ := store.AllOffsets(t.Context())
		if len(all) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store still has %v", all)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestOffsetCommitV0AndV1Fetch(t *testing.T) {
	c := newTestCoordinator(t, newMemStore())
	r := commit(t, c, 0, "g", "ignored", 99, nil, map[string]map[int32]int64{"t": {0: 3}}, "m")
	wantCode(t, "v0 commit", r.Topics[0].Partitions[0].ErrorCode, nil)
	f := fetchV7(t, c, 1, "g", map[string][]int32{"t": {0}})
	if p := fetchedOffset(t, f, "t", 0); p.Offset != 3 || !strings.EqualFold(*p.Metadata, "m") {
		t.Fatalf("v1 fetch %+v", p)
	}
}
