package broker

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestProduceFetchRoundTrip(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	cases := []struct {
		produceV, fetchV int16
	}{
		{3, 4},   // oldest supported: by name
		{8, 11},  // per-record errors, rack
		{12, 12}, // flexible, by name
		{13, 13}, // topic ids both ways
		{13, 18}, // newest fetch
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("produce_v%d_fetch_v%d", tc.produceV, tc.fetchV), func(t *testing.T) {
			name := fmt.Sprintf("rt-%d-%d", tc.produceV, tc.fetchV)
			id := rc.createTopic(name, 1, nil)
			var sent [][]byte
			for i := 0; i < 3; i++ {
				batch := plainBatch(int64(1000+i), fmt.Sprintf("v%d-a", i), fmt.Sprintf("v%d-b", i))
				sent = append(sent, batch)
				req := kmsg.NewPtrProduceRequest()
				req.Acks, req.TimeoutMillis = -1, 10000
				rt := kmsg.ProduceRequestTopic{Topic: name, Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 0, Records: batch}}}
				if tc.produceV >= 13 {
					rt.Topic, rt.TopicID = "", id
				}
				req.Topics = append(req.Topics, rt)
				resp := do[*kmsg.ProduceResponse](rc, tc.produceV, req)
				if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
					t.Fatalf("response shape %+v", resp.Topics)
				}
				if tc.produceV >= 13 && resp.Topics[0].TopicID != id {
					t.Fatalf("response topic id %x, want %x", resp.Topics[0].TopicID, id)
				}
				p := resp.Topics[0].Partitions[0]
				if p.ErrorCode != 0 || p.BaseOffset != int64(2*i) {
					t.Fatalf("produce %d: error %d base offset %d, want 0 and %d", i, p.ErrorCode, p.BaseOffset, 2*i)
				}
				if tc.produceV >= 5 && p.LogStartOffset != 0 {
					t.Fatalf("log start offset %d", p.LogStartOffset)
				}
			}

			req := fetchReq(name, id, 0, 0)
			if tc.fetchV >= 13 {
				req.Topics[0].Topic = ""
			}
			resp := do[*kmsg.FetchResponse](rc, tc.fetchV, req)
			if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
				t.Fatalf("fetch: %+v", resp)
			}
			if tc.fetchV >= 13 && resp.Topics[0].TopicID != id {
				t.Fatalf("fetch topic id %x, want %x", resp.Topics[0].TopicID, id)
			}
			p := resp.Topics[0].Partitions[0]
			if p.ErrorCode != 0 || p.HighWatermark != 6 || p.LastStableOffset != 6 {
				t.Fatalf("fetch partition: error %d hw %d lso %d", p.ErrorCode, p.HighWatermark, p.LastStableOffset)
			}
			if tc.fetchV >= 5 && p.LogStartOffset != 0 {
				t.Fatalf("fetch log start %d", p.LogStartOffset)
			}
			offs, vals := records(t, p.RecordBatches)
			if len(offs) != 6 {
				t.Fatalf("fetched %d records, want 6", len(offs))
			}
			for i := range offs {
				want := fmt.Sprintf("v%d-%c", i/2, "ab"[i%2])
				if offs[i] != int64(i) || vals[i] != want {
					t.Fatalf("record %d = (%d, %q), want (%d, %q)", i, offs[i], vals[i], i, want)
				}
			}
			// Stored byte-for-byte: only base offset and leader epoch change.
			got := p.RecordBatches
			for i, s := range sent {
				g := got[:len(s)]
				got = got[len(s):]
				if !bytes.Equal(g[16:], s[16:]) || !bytes.Equal(g[8:12], s[8:12]) {
					t.Fatalf("batch %d changed beyond base offset and epoch", i)
				}
			}
			if len(got) != 0 {
				t.Fatalf("%d extra bytes after the batches", len(got))
			}

			// Fetching from the middle of the log and at its end.
			mid := do[*kmsg.FetchResponse](rc, tc.fetchV, withOffset(req, 4)).Topics[0].Partitions[0]
			if offs, _ := records(t, mid.RecordBatches); mid.ErrorCode != 0 || len(offs) != 2 || offs[0] != 4 {
				t.Fatalf("fetch from 4: error %d offsets %v", mid.ErrorCode, offs)
			}
			end := do[*kmsg.FetchResponse](rc, tc.fetchV, withOffset(req, 6)).Topics[0].Partitions[0]
			if end.ErrorCode != 0 || len(end.RecordBatches) != 0 {
				t.Fatalf("fetch at end: error %d, %d bytes", end.ErrorCode, len(end.RecordBatches))
			}
			past := do[*kmsg.FetchResponse](rc, tc.fetchV, withOffset(req, 7)).Topics[0].Partitions[0]
			if past.ErrorCode != kerr.OffsetOutOfRange.Code {
				t.Fatalf("fetch past end: error %d, want OFFSET_OUT_OF_RANGE", past.ErrorCode)
			}
		})
	}
}

func withOffset(req *kmsg.FetchRequest, off int64) *kmsg.FetchRequest {
	c := *req
	c.Topics = []kmsg.FetchRequestTopic{req.Topics[0]}
	c.Topics[0].Partitions = []kmsg.FetchRequestTopicPartition{req.Topics[0].Partitions[0]}
	c.Topics[0].Partitions[0].FetchOffset = off
	return &c
}

func TestProduceFetchUnknownTopic(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	if r := rc.produce("nope", 0, plainBatch(1, "x")); r.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("produce to unknown topic: error %d", r.ErrorCode)
	}
	id := rc.createTopic("known", 1, nil)
	if r := rc.produce("known", 5, plainBatch(1, "x")); r.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("produce to unknown partition: error %d", r.ErrorCode)
	}
	// v13 by an unknown id.
	req := kmsg.NewPtrProduceRequest()
	req.Acks = 1
	req.Topics = []kmsg.ProduceRequestTopic{{TopicID: [16]byte{1, 2, 3}, Partitions: []kmsg.ProduceRequestTopicPartition{{Records: plainBatch(1, "x")}}}}
	if r := do[*kmsg.ProduceResponse](rc, 13, req); r.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicID.Code {
		t.Fatalf("produce v13 to unknown id: error %d", r.Topics[0].Partitions[0].ErrorCode)
	}
	f := do[*kmsg.FetchResponse](rc, 13, fetchReq("", [16]byte{9}, 0, 0))
	if f.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicID.Code {
		t.Fatalf("fetch v13 by unknown id: error %d", f.Topics[0].Partitions[0].ErrorCode)
	}
	f = do[*kmsg.FetchResponse](rc, 12, fetchReq("nope", [16]byte{}, 0, 0))
	if f.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("fetch v12 unknown name: error %d", f.Topics[0].Partitions[0].ErrorCode)
	}
	f = do[*kmsg.FetchResponse](rc, 13, fetchReq("", id, 3, 0))
	if f.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("fetch v13 known id, unknown partition: error %d", f.Topics[0].Partitions[0].ErrorCode)
	}
}

func TestProduceAcksZeroHasNoResponse(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("acks0", 1, nil)
	req := kmsg.NewPtrProduceRequest()
	req.Acks = 0
	req.Topics = []kmsg.ProduceRequestTopic{{Topic: "acks0", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: plainBatch(1, "x")}}}}
	req.SetVersion(9)
	rc.send(req)
	// The next response on the connection belongs to the next request.
	md := kmsg.NewPtrMetadataRequest()
	md.SetVersion(9)
	corr := rc.send(md)
	if _, got := rc.recv(md); got != corr {
		t.Fatalf("first response has correlation id %d, want the metadata request's %d", got, corr)
	}
	if end := tb.b.partitionOf("acks0", 0).log.LogEndOffset(); end != 1 {
		t.Fatalf("log end %d after acks=0 produce, want 1", end)
	}
}

func TestFetchLongPoll(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("poll", 1, nil)

	t.Run("returns early on produce", func(t *testing.T) {
		req := fetchReq("poll", [16]byte{}, 0, 0)
		req.MinBytes, req.MaxWaitMillis = 1, 2000
		fc := tb.dial(t)
		start := time.Now()
		req.SetVersion(12)
		fc.send(req)
		time.Sleep(200 * time.Millisecond)
		rc.mustProduce("poll", 0, plainBatch(5, "wake"))
		resp, _ := fc.recv(req)
		el := time.Since(start)
		p := resp.(*kmsg.FetchResponse).Topics[0].Partitions[0]
		if _, vals := records(t, p.RecordBatches); len(vals) != 1 || vals[0] != "wake" {
			t.Fatalf("long poll returned %v", vals)
		}
		if el > 1500*time.Millisecond {
			t.Fatalf("long poll took %v; it should return soon after the produce", el)
		}
	})
	t.Run("empty after MaxWait", func(t *testing.T) {
		req := fetchReq("poll", [16]byte{}, 0, 1)
		req.MinBytes, req.MaxWaitMillis = 1, 2000
		start := time.Now()
		resp := do[*kmsg.FetchResponse](rc, 12, req)
		el := time.Since(start)
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || len(p.RecordBatches) != 0 || p.HighWatermark != 1 {
			t.Fatalf("error %d, %d bytes, hw %d", p.ErrorCode, len(p.RecordBatches), p.HighWatermark)
		}
		if el < 1900*time.Millisecond || el > 4*time.Second {
			t.Fatalf("empty long poll took %v, want about 2s", el)
		}
	})
	t.Run("MinBytes above available waits", func(t *testing.T) {
		// 1 record is available but MinBytes asks for much more: the
		// reply waits the full MaxWait and then returns what there is.
		req := fetchReq("poll", [16]byte{}, 0, 0)
		req.MinBytes, req.MaxWaitMillis = 1<<20, 500
		start := time.Now()
		resp := do[*kmsg.FetchResponse](rc, 12, req)
		if el := time.Since(start); el < 450*time.Millisecond {
			t.Fatalf("returned after %v, before MaxWait", el)
		}
		if _, vals := records(t, resp.Topics[0].Partitions[0].RecordBatches); len(vals) != 1 {
			t.Fatalf("got %d records, want the 1 available", len(vals))
		}
	})
}

func TestFetchSessionsRefused(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("sess", 1, nil)
	rc.mustProduce("sess", 0, plainBatch(1, "x"))

	for _, v := range []int16{7, 12, 18} {
		// A full fetch asking for a new session (epoch 0) gets none.
		req := fetchReq("sess", [16]byte{}, 0, 0)
		req.SessionID, req.SessionEpoch = 0, 0
		if v >= 13 {
			req = fetchReq("", tb.b.topicByName("sess").id, 0, 0)
			req.SessionEpoch = 0
		}
		resp := do[*kmsg.FetchResponse](rc, v, req)
		if resp.ErrorCode != 0 || resp.SessionID != 0 {
			t.Fatalf("v%d full fetch: error %d session id %d, want 0 and 0", v, resp.ErrorCode, resp.SessionID)
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions[0].RecordBatches) == 0 {
			t.Fatalf("v%d full fetch returned no data", v)
		}
		// An incremental fetch on a session we never created.
		inc := fetchReq("sess", [16]byte{}, 0, 0)
		inc.SessionID, inc.SessionEpoch = 1234, 1
		inc.Topics = nil
		resp = do[*kmsg.FetchResponse](rc, v, inc)
		if resp.ErrorCode != kerr.FetchSessionIDNotFound.Code {
			t.Fatalf("v%d incremental fetch: error %d, want FETCH_SESSION_ID_NOT_FOUND (70)", v, resp.ErrorCode)
		}
		if resp.SessionID != 0 {
			t.Fatalf("v%d refused session answered with session id %d", v, resp.SessionID)
		}
	}
}
