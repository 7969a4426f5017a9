package badinput

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/test/harness"
)

// fuzzCheckEvery is how often (in inputs) the fuzz target runs a full
// produce-and-consume with a kgo client; every input gets a cheap
// ApiVersions round trip on a fresh connection.
const fuzzCheckEvery = 50

var (
	fuzzOnce   sync.Once
	fuzzBroker *harness.Broker
	fuzzErr    error
	fuzzInputs atomic.Int64
)

// startFuzzBroker starts the fuzz target's own broker (bad inputs may
// create or change topics, so it is not the shared one) with a health topic.
func startFuzzBroker() (*harness.Broker, error) {
	dir, err := os.MkdirTemp("", "badinput-fuzz-*")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b, err := harness.Start(ctx, harness.Options{DataDir: dir, Args: []string{
		"--num-partitions", "1",
		"--auto-create-topics-enable=false",
		"--group-initial-rebalance-delay", "0s",
		"--socket-request-max-bytes", fmt.Sprint(socketMax),
	}})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	addCleanup(func() {
		if err := b.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "badinput: stopping fuzz broker: %v\n%s\n", err, b.LogTail(40))
		}
		os.RemoveAll(dir)
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for _, topic := range []string{healthTopic, "fuzz"} {
		if err := createTopicErr(ctx, adm, topic, 1, nil); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// fuzzSeeds are valid frame bodies (no size prefix) and mutations of them.
func fuzzSeeds() [][]byte {
	var c rawConn
	body := func(r kmsg.Request) []byte {
		f, _ := c.frameOf(r)
		return f[4:]
	}
	var seeds [][]byte
	for _, v := range []int16{0, 3, 4} {
		r := kmsg.NewPtrApiVersionsRequest()
		r.SetVersion(v)
		r.ClientSoftwareName, r.ClientSoftwareVersion = "fuzz", "1"
		seeds = append(seeds, body(r))
	}
	for _, v := range []int16{1, 9, 12} {
		r := kmsg.NewPtrMetadataRequest()
		r.SetVersion(v)
		t := kmsg.NewMetadataRequestTopic()
		t.Topic = kmsg.StringPtr("fuzz")
		r.Topics = append(r.Topics, t)
		seeds = append(seeds, body(r))
	}
	for _, v := range []int16{3, 9} {
		p := produceReq("fuzz", 0, 1, plainBatch("seed one", "seed two"))
		p.SetVersion(v)
		seeds = append(seeds, body(p))
	}
	f := fetchReq("fuzz", 0, 0)
	seeds = append(seeds, body(f))

	// Mutations: truncations, a flipped byte, a huge array length, a
	// version bump, a bad CRC.
	produce := body(produceReq("fuzz", 0, -1, plainBatch("mutant")))
	seeds = append(seeds,
		produce[:len(produce)/2],
		produce[:9],
		flip(produce, len(produce)-3),
		flip(produce, 30),
		setVersion(produce, 99),
		setKey(produce, 1000),
		append(append([]byte(nil), produce[:len(produce)-20]...), 0xff, 0xff, 0xff, 0xff, 0x7f),
		[]byte{},
		[]byte{0, 18},
		[]byte{0, 18, 0, 3, 0, 0, 0, 1, 0xff, 0xff, 0x00, 0x7f, 0xff},
	)
	return seeds
}

func flip(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 0xff
	return out
}

func setVersion(b []byte, v int16) []byte {
	out := append([]byte(nil), b...)
	binary.BigEndian.PutUint16(out[2:], uint16(v))
	return out
}

func setKey(b []byte, k int16) []byte {
	out := append([]byte(nil), b...)
	binary.BigEndian.PutUint16(out[0:], uint16(k))
	return out
}

// FuzzBrokerFrames sends each input as one frame body on a fresh
// connection to a single long-running broker process, reads whatever comes
// back for a moment, and then checks that the process is alive and still
// answers; every fuzzCheckEvery inputs a kgo client must produce and
// consume.
func FuzzBrokerFrames(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzOnce.Do(func() { fuzzBroker, fuzzErr = startFuzzBroker() })
		if fuzzErr != nil {
			t.Fatalf("fuzz broker: %v", fuzzErr)
		}
		b := fuzzBroker
		if len(body) > socketMax {
			body = body[:socketMax]
		}
		c, err := dialRawErr(b.Addr)
		if err != nil {
			t.Fatalf("dial: %v\n%s", err, b.LogTail(40))
		}
		_ = c.writeFrame(body) // the broker may close before reading it all
		// Drain any responses until the broker closes or goes quiet.
		buf := make([]byte, 64<<10)
		c.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
		for {
			if _, err := c.Read(buf); err != nil {
				break
			}
		}
		c.Close()

		if !b.Running() {
			t.Fatalf("broker died on input % x\n%s", body, b.LogTail(60))
		}
		if err := pingRaw(b.Addr); err != nil {
			t.Fatalf("broker stopped answering after input % x: %v\n%s", body, err, b.LogTail(60))
		}
		if n := fuzzInputs.Add(1); (n-1)%fuzzCheckEvery == 0 {
			if err := healthy(b.Addr); err != nil {
				t.Fatalf("produce/consume failed after %d inputs (last % x): %v\n%s", n, body, err, b.LogTail(60))
			}
		}
	})
}

// pingRaw does one ApiVersions round trip on a fresh connection.
func pingRaw(addr string) error {
	c, err := dialRawErr(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(3)
	req.ClientSoftwareName, req.ClientSoftwareVersion = "fuzz", "1"
	resp, err := c.roundTripErr(req)
	if err != nil {
		return err
	}
	if ar := resp.(*kmsg.ApiVersionsResponse); ar.ErrorCode != 0 || len(ar.ApiKeys) == 0 {
		return errors.New("ApiVersions answered with an error or no keys")
	}
	return nil
}
