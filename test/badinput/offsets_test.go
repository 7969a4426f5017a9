package badinput

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchReq is a sessionless Fetch v12 (topics by name) for one partition.
func fetchReq(topic string, partition int32, offset int64) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	req.ReplicaID = -1
	req.MaxWaitMillis = 100
	req.MinBytes = 1
	req.MaxBytes = 1 << 20
	req.SessionID, req.SessionEpoch = 0, -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = partition
	rp.FetchOffset = offset
	rp.CurrentLeaderEpoch, rp.LastFetchedEpoch, rp.LogStartOffset = -1, -1, -1
	rp.PartitionMaxBytes = 1 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func fetchOne(t testing.TB, c *rawConn, req *kmsg.FetchRequest) (*kmsg.FetchResponse, kmsg.FetchResponseTopicPartition) {
	t.Helper()
	resp := c.roundTrip(t, req).(*kmsg.FetchResponse)
	if resp.ErrorCode != 0 {
		return resp, kmsg.FetchResponseTopicPartition{}
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch response has %+v, want one topic with one partition", resp.Topics)
	}
	return resp, resp.Topics[0].Partitions[0]
}

// TestFetchOutOfRange: offsets past the high watermark or negative are
// OFFSET_OUT_OF_RANGE; an unknown incremental session is
// FETCH_SESSION_ID_NOT_FOUND.
func TestFetchOutOfRange(t *testing.T) {
	e := shared(t)
	c := dialRaw(t, e.b.Addr)
	start, end := offsets(t, e.b.Addr, dataTopic, 0)
	for _, off := range []int64{end + 1, end + 1000, -5, 1 << 62} {
		_, p := fetchOne(t, c, fetchReq(dataTopic, 0, off))
		wantCode(t, "fetch offset "+itoa(off), p.ErrorCode, kerr.OffsetOutOfRange)
		if len(p.RecordBatches) != 0 {
			t.Errorf("fetch offset %d: %d bytes of records with the error", off, len(p.RecordBatches))
		}
		if p.HighWatermark != end || p.LogStartOffset != start {
			t.Errorf("fetch offset %d: high watermark %d log start %d, want %d %d", off, p.HighWatermark, p.LogStartOffset, end, start)
		}
	}
	// At the high watermark exactly: no error, no records (long poll ends).
	_, p := fetchOne(t, c, fetchReq(dataTopic, 0, end))
	wantNoErr(t, "fetch at high watermark", p.ErrorCode)

	_, p = fetchOne(t, c, fetchReq(dataTopic, 9, 0))
	wantCode(t, "fetch unknown partition", p.ErrorCode, kerr.UnknownTopicOrPartition)
	_, p = fetchOne(t, c, fetchReq("no-such-topic", 0, 0))
	wantCode(t, "fetch unknown topic", p.ErrorCode, kerr.UnknownTopicOrPartition)

	// Incremental fetch on a session the broker never created.
	for _, s := range []struct{ id, epoch int32 }{{12345, 1}, {7, 3}} {
		req := fetchReq(dataTopic, 0, 0)
		req.SessionID, req.SessionEpoch = s.id, s.epoch
		resp, _ := fetchOne(t, c, req)
		wantCode(t, "incremental fetch session "+itoa(int64(s.id)), resp.ErrorCode, kerr.FetchSessionIDNotFound)
	}
	// The connection still fetches normally, and the data is intact.
	_, p = fetchOne(t, c, fetchReq(dataTopic, 0, start))
	wantNoErr(t, "fetch from log start", p.ErrorCode)
	if len(p.RecordBatches) == 0 {
		t.Error("fetch from log start returned no records")
	}
	e.afterCase(t)
}

// TestDeleteRecordsOutOfRange: DeleteRecords beyond the high watermark or
// below zero is OFFSET_OUT_OF_RANGE and deletes nothing.
func TestDeleteRecordsOutOfRange(t *testing.T) {
	e := shared(t)
	c := dialRaw(t, e.b.Addr)
	start, end := offsets(t, e.b.Addr, dataTopic, 1)
	deleteReq := func(topic string, p int32, off int64) *kmsg.DeleteRecordsRequest {
		req := kmsg.NewPtrDeleteRecordsRequest()
		req.SetVersion(2)
		req.TimeoutMillis = 10000
		rt := kmsg.NewDeleteRecordsRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewDeleteRecordsRequestTopicPartition()
		rp.Partition, rp.Offset = p, off
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return req
	}
	one := func(req *kmsg.DeleteRecordsRequest) kmsg.DeleteRecordsResponseTopicPartition {
		resp := c.roundTrip(t, req).(*kmsg.DeleteRecordsResponse)
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			t.Fatalf("DeleteRecords response %+v", resp.Topics)
		}
		return resp.Topics[0].Partitions[0]
	}
	for _, off := range []int64{end + 1, end + 1000, -5, -2} {
		p := one(deleteReq(dataTopic, 1, off))
		wantCode(t, "DeleteRecords offset "+itoa(off), p.ErrorCode, kerr.OffsetOutOfRange)
	}
	wantCode(t, "DeleteRecords unknown partition", one(deleteReq(dataTopic, 5, 0)).ErrorCode, kerr.UnknownTopicOrPartition)
	wantCode(t, "DeleteRecords unknown topic", one(deleteReq("no-such-topic", 0, 0)).ErrorCode, kerr.UnknownTopicOrPartition)
	if s, en := offsets(t, e.b.Addr, dataTopic, 1); s != start || en != end {
		t.Errorf("offsets moved: [%d,%d) -> [%d,%d)", start, end, s, en)
	}
	e.afterCase(t)
}

// TestListOffsetsOutOfRange: Kafka's ListOffsets has no OFFSET_OUT_OF_RANGE;
// a timestamp after every record answers offset -1 with no error, and an
// unknown partition is UNKNOWN_TOPIC_OR_PARTITION.
func TestListOffsetsOutOfRange(t *testing.T) {
	e := shared(t)
	c := dialRaw(t, e.b.Addr)
	list := func(topic string, p int32, ts int64) kmsg.ListOffsetsResponseTopicPartition {
		req := kmsg.NewPtrListOffsetsRequest()
		req.SetVersion(7)
		req.ReplicaID = -1
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = p, ts, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := c.roundTrip(t, req).(*kmsg.ListOffsetsResponse)
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			t.Fatalf("ListOffsets response %+v", resp.Topics)
		}
		return resp.Topics[0].Partitions[0]
	}
	future := time.Now().Add(24 * time.Hour).UnixMilli()
	p := list(dataTopic, 0, future)
	wantNoErr(t, "ListOffsets future timestamp", p.ErrorCode)
	if p.Offset != -1 || p.Timestamp != -1 {
		t.Errorf("ListOffsets future timestamp: offset %d timestamp %d, want -1 -1", p.Offset, p.Timestamp)
	}
	p = list(dataTopic, 0, -1)
	wantNoErr(t, "ListOffsets latest", p.ErrorCode)
	if p.Offset != dataPerPart {
		t.Errorf("ListOffsets latest = %d, want %d", p.Offset, dataPerPart)
	}
	p = list(dataTopic, 0, -2)
	if p.ErrorCode != 0 || p.Offset != 0 {
		t.Errorf("ListOffsets earliest = %d (err %d), want 0", p.Offset, p.ErrorCode)
	}
	wantCode(t, "ListOffsets unknown partition", list(dataTopic, 3, -1).ErrorCode, kerr.UnknownTopicOrPartition)
	wantCode(t, "ListOffsets unknown topic", list("no-such-topic", 0, -1).ErrorCode, kerr.UnknownTopicOrPartition)
	e.afterCase(t)
}
