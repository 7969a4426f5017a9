package badinput

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestGarbageStorm: many connections send random and half-valid frames at
// once while a normal producer keeps writing; every produced record must
// be acknowledged and read back.
func TestGarbageStorm(t *testing.T) {
	e := shared(t)
	const topic = "storm"
	e.createTopic(t, topic, 1, nil)

	var tmp rawConn
	valid, _ := tmp.frameOf(produceReq(topic, 0, 1, plainBatch("storm garbage")))
	valid = valid[4:]

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, seed*31+1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := dialRawErr(e.b.Addr)
				if err != nil {
					t.Errorf("dial during storm: %v", err)
					return
				}
				var body []byte
				switch rng.IntN(3) {
				case 0: // random bytes
					body = make([]byte, rng.IntN(200))
					for i := range body {
						body[i] = byte(rng.UintN(256))
					}
				case 1: // a valid produce frame with bytes flipped (never to a real topic's key: flip after the header)
					body = append([]byte(nil), valid...)
					for k := 0; k < 1+rng.IntN(4); k++ {
						i := 8 + rng.IntN(len(body)-8)
						body[i] ^= byte(1 + rng.UintN(255))
					}
				default: // a valid frame cut short
					body = valid[:rng.IntN(len(valid))]
				}
				_ = c.writeFrame(body)
				c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				c.Close()
			}
		}(uint64(g + 1))
	}

	cl := newClient(t, e.b.Addr)
	var want []rec
	for i := 0; i < 200; i++ {
		r := &kgo.Record{Topic: topic, Partition: 0, Value: []byte("storm record " + itoa(int64(i)))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("produce %d during the storm: %v", i, err)
		}
		want = append(want, rec{Offset: r.Offset, Value: string(r.Value)})
	}
	close(stop)
	wg.Wait()

	// Mutated produce frames may legitimately append to "storm" (a flip
	// that only changes, say, the timeout leaves a valid request), so
	// check our records by offset rather than the whole partition.
	got := readPartition(t, e.b.Addr, topic, 0)
	byOffset := map[int64]rec{}
	for _, r := range got {
		byOffset[r.Offset] = r
	}
	for _, w := range want {
		if g, ok := byOffset[w.Offset]; !ok || g.Value != w.Value {
			t.Errorf("offset %d: read %+v, want %q", w.Offset, g, w.Value)
		}
	}
	e.afterCase(t)
}
