package wire

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// fuzzSeeds are valid frames of several APIs at old and flexible versions.
func fuzzSeeds() [][]byte {
	topic := "seed-topic"
	var reqs []kmsg.Request

	md := kmsg.NewPtrMetadataRequest()
	md.Topics = []kmsg.MetadataRequestTopic{{Topic: &topic}}
	reqs = append(reqs, md)

	pr := kmsg.NewPtrProduceRequest()
	pr.Acks = 1
	pr.Topics = []kmsg.ProduceRequestTopic{{Topic: topic, Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 0, Records: []byte{0, 1, 2, 3}}}}}
	reqs = append(reqs, pr)

	fr := kmsg.NewPtrFetchRequest()
	fr.Topics = []kmsg.FetchRequestTopic{{Topic: topic, Partitions: []kmsg.FetchRequestTopicPartition{{Partition: 0, FetchOffset: 5, PartitionMaxBytes: 1 << 20}}}}
	reqs = append(reqs, fr)

	ct := kmsg.NewPtrCreateTopicsRequest()
	v := "1000"
	ct.Topics = []kmsg.CreateTopicsRequestTopic{{Topic: topic, NumPartitions: 2, ReplicationFactor: 1, Configs: []kmsg.CreateTopicsRequestTopicConfig{{Name: "retention.ms", Value: &v}}}}
	reqs = append(reqs, ct)

	av := kmsg.NewPtrApiVersionsRequest()
	av.ClientSoftwareName, av.ClientSoftwareVersion = "fuzz", "1.0"
	reqs = append(reqs, av)

	jg := kmsg.NewPtrJoinGroupRequest()
	jg.Group, jg.ProtocolType = "g", "consumer"
	jg.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 1}}}
	reqs = append(reqs, jg)

	var out [][]byte
	id := "fuzz-client"
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID(id))
	for _, r := range reqs {
		for _, ver := range []int16{0, r.MaxVersion() / 2, r.MaxVersion()} {
			r.SetVersion(ver)
			out = append(out, f.AppendRequest(nil, r, int32(ver)+100)[4:])
		}
	}
	return out
}

// FuzzParseRequest checks that ParseRequest never panics and that any frame
// it accepts re-encodes to a frame it accepts again, with the same header
// and the same body bytes.
func FuzzParseRequest(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		h, err := ParseHeaderPrefix(frame)
		if err != nil {
			return
		}
		req := kmsg.RequestForKey(h.Key)
		if req == nil || h.Version < 0 || h.Version > req.MaxVersion() {
			return // the broker never parses these
		}
		if h.Key == 7 && h.Version == 0 {
			return // ControlledShutdown v0 has no client id; never registered
		}
		if err := ParseRequest(frame, &h, req); err != nil {
			return
		}
		if req.GetVersion() != h.Version {
			t.Fatalf("request version %d, header %d", req.GetVersion(), h.Version)
		}
		id := h.ClientID
		again := kmsg.NewRequestFormatter(kmsg.FormatterClientID(id)).AppendRequest(nil, req, h.CorrelationID)[4:]
		h2, err := ParseHeaderPrefix(again)
		if err != nil {
			t.Fatalf("re-encoded header: %v", err)
		}
		req2 := kmsg.RequestForKey(h2.Key)
		if err := ParseRequest(again, &h2, req2); err != nil {
			t.Fatalf("re-encoded %s v%d does not parse: %v", kmsg.NameForKey(h.Key), h.Version, err)
		}
		if h2 != h {
			t.Fatalf("header %+v re-parsed as %+v", h, h2)
		}
		if a, b := req.AppendTo(nil), req2.AppendTo(nil); !bytes.Equal(a, b) {
			t.Fatalf("%s v%d body changed on re-encode:\n%x\n%x", kmsg.NameForKey(h.Key), h.Version, a, b)
		}
	})
}
