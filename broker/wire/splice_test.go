package wire

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The spliced frame must equal, byte for byte, the plainly encoded one, at
// every Fetch version.
func TestAppendFetchSplicedMatchesPlainEncoding(t *testing.T) {
	big := bytes.Repeat([]byte("batch-bytes-"), 40000) // ~480 KiB
	for v := int16(4); v <= kmsg.NewPtrFetchResponse().MaxVersion(); v++ {
		resp := kmsg.NewPtrFetchResponse()
		resp.SetVersion(v)
		for ti, name := range []string{"a", "b"} {
			rt := kmsg.NewFetchResponseTopic()
			rt.Topic = name
			rt.TopicID = [16]byte{byte(ti + 1)}
			for p := int32(0); p < 3; p++ {
				rp := kmsg.NewFetchResponseTopicPartition()
				rp.Partition = p
				rp.HighWatermark = 100
				if p != 1 {
					rp.RecordBatches = big[:len(big)-int(p)*1000-ti]
				} else {
					rp.RecordBatches = []byte{}
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		want := AppendResponse(nil, 7, resp)
		bufs, ok, err := AppendFetchSpliced(nil, 7, resp)
		if err != nil || !ok {
			t.Fatalf("v%d: ok %v err %v", v, ok, err)
		}
		got := bytes.Join(bufs, nil)
		if !bytes.Equal(got, want) {
			t.Fatalf("v%d: spliced frame (%d bytes) differs from plain encoding (%d bytes)", v, len(got), len(want))
		}
		// The response is left as it was.
		if again := AppendResponse(nil, 7, resp); !bytes.Equal(again, want) {
			t.Fatalf("v%d: response modified by splicing", v)
		}
	}
}

func TestAppendFetchSplicedSmallIsSkipped(t *testing.T) {
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(12)
	rt := kmsg.NewFetchResponseTopic()
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.RecordBatches = []byte("small")
	rt.Partitions = append(rt.Partitions, rp)
	resp.Topics = append(resp.Topics, rt)
	if _, ok, err := AppendFetchSpliced(nil, 1, resp); ok || err != nil {
		t.Fatalf("small response spliced: ok %v err %v", ok, err)
	}
}
