package replica

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// epochs is a follower epoch cache for decideTruncation: epoch -> start.
func localEpochs(leo int64, entries ...[2]int64) epochEnd {
	return func(epoch int32) (int32, int64) {
		if len(entries) == 0 || epoch < 0 {
			return -1, -1
		}
		for i := len(entries) - 1; i >= 0; i-- {
			if int32(entries[i][0]) <= epoch {
				if i == len(entries)-1 {
					if int32(entries[i][0]) == epoch {
						return epoch, leo
					}
					return -1, -1
				}
				return int32(entries[i][0]), entries[i+1][1]
			}
		}
		return epoch, entries[0][1]
	}
}

func TestDecideTruncation(t *testing.T) {
	// Follower: epoch 1 at 0, epoch 3 at 10, log end 20.
	f := localEpochs(20, [2]int64{1, 0}, [2]int64{3, 10})
	for _, c := range []struct {
		name     string
		epoch    int32
		end      int64
		local    epochEnd
		leo      int64
		want     int64
		wantDone bool
	}{
		{"leader agrees at our end", 3, 20, f, 20, 20, true},
		{"leader ends our epoch earlier", 3, 15, f, 20, 15, true},
		{"leader is ahead in our epoch", 3, 30, f, 20, 20, true},
		{"leader has an epoch we never saw", 2, 12, f, 20, 10, false},
		{"leader only knows epoch 1", 1, 10, f, 20, 10, true},
		{"leader epoch 1 ends earlier than ours", 1, 6, f, 20, 6, true},
		{"undefined answer truncates nothing", -1, -1, f, 20, 20, true},
		{"no epoch but an end offset", -1, 12, f, 20, 12, true},
		{"older than anything we know", 0, 5, localEpochs(20, [2]int64{2, 8}), 20, 5, true},
		{"follower without epochs", 4, 7, localEpochs(20), 20, 7, true},
	} {
		got := decideTruncation(c.epoch, c.end, c.local, c.leo)
		if got.offset != c.want || got.done != c.wantDone {
			t.Errorf("%s: got (%d, done %v), want (%d, done %v)", c.name, got.offset, got.done, c.want, c.wantDone)
		}
	}
}

func TestWholeBatches(t *testing.T) {
	// Three stored batches of 2 records at offsets 0, 2, 4.
	var all []byte
	for i := range 3 {
		b := testBatch(2, 'x', i)
		b[7] = byte(2 * i) // base offset
		all = append(all, b...)
	}
	n := len(testBatch(2, 'x', 0))
	if got := wholeBatches(all, 0); !bytes.Equal(got, all) {
		t.Fatalf("whole set: %d bytes", len(got))
	}
	if got := wholeBatches(all[:3*n-5], 0); len(got) != 2*n {
		t.Fatalf("partial tail not cut: %d bytes", len(got))
	}
	if got := wholeBatches(all[:2*n+20], 0); len(got) != 2*n {
		t.Fatalf("partial header not cut: %d bytes", len(got))
	}
	if got := wholeBatches(all, 3); !bytes.Equal(got, all[n:]) {
		t.Fatalf("batch below the fetch offset kept: %d bytes", len(got))
	}
	if got := wholeBatches(all[:n-1], 0); got != nil {
		t.Fatalf("partial only batch: %d bytes", len(got))
	}
}

func TestParseResponseHeader(t *testing.T) {
	resp := kmsg.NewPtrFetchResponse()
	resp.Version = 12
	frame := []byte{0, 0, 0, 7, 1, 0, 1, 0xaa, 'b', 'o', 'd', 'y'} // corr 7, one tag of 1 byte
	body, err := parseResponseHeader(frame, 7, resp)
	if err != nil || string(body) != "body" {
		t.Fatalf("flexible header: %q %v", body, err)
	}
	if _, err := parseResponseHeader(frame, 8, resp); err == nil {
		t.Fatal("correlation mismatch accepted")
	}
	if _, err := parseResponseHeader([]byte{0, 0, 0, 7, 1, 0, 9}, 7, resp); err == nil {
		t.Fatal("tag beyond frame accepted")
	}
	old := kmsg.NewPtrFetchResponse()
	old.Version = 11
	if body, err := parseResponseHeader(frame, 7, old); err != nil || len(body) != len(frame)-4 {
		t.Fatalf("non-flexible header: %v", err)
	}
}
