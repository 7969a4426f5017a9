package broker

import (
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestProduceValidation(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("pv", 1, map[string]string{"max.message.bytes": "500"})
	rc.createTopic("pv-isr", 1, map[string]string{"min.insync.replicas": "2"})

	good := plainBatch(1, "ok")
	badCRC := append([]byte(nil), good...)
	badCRC[len(badCRC)-1] ^= 1
	magic1 := append([]byte(nil), good...)
	magic1[16] = 1
	short := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(short[8:], uint32(len(short))) // claims more bytes than sent
	txn := makeBatch(batchOpts{producerID: 5, timestamp: 1}, "t")
	binary.BigEndian.PutUint16(txn[21:], 0x10) // transactional attribute
	binary.BigEndian.PutUint32(txn[17:], crc32.Checksum(txn[21:], crcTable))

	cases := []struct {
		name    string
		records []byte
		code    int16
	}{
		{"corrupt CRC", badCRC, kerr.CorruptMessage.Code},
		{"magic 1", magic1, kerr.InvalidRecord.Code},
		{"two batches", append(append([]byte(nil), good...), good...), kerr.InvalidRecord.Code},
		{"length beyond data", short, kerr.InvalidRecord.Code}, // Kafka finds no whole batch
		{"empty", []byte{}, kerr.InvalidRecord.Code},
		{"too large", plainBatch(1, string(make([]byte, 600))), kerr.MessageTooLarge.Code},
		{"transactional", txn, kerr.InvalidTxnState.Code},
	}
	for _, c := range cases {
		r := rc.produce("pv", 0, c.records)
		if r.ErrorCode != c.code {
			t.Errorf("%s: error %d, want %d", c.name, r.ErrorCode, c.code)
		}
		if r.BaseOffset != -1 {
			t.Errorf("%s: base offset %d on error", c.name, r.BaseOffset)
		}
	}
	if end := tb.b.partitionOf("pv", 0).log.LogEndOffset(); end != 0 {
		t.Fatalf("refused batches appended: log end %d", end)
	}

	req := kmsg.NewPtrProduceRequest()
	req.Acks = 2
	req.Topics = []kmsg.ProduceRequestTopic{{Topic: "pv", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: good}}}}
	if r := do[*kmsg.ProduceResponse](rc, 9, req); r.Topics[0].Partitions[0].ErrorCode != kerr.InvalidRequiredAcks.Code {
		t.Fatalf("acks=2: error %d", r.Topics[0].Partitions[0].ErrorCode)
	}
	// min.insync.replicas above the ISR refuses acks=all but not acks=1.
	req = kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	req.Topics = []kmsg.ProduceRequestTopic{{Topic: "pv-isr", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: good}}}}
	if r := do[*kmsg.ProduceResponse](rc, 9, req); r.Topics[0].Partitions[0].ErrorCode != kerr.NotEnoughReplicas.Code {
		t.Fatalf("acks=all with min.insync.replicas=2: error %d", r.Topics[0].Partitions[0].ErrorCode)
	}
	if off := rc.mustProduce("pv-isr", 0, good); off != 0 {
		t.Fatalf("acks=1 with min.insync.replicas=2: offset %d", off)
	}
}

func TestFetchSizeLimits(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	rc.createTopic("fl", 2, nil)
	big := plainBatch(1, string(make([]byte, 1000)))
	for i := 0; i < 3; i++ {
		rc.mustProduce("fl", 0, big)
		rc.mustProduce("fl", 1, big)
	}
	// KIP-74: a first batch larger than the limit still comes back whole.
	req := fetchReq("fl", [16]byte{}, 0, 0)
	req.Topics[0].Partitions[0].PartitionMaxBytes = 10
	p := do[*kmsg.FetchResponse](rc, 12, req).Topics[0].Partitions[0]
	if offs, _ := records(t, p.RecordBatches); p.ErrorCode != 0 || len(offs) != 1 {
		t.Fatalf("tiny partition limit: error %d, %d records; want the first batch whole", p.ErrorCode, len(offs))
	}
	// The response-wide MaxBytes bounds what the second partition gets.
	req = fetchReq("fl", [16]byte{}, 0, 0)
	rp := req.Topics[0].Partitions[0]
	rp.Partition = 1
	req.Topics[0].Partitions = append(req.Topics[0].Partitions, rp)
	req.MaxBytes = int32(len(big)) * 3
	resp := do[*kmsg.FetchResponse](rc, 12, req)
	total := 0
	for _, p := range resp.Topics[0].Partitions {
		if p.ErrorCode != 0 {
			t.Fatalf("partition %d: error %d", p.Partition, p.ErrorCode)
		}
		records(t, p.RecordBatches) // whole batches only
		total += len(p.RecordBatches)
	}
	if total > int(req.MaxBytes) || total == 0 {
		t.Fatalf("fetched %d bytes with MaxBytes %d", total, req.MaxBytes)
	}
	if n := len(resp.Topics[0].Partitions[0].RecordBatches); n != 3*len(big) {
		t.Fatalf("first partition got %d bytes, want all %d", n, 3*len(big))
	}
}
