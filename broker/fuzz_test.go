package broker

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/broker/wire"
)

const (
	fuzzTopic  = "fuzz-topic"
	fuzzDoomed = "fuzz-doomed"
	fuzzGroup  = "fuzz-group"
)

// fillForFuzz gives a request enough content to reach its handler's
// interesting paths: topic names, partitions, a valid batch, a group.
func fillForFuzz(req kmsg.Request) {
	batch := plainBatch(1000, "a", "b")
	switch r := req.(type) {
	case *kmsg.ProduceRequest:
		r.Acks, r.TimeoutMillis = 1, 1000
		r.Topics = []kmsg.ProduceRequestTopic{{Topic: fuzzTopic, Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 0, Records: batch}}}}
	case *kmsg.FetchRequest:
		f := fetchReq(fuzzTopic, [16]byte{}, 0, 0)
		f.SetVersion(r.GetVersion())
		f.MaxWaitMillis, f.MinBytes = 10, 1
		*r = *f
	case *kmsg.ListOffsetsRequest:
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = fuzzTopic
		for _, ts := range []int64{-1, -2, -3, 500} {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Timestamp = ts
			rt.Partitions = append(rt.Partitions, rp)
		}
		r.Topics = append(r.Topics, rt)
	case *kmsg.MetadataRequest:
		r.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr(fuzzTopic)}, {Topic: kmsg.StringPtr("fuzz-auto")}}
		r.AllowAutoTopicCreation = true
	case *kmsg.CreateTopicsRequest:
		r.Topics = []kmsg.CreateTopicsRequestTopic{{Topic: "fuzz-created", NumPartitions: 2, ReplicationFactor: 1,
			Configs: []kmsg.CreateTopicsRequestTopicConfig{{Name: "retention.ms", Value: kmsg.StringPtr("60000")}}}}
	case *kmsg.DeleteTopicsRequest:
		r.TopicNames = []string{fuzzDoomed}
		r.Topics = []kmsg.DeleteTopicsRequestTopic{{Topic: kmsg.StringPtr(fuzzDoomed)}}
	case *kmsg.DeleteRecordsRequest:
		r.Topics = []kmsg.DeleteRecordsRequestTopic{{Topic: fuzzTopic, Partitions: []kmsg.DeleteRecordsRequestTopicPartition{{Partition: 1, Offset: 0}}}}
	case *kmsg.OffsetForLeaderEpochRequest:
		r.Topics = []kmsg.OffsetForLeaderEpochRequestTopic{{Topic: fuzzTopic, Partitions: []kmsg.OffsetForLeaderEpochRequestTopicPartition{{Partition: 0, CurrentLeaderEpoch: -1, LeaderEpoch: 0}}}}
	case *kmsg.DescribeConfigsRequest:
		r.Resources = []kmsg.DescribeConfigsRequestResource{{ResourceType: resourceTopic, ResourceName: fuzzTopic}, {ResourceType: resourceBroker, ResourceName: "1"}}
		r.IncludeSynonyms, r.IncludeDocumentation = true, true
	case *kmsg.AlterConfigsRequest:
		r.Resources = []kmsg.AlterConfigsRequestResource{{ResourceType: resourceTopic, ResourceName: fuzzTopic,
			Configs: []kmsg.AlterConfigsRequestResourceConfig{{Name: "retention.ms", Value: kmsg.StringPtr("3600000")}}}}
	case *kmsg.IncrementalAlterConfigsRequest:
		r.Resources = []kmsg.IncrementalAlterConfigsRequestResource{{ResourceType: resourceTopic, ResourceName: fuzzTopic,
			Configs: []kmsg.IncrementalAlterConfigsRequestResourceConfig{{Name: "cleanup.policy", Op: 2, Value: kmsg.StringPtr("compact")}}}}
	case *kmsg.DescribeLogDirsRequest:
		r.Topics = []kmsg.DescribeLogDirsRequestTopic{{Topic: fuzzTopic, Partitions: []int32{0, 1, 7}}}
	case *kmsg.CreatePartitionsRequest:
		r.Topics = []kmsg.CreatePartitionsRequestTopic{{Topic: fuzzTopic, Count: 3}}
	case *kmsg.DescribeProducersRequest:
		r.Topics = []kmsg.DescribeProducersRequestTopic{{Topic: fuzzTopic, Partitions: []int32{0}}}
	case *kmsg.FindCoordinatorRequest:
		r.CoordinatorKey = fuzzGroup
		r.CoordinatorKeys = []string{fuzzGroup}
	case *kmsg.JoinGroupRequest:
		r.Group, r.ProtocolType, r.SessionTimeoutMillis, r.RebalanceTimeoutMillis = fuzzGroup, "consumer", 10000, 10000
		r.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 1, 0, 0, 0, 0}}}
	case *kmsg.OffsetCommitRequest:
		r.Group, r.Generation = fuzzGroup, -1
		r.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: fuzzTopic, Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 1}}}}
	case *kmsg.OffsetFetchRequest:
		r.Group = fuzzGroup
		r.Groups = []kmsg.OffsetFetchRequestGroup{{Group: fuzzGroup}}
	case *kmsg.DescribeGroupsRequest:
		r.Groups = []string{fuzzGroup}
	case *kmsg.DeleteGroupsRequest:
		r.Groups = []string{"fuzz-nogroup"}
	}
}

// fuzzSeeds are valid frames of every registered API at its min and max
// version, each also truncated and with a flipped bit.
func fuzzSeeds() [][]byte {
	keys := make([]int, 0, len(apis))
	for k := range apis {
		keys = append(keys, int(k))
	}
	sort.Ints(keys)
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("fuzz"))
	var out [][]byte
	for _, k := range keys {
		e := apis[int16(k)]
		for _, v := range []int16{e.min, e.max} {
			req := kmsg.RequestForKey(int16(k))
			req.SetVersion(v)
			fillForFuzz(req)
			frame := f.AppendRequest(nil, req, int32(k)<<8|int32(v))[4:]
			out = append(out, frame)
			out = append(out, append([]byte(nil), frame[:len(frame)/2]...))
			flipped := append([]byte(nil), frame...)
			flipped[len(flipped)*2/3] ^= 0x10
			out = append(out, flipped)
		}
	}
	return out
}

// tooExpensive reports frames that would ask the broker for an unbounded
// amount of work (a billion partitions); the broker does not cap these
// yet, and a fuzz process must not fill the disk.
func tooExpensive(frame []byte) bool {
	h, err := wire.ParseHeaderPrefix(frame)
	if err != nil || (h.Key != 19 && h.Key != 37) {
		return false
	}
	req := kmsg.RequestForKey(h.Key)
	if req == nil || h.Version < 0 || h.Version > req.MaxVersion() || wire.ParseRequest(frame, &h, req) != nil {
		return false
	}
	switch r := req.(type) {
	case *kmsg.CreateTopicsRequest:
		for _, t := range r.Topics {
			if t.NumPartitions > 64 || len(t.ReplicaAssignment) > 64 {
				return true
			}
		}
	case *kmsg.CreatePartitionsRequest:
		for _, t := range r.Topics {
			if t.Count > 64 {
				return true
			}
		}
	}
	return false
}

// FuzzHandleFrame feeds frames straight to conn.handleFrame of a live
// broker (one per fuzz process): no frame may panic, an accepted frame
// must produce a reply, and every reply must encode and decode at the
// request's version.
func FuzzHandleFrame(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	tb := startBroker(f, func(c *Config) { c.AutoCreateTopics = true })
	setup := tb.dial(f)
	setup.createTopic(fuzzTopic, 2, nil)
	setup.createTopic(fuzzDoomed, 1, nil)
	setup.mustProduce(fuzzTopic, 0, plainBatch(1000, "x", "y", "z"))

	f.Fuzz(func(t *testing.T, frame []byte) {
		if tooExpensive(frame) {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := &conn{b: tb.b, remote: "127.0.0.1:40000", ctx: ctx, cancel: cancel, log: tb.b.log}
		q, key, err := c.handleFrame(frame)
		if err != nil {
			return // the connection would close; that is an allowed answer
		}
		h, _ := wire.ParseHeaderPrefix(frame)
		if key != h.Key || q.corr != h.CorrelationID {
			t.Fatalf("queued key %d corr %d for header %+v", key, q.corr, h)
		}
		if q.r.resp == nil && q.r.ch == nil && !q.r.none {
			t.Fatalf("%s v%d: nil error but no reply", kmsg.NameForKey(h.Key), h.Version)
		}
		resp := q.r.resp
		if resp == nil && q.r.ch != nil {
			// Pending replies (long polls, fsync waits, groups) finish
			// early once the connection's context ends.
			cancel()
			select {
			case resp = <-q.r.ch:
			case <-time.After(2 * time.Second):
			}
		}
		if resp == nil {
			return
		}
		if q.version >= 0 {
			resp.SetVersion(q.version)
		}
		if resp.Key() != h.Key {
			t.Fatalf("request key %d answered with key %d", h.Key, resp.Key())
		}
		out := wire.AppendResponse(nil, q.corr, resp)
		body := out[8:]
		if resp.IsFlexible() && resp.Key() != 18 {
			body = body[1:]
		}
		back := kmsg.ResponseForKey(resp.Key())
		back.SetVersion(resp.GetVersion())
		if err := back.ReadFrom(body); err != nil {
			t.Fatalf("%s v%d response does not decode: %v", kmsg.NameForKey(h.Key), resp.GetVersion(), err)
		}
	})
}

// TestFuzzSeedsAccepted checks the fuzz seeds are what they claim: every
// untouched seed is a frame the broker understands and answers.
func TestFuzzSeedsAccepted(t *testing.T) {
	tb := startBroker(t, nil)
	tb.dial(t).createTopic(fuzzTopic, 2, nil)
	seeds := fuzzSeeds()
	for i := 0; i < len(seeds); i += 3 {
		ctx, cancel := context.WithCancel(context.Background())
		c := &conn{b: tb.b, remote: "127.0.0.1:40000", ctx: ctx, cancel: cancel, log: tb.b.log}
		h, _ := wire.ParseHeaderPrefix(seeds[i])
		q, _, err := c.handleFrame(seeds[i])
		if err != nil {
			t.Errorf("%s v%d seed refused: %v", kmsg.NameForKey(h.Key), h.Version, err)
		} else if q.r.resp == nil && q.r.ch == nil {
			t.Errorf("%s v%d seed: no reply", kmsg.NameForKey(h.Key), h.Version)
		}
		cancel()
	}
}
