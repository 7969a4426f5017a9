package broker

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func listOffsets(rc *rawConn, v int16, topic string, partition int32, ts int64) kmsg.ListOffsetsResponseTopicPartition {
	rc.t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = partition, ts, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := do[*kmsg.ListOffsetsResponse](rc, v, req)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		rc.t.Fatalf("ListOffsets shape: %+v", resp.Topics)
	}
	return resp.Topics[0].Partitions[0]
}

// offsetsTopic creates a topic with three batches: offsets 0 (ts 1000),
// 1-2 (ts 2000, 2001) and 3 (ts 1500, out of order).
func offsetsTopic(t *testing.T, rc *rawConn, name string) {
	rc.createTopic(name, 1, nil)
	rc.mustProduce(name, 0, plainBatch(1000, "a"))
	rc.mustProduce(name, 0, plainBatch(2000, "b", "c"))
	rc.mustProduce(name, 0, plainBatch(1500, "d"))
}

func TestListOffsets(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	offsetsTopic(t, rc, "lo")

	cases := []struct {
		v          int16
		ts         int64
		wantOffset int64
		wantTs     int64
	}{
		{1, -1, 4, -1},     // latest
		{1, -2, 0, -1},     // earliest
		{7, -3, 2, 2001},   // max timestamp: the record, not the batch
		{8, -4, 0, -1},     // earliest local
		{5, 0, 0, 1000},    // first record at or after 0
		{5, 1000, 0, 1000}, // exact
		{5, 99999, -1, -1}, // none: offset -1
	}
	for _, c := range cases {
		p := listOffsets(rc, c.v, "lo", 0, c.ts)
		if p.ErrorCode != 0 || p.Offset != c.wantOffset {
			t.Errorf("v%d ts %d: error %d offset %d, want offset %d", c.v, c.ts, p.ErrorCode, p.Offset, c.wantOffset)
		}
		if c.v >= 1 && c.wantTs != -1 && p.Timestamp != c.wantTs {
			t.Errorf("v%d ts %d: timestamp %d, want %d", c.v, c.ts, p.Timestamp, c.wantTs)
		}
		if c.v >= 4 && p.LeaderEpoch != 0 {
			t.Errorf("v%d ts %d: leader epoch %d", c.v, c.ts, p.LeaderEpoch)
		}
	}
	if p := listOffsets(rc, 5, "lo", 1, -1); p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("unknown partition: error %d", p.ErrorCode)
	}
	if p := listOffsets(rc, 5, "nope", 0, -1); p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("unknown topic: error %d", p.ErrorCode)
	}
	// Empty topic: latest and earliest are 0, max timestamp is -1.
	rc.createTopic("lo-empty", 1, nil)
	if p := listOffsets(rc, 7, "lo-empty", 0, -1); p.Offset != 0 {
		t.Errorf("empty latest: %d", p.Offset)
	}
	if p := listOffsets(rc, 7, "lo-empty", 0, -3); p.ErrorCode != 0 || p.Offset != -1 || p.Timestamp != -1 {
		t.Errorf("empty max timestamp: error %d offset %d ts %d", p.ErrorCode, p.Offset, p.Timestamp)
	}
}

// TestListOffsetsTimestampWithinBatch: Kafka answers a timestamp lookup
// with the first *record* whose timestamp is at or after the target, and
// that record's own timestamp, not the batch's first offset and max
// timestamp.
func TestListOffsetsTimestampWithinBatch(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	offsetsTopic(t, rc, "lo-rec")
	cases := []struct {
		v                  int16
		ts, offset, wantTs int64
	}{
		{5, 1001, 1, 2000},  // next batch: its first record's timestamp
		{5, 2001, 2, 2001},  // the second record of a batch
		{11, 1600, 1, 2000}, // first offset with ts >= 1600, not the out-of-order batch
	}
	for _, c := range cases {
		p := listOffsets(rc, c.v, "lo-rec", 0, c.ts)
		if p.ErrorCode != 0 || p.Offset != c.offset || p.Timestamp != c.wantTs {
			t.Errorf("v%d ts %d: error %d offset %d timestamp %d, want offset %d timestamp %d",
				c.v, c.ts, p.ErrorCode, p.Offset, p.Timestamp, c.offset, c.wantTs)
		}
	}
}

func TestListOffsetsStaleLeaderEpoch(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("lo-epoch", 1, nil)
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	req.Topics = []kmsg.ListOffsetsRequestTopic{{Topic: "lo-epoch", Partitions: []kmsg.ListOffsetsRequestTopicPartition{{Partition: 0, CurrentLeaderEpoch: 3, Timestamp: -1}}}}
	resp := do[*kmsg.ListOffsetsResponse](rc, 6, req)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownLeaderEpoch.Code {
		t.Fatalf("future leader epoch: error %d, want UNKNOWN_LEADER_EPOCH", code)
	}
}

func deleteRecords(rc *rawConn, topic string, partition int32, offset int64) kmsg.DeleteRecordsResponseTopicPartition {
	rc.t.Helper()
	req := kmsg.NewPtrDeleteRecordsRequest()
	req.TimeoutMillis = 10000
	req.Topics = []kmsg.DeleteRecordsRequestTopic{{Topic: topic, Partitions: []kmsg.DeleteRecordsRequestTopicPartition{{Partition: partition, Offset: offset}}}}
	resp := do[*kmsg.DeleteRecordsResponse](rc, 2, req)
	return resp.Topics[0].Partitions[0]
}

func TestDeleteRecords(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	offsetsTopic(t, rc, "dr")

	if p := deleteRecords(rc, "dr", 0, 1); p.ErrorCode != 0 || p.LowWatermark != 1 {
		t.Fatalf("delete to 1: error %d low watermark %d", p.ErrorCode, p.LowWatermark)
	}
	if p := listOffsets(rc, 5, "dr", 0, -2); p.Offset != 1 {
		t.Fatalf("earliest after delete: %d, want 1", p.Offset)
	}
	// Fetching below the new start is out of range; at it, data comes back.
	f := do[*kmsg.FetchResponse](rc, 12, fetchReq("dr", [16]byte{}, 0, 0)).Topics[0].Partitions[0]
	if f.ErrorCode != kerr.OffsetOutOfRange.Code || f.LogStartOffset != 1 {
		t.Fatalf("fetch below log start: error %d log start %d", f.ErrorCode, f.LogStartOffset)
	}
	f = do[*kmsg.FetchResponse](rc, 12, fetchReq("dr", [16]byte{}, 0, 1)).Topics[0].Partitions[0]
	if offs, _ := records(t, f.RecordBatches); f.ErrorCode != 0 || len(offs) == 0 || offs[0] > 1 {
		t.Fatalf("fetch at log start: error %d offsets %v", f.ErrorCode, offs)
	}
	// Moving backwards changes nothing and reports the current start.
	if p := deleteRecords(rc, "dr", 0, 0); p.ErrorCode != 0 || p.LowWatermark != 1 {
		t.Fatalf("delete backwards: error %d low watermark %d", p.ErrorCode, p.LowWatermark)
	}
	if p := deleteRecords(rc, "dr", 0, 5); p.ErrorCode != kerr.OffsetOutOfRange.Code {
		t.Fatalf("delete beyond high watermark: error %d", p.ErrorCode)
	}
	// -1 means the high watermark.
	if p := deleteRecords(rc, "dr", 0, -1); p.ErrorCode != 0 || p.LowWatermark != 4 {
		t.Fatalf("delete to -1: error %d low watermark %d", p.ErrorCode, p.LowWatermark)
	}
	if p := listOffsets(rc, 5, "dr", 0, -2); p.Offset != 4 {
		t.Fatalf("earliest after deleting all: %d", p.Offset)
	}
	// New data continues at the old end.
	if off := rc.mustProduce("dr", 0, plainBatch(3000, "e")); off != 4 {
		t.Fatalf("produce after delete: offset %d", off)
	}
	if p := deleteRecords(rc, "dr", 3, 0); p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown partition: error %d", p.ErrorCode)
	}
}

func offsetForEpoch(rc *rawConn, v int16, topic string, partition, current, epoch int32) kmsg.OffsetForLeaderEpochResponseTopicPartition {
	rc.t.Helper()
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.ReplicaID = -1
	req.Topics = []kmsg.OffsetForLeaderEpochRequestTopic{{Topic: topic, Partitions: []kmsg.OffsetForLeaderEpochRequestTopicPartition{{Partition: partition, CurrentLeaderEpoch: current, LeaderEpoch: epoch}}}}
	resp := do[*kmsg.OffsetForLeaderEpochResponse](rc, v, req)
	return resp.Topics[0].Partitions[0]
}

func TestOffsetForLeaderEpoch(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	offsetsTopic(t, rc, "ofle")
	for _, v := range []int16{2, 3, 4} {
		p := offsetForEpoch(rc, v, "ofle", 0, 0, 0)
		if p.ErrorCode != 0 || p.LeaderEpoch != 0 || p.EndOffset != 4 {
			t.Fatalf("v%d epoch 0: error %d epoch %d end %d, want 0/0/4", v, p.ErrorCode, p.LeaderEpoch, p.EndOffset)
		}
	}
	// CurrentLeaderEpoch -1 skips the fencing check.
	if p := offsetForEpoch(rc, 4, "ofle", 0, -1, 0); p.ErrorCode != 0 || p.EndOffset != 4 {
		t.Fatalf("current -1: error %d end %d", p.ErrorCode, p.EndOffset)
	}
	if p := offsetForEpoch(rc, 4, "ofle", 0, 5, 0); p.ErrorCode != kerr.UnknownLeaderEpoch.Code {
		t.Fatalf("future current epoch: error %d, want UNKNOWN_LEADER_EPOCH", p.ErrorCode)
	}
	if p := offsetForEpoch(rc, 4, "nope", 0, 0, 0); p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic: error %d", p.ErrorCode)
	}
}

// TestOffsetForLeaderEpochBeyondLatest: an epoch larger than any the log
// knows is answered with UNDEFINED_EPOCH (-1) and UNDEFINED_EPOCH_OFFSET
// (-1), as Kafka's LeaderEpochFileCache.endOffsetFor does; only the latest
// epoch itself maps to the log end.
func TestOffsetForLeaderEpochBeyondLatest(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	offsetsTopic(t, rc, "ofle-future")
	if p := offsetForEpoch(rc, 4, "ofle-future", 0, -1, 7); p.ErrorCode != 0 || p.LeaderEpoch != -1 || p.EndOffset != -1 {
		t.Fatalf("epoch 7 (latest is 0): error %d epoch %d end %d, want 0/-1/-1", p.ErrorCode, p.LeaderEpoch, p.EndOffset)
	}
}
