package badinput

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestProduceBadBatches sends invalid record batches (Produce v9). Each gets
// Kafka's per-partition error, the log end offset does not move, and the
// records written before read back identical.
func TestProduceBadBatches(t *testing.T) {
	e := shared(t)
	const topic = "produce-bad"
	e.createTopic(t, topic, 1, map[string]*string{"max.message.bytes": kmsg.StringPtr("4096")})

	// Earlier data in the partition.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var before []rec
	for i := 0; i < 5; i++ {
		r := &kgo.Record{Topic: topic, Partition: 0, Key: []byte{'k', byte('0' + i)}, Value: []byte(strings.Repeat("v", i+1))}
		if err := e.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
		before = append(before, rec{Offset: r.Offset, Key: string(r.Key), Value: string(r.Value)})
	}

	good := plainBatch("one", "two", "three")
	badCRC := append([]byte(nil), good...)
	badCRC[len(badCRC)-2] ^= 0x40 // flip a bit in the last record's value
	badCRCField := append([]byte(nil), good...)
	badCRCField[17] ^= 0xff
	magic1 := append([]byte(nil), good...)
	magic1[16] = 1 // magic is outside the CRC, so the CRC still matches
	magic0 := append([]byte(nil), good...)
	magic0[16] = 0
	magic3 := append([]byte(nil), good...)
	magic3[16] = 3
	magicNeg := append([]byte(nil), good...)
	magicNeg[16] = 0xff
	baseOffset5 := append([]byte(nil), good...)
	baseOffset5[7] = 5 // base offset is outside the CRC
	twoBatches := append(append([]byte(nil), good...), plainBatch("four")...)
	tooLarge := plainBatch(strings.Repeat("x", 5000))
	truncated := good[:len(good)-5]
	tinyLength := append([]byte(nil), good...)
	tinyLength[8], tinyLength[9], tinyLength[10], tinyLength[11] = 0, 0, 0, 10 // below the batch header size
	zeroRecordsClaim := append([]byte(nil), good...)
	zeroRecordsClaim[57], zeroRecordsClaim[58], zeroRecordsClaim[59], zeroRecordsClaim[60] = 0, 0, 0, 9 // 9 records claimed, 3 present
	fixCRC(zeroRecordsClaim)

	cases := []struct {
		name    string
		records []byte
		acks    int16
		want    *kerr.Error
	}{
		// Kafka: CRC mismatch is CorruptRecordException.
		{"bad crc (payload bit flip)", badCRC, -1, kerr.CorruptMessage},
		{"bad crc (crc field)", badCRCField, 1, kerr.CorruptMessage},
		// Kafka ProduceRequest.validateRecords (v3+): magic must be 2,
		// exactly one batch, at least one batch: InvalidRecordException.
		{"magic 1", magic1, -1, kerr.InvalidRecord},
		{"magic 0", magic0, 1, kerr.InvalidRecord},
		// A magic Kafka does not know fails in its batch iterator
		// (ByteBufferLogInputStream): CorruptRecordException.
		{"magic 3", magic3, -1, kerr.CorruptMessage},
		{"magic -1", magicNeg, -1, kerr.CorruptMessage},
		{"two batches", twoBatches, -1, kerr.InvalidRecord},
		{"no records", []byte{}, -1, kerr.InvalidRecord},
		// A batch shorter than its length field is no batch at all to
		// Kafka's batch iterator, so validateRecords finds none.
		{"truncated batch", truncated, -1, kerr.InvalidRecord},
		// A length below the batch overhead is CorruptRecordException.
		{"length field below header size", tinyLength, -1, kerr.CorruptMessage},
		// Record count disagrees with the records: the batch fails
		// validation while iterating records (InvalidRecordException
		// in Kafka's LogValidator).
		{"record count larger than records", zeroRecordsClaim, -1, kerr.InvalidRecord},
		// UnifiedLog.analyzeAndValidateRecords: a client batch's base
		// offset must be 0 (InvalidRecordException).
		{"base offset 5", baseOffset5, -1, kerr.InvalidRecord},
		{"over max.message.bytes", tooLarge, -1, kerr.MessageTooLarge},
		{"acks=5", good, 5, kerr.InvalidRequiredAcks},
		{"acks=-2", good, -2, kerr.InvalidRequiredAcks},
		{"acks=2", good, 2, kerr.InvalidRequiredAcks},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			endBefore := endOffset(t, e.b.Addr, topic, 0)
			c := dialRaw(t, e.b.Addr)
			res := produceRaw(t, c, topic, 0, tc.acks, tc.records)
			wantCode(t, tc.name, res.ErrorCode, tc.want)
			if res.ErrorCode != 0 && res.BaseOffset != -1 {
				t.Errorf("%s: error response carries base offset %d, want -1", tc.name, res.BaseOffset)
			}
			// The connection stays usable: a bad batch is not a bad frame.
			ok := produceRaw(t, c, healthTopic, 0, -1, plainBatch("after "+tc.name))
			wantNoErr(t, "good produce on the same connection", ok.ErrorCode)
			if end := endOffset(t, e.b.Addr, topic, 0); end != endBefore {
				t.Errorf("%s: log end offset moved %d -> %d", tc.name, endBefore, end)
				got := readPartition(t, e.b.Addr, topic, 0)
				assertRecs(t, topic+" (old records)", got[:len(before)], before)
				before = got // judge the later cases on their own
			} else {
				assertRecs(t, topic, readPartition(t, e.b.Addr, topic, 0), before)
			}
			e.afterCase(t)
		})
	}

	// A good batch still appends after all that, right after the old data.
	c := dialRaw(t, e.b.Addr)
	res := produceRaw(t, c, topic, 0, -1, good)
	wantNoErr(t, "good batch", res.ErrorCode)
	n := int64(len(before))
	if res.BaseOffset != n {
		t.Errorf("good batch at offset %d, want %d", res.BaseOffset, n)
	}
	got := readPartition(t, e.b.Addr, topic, 0)
	want := append(before, rec{n, "", "one"}, rec{n + 1, "", "two"}, rec{n + 2, "", "three"})
	assertRecs(t, topic, got, want)
}

// TestProduceUnknownTopicOrPartition: produce to a partition that does not
// exist or to a deleted topic is UNKNOWN_TOPIC_OR_PARTITION.
func TestProduceUnknownTopicOrPartition(t *testing.T) {
	e := shared(t)
	const gone = "produce-deleted"
	e.createTopic(t, gone, 1, nil)
	c := dialRaw(t, e.b.Addr)
	wantNoErr(t, "produce before delete", produceRaw(t, c, gone, 0, -1, plainBatch("x")).ErrorCode)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dr, err := kadm.NewClient(e.cl).DeleteTopics(ctx, gone)
	if err != nil || dr[gone].Err != nil {
		t.Fatalf("delete topic: %v %v", err, dr[gone].Err)
	}
	// Deletion may take effect asynchronously, as in Kafka: poll briefly.
	deadline := time.Now().Add(10 * time.Second)
	var code int16
	for {
		code = produceRaw(t, c, gone, 0, -1, plainBatch("after delete")).ErrorCode
		if code == kerr.UnknownTopicOrPartition.Code || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	wantCode(t, "produce to deleted topic", code, kerr.UnknownTopicOrPartition)

	endBefore := endOffset(t, e.b.Addr, dataTopic, 0)
	for _, p := range []int32{2, 7, -1, 1 << 30} {
		wantCode(t, "produce to data partition", produceRaw(t, c, dataTopic, p, -1, plainBatch("x")).ErrorCode, kerr.UnknownTopicOrPartition)
	}
	wantCode(t, "produce to never-created topic", produceRaw(t, c, "no-such-topic", 0, 1, plainBatch("x")).ErrorCode, kerr.UnknownTopicOrPartition)
	if end := endOffset(t, e.b.Addr, dataTopic, 0); end != endBefore {
		t.Errorf("data/0 end offset moved %d -> %d", endBefore, end)
	}
	// acks=0: no response, and nothing written.
	if err := c.writeBytes(func() []byte { f, _ := c.frameOf(produceReq("no-such-topic", 0, 0, plainBatch("x"))); return f }()); err != nil {
		t.Fatal(err)
	}
	wantNoErr(t, "produce after acks=0", produceRaw(t, c, healthTopic, 0, 1, plainBatch("y")).ErrorCode)
	e.afterCase(t)
}
