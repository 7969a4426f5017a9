package broker

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestPipelinedRequestsAnsweredInOrder writes 50 requests back to back on
// one connection, mixing replies that are ready at once with pending ones
// (acks=all produce, a long-polling fetch, InitProducerId, ListGroups), and
// checks every response comes back in request order.
func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("pipe", 1, nil)

	var reqs []kmsg.Request
	for i := 0; i < 50; i++ {
		var r kmsg.Request
		switch i % 7 {
		case 0:
			p := kmsg.NewPtrProduceRequest()
			p.Acks, p.TimeoutMillis = -1, 10000
			p.Topics = []kmsg.ProduceRequestTopic{{Topic: "pipe", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: plainBatch(int64(i), fmt.Sprint(i))}}}}
			p.SetVersion(9)
			r = p
		case 1:
			// Waits for more data than exists: completes on its
			// MaxWait or on a later produce, after earlier replies.
			f := fetchReq("pipe", [16]byte{}, 0, 0)
			f.MinBytes, f.MaxWaitMillis = 1<<20, 100
			f.SetVersion(12)
			r = f
		case 2:
			ip := kmsg.NewPtrInitProducerIDRequest()
			ip.SetVersion(4)
			r = ip
		case 3:
			md := kmsg.NewPtrMetadataRequest()
			md.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("pipe")}}
			md.SetVersion(12)
			r = md
		case 4:
			lg := kmsg.NewPtrListGroupsRequest()
			lg.SetVersion(4)
			r = lg
		case 5:
			av := kmsg.NewPtrApiVersionsRequest()
			av.SetVersion(3)
			r = av
		case 6:
			p := kmsg.NewPtrProduceRequest()
			p.Acks, p.TimeoutMillis = 1, 10000
			p.Topics = []kmsg.ProduceRequestTopic{{Topic: "pipe", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: plainBatch(int64(i), fmt.Sprint(i))}}}}
			p.SetVersion(3)
			r = p
		}
		reqs = append(reqs, r)
	}
	var all bytes.Buffer
	var corrs []int32
	for _, r := range reqs {
		buf, corr := rc.frame(r)
		all.Write(buf)
		corrs = append(corrs, corr)
	}
	if _, err := rc.nc.Write(all.Bytes()); err != nil {
		t.Fatal(err)
	}
	nextOffset := int64(0)
	for i, r := range reqs {
		resp, corr := rc.recv(r)
		if corr != corrs[i] {
			t.Fatalf("response %d has correlation id %d, want %d", i, corr, corrs[i])
		}
		if resp.Key() != r.Key() {
			t.Fatalf("response %d is %s, want %s", i, kmsg.NameForKey(resp.Key()), kmsg.NameForKey(r.Key()))
		}
		if p, ok := resp.(*kmsg.ProduceResponse); ok {
			// Produces are applied in request order too.
			got := p.Topics[0].Partitions[0]
			if got.ErrorCode != 0 || got.BaseOffset != nextOffset {
				t.Fatalf("produce %d: error %d offset %d, want offset %d", i, got.ErrorCode, got.BaseOffset, nextOffset)
			}
			nextOffset++
		}
		if ip, ok := resp.(*kmsg.InitProducerIDResponse); ok && (ip.ErrorCode != 0 || ip.ProducerID < 0) {
			t.Fatalf("InitProducerId %d: error %d id %d", i, ip.ErrorCode, ip.ProducerID)
		}
	}
}

// TestMalformedFrameClosesConnection: a frame that cannot be parsed closes
// the connection without a response, and other connections carry on.
func TestMalformedFrameClosesConnection(t *testing.T) {
	tb := startBroker(t, nil)
	bad := tb.dial(t)
	good := tb.dial(t)
	md := kmsg.NewPtrMetadataRequest()
	md.SetVersion(12)
	buf, _ := bad.frame(md)
	// Cut the body short but keep the size prefix consistent.
	buf = buf[:len(buf)-2]
	buf[3] -= 2
	if _, err := bad.nc.Write(buf); err != nil {
		t.Fatal(err)
	}
	bad.expectClosed(md)
	if r := do[*kmsg.MetadataResponse](good, 12, kmsg.NewPtrMetadataRequest()); len(r.Brokers) != 1 {
		t.Fatalf("other connection: %d brokers", len(r.Brokers))
	}
}

// TestOversizedFrameClosesConnection: a size prefix above
// socket.request.max.bytes closes the connection.
func TestOversizedFrameClosesConnection(t *testing.T) {
	tb := startBroker(t, func(c *Config) { c.SocketRequestMaxBytes = 1024 })
	rc := tb.dial(t)
	req := kmsg.NewPtrProduceRequest()
	req.Acks = 1
	req.Topics = []kmsg.ProduceRequestTopic{{Topic: "x", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: make([]byte, 2000)}}}}
	req.SetVersion(9)
	rc.send(req)
	rc.expectClosed(req)
}
