package badinput

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestIdempotentSequences: a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER
// and appends nothing; a retried batch gets its original offset and is not
// appended twice.
func TestIdempotentSequences(t *testing.T) {
	e := shared(t)
	const topic = "idempotent"
	e.createTopic(t, topic, 1, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ireq := kmsg.NewPtrInitProducerIDRequest()
	ireq.ProducerID, ireq.ProducerEpoch = -1, -1
	ireq.TransactionTimeoutMillis = 60000
	iresp, err := ireq.RequestWith(ctx, e.cl)
	if err != nil {
		t.Fatal(err)
	}
	if iresp.ErrorCode != 0 || iresp.ProducerID < 0 {
		t.Fatalf("InitProducerID: error %v id %d", kerr.ErrorForCode(iresp.ErrorCode), iresp.ProducerID)
	}
	pid, epoch := iresp.ProducerID, iresp.ProducerEpoch
	batch := func(seq int32, values ...string) []byte {
		return makeBatch(batchOpts{values: values, producerID: pid, producerEpoch: epoch, firstSeq: seq})
	}

	c := dialRaw(t, e.b.Addr)
	a := batch(0, "a0", "a1", "a2")
	res := produceRaw(t, c, topic, 0, -1, a)
	wantNoErr(t, "first batch", res.ErrorCode)
	if res.BaseOffset != 0 {
		t.Fatalf("first batch at %d, want 0", res.BaseOffset)
	}

	check := func(what string, b []byte, wantErr *kerr.Error, wantBase int64, wantEnd int64) {
		t.Helper()
		res := produceRaw(t, c, topic, 0, -1, b)
		if wantErr != nil {
			wantCode(t, what, res.ErrorCode, wantErr)
		} else {
			wantNoErr(t, what, res.ErrorCode)
			if res.BaseOffset != wantBase {
				t.Errorf("%s: base offset %d, want %d", what, res.BaseOffset, wantBase)
			}
		}
		if end := endOffset(t, e.b.Addr, topic, 0); end != wantEnd {
			t.Errorf("%s: log end offset %d, want %d", what, end, wantEnd)
		}
	}
	check("duplicate of first batch", a, nil, 0, 3)
	check("sequence gap (10 after 2)", batch(10, "gap"), kerr.OutOfOrderSequenceNumber, 0, 3)
	check("sequence gap (4 after 2)", batch(4, "gap"), kerr.OutOfOrderSequenceNumber, 0, 3)
	check("next batch", batch(3, "b3", "b4"), nil, 3, 5)
	check("duplicate of older batch", a, nil, 0, 5)
	check("duplicate of latest batch", batch(3, "b3", "b4"), nil, 3, 5)
	// Overlaps earlier sequences without matching a batch: out of order.
	check("overlapping old sequence", batch(1, "x", "y"), kerr.OutOfOrderSequenceNumber, 0, 5)
	check("next after errors", batch(5, "c5"), nil, 5, 6)

	got := readPartition(t, e.b.Addr, topic, 0)
	want := []rec{{0, "", "a0"}, {1, "", "a1"}, {2, "", "a2"}, {3, "", "b3"}, {4, "", "b4"}, {5, "", "c5"}}
	assertRecs(t, topic, got, want)
	e.afterCase(t)
}
