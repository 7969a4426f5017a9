package crash

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-io/strata/test/harness"
)

const (
	topic      = "crash"
	partitions = 4
	kills      = 5
	numKeys    = 64
)

// acked is where the broker said a record went.
type acked struct {
	partition int32
	offset    int64
	key       string
}

// ledger records every produced record and every acknowledgement.
type ledger struct {
	mu       sync.Mutex
	acks     map[int64]acked // by sequence number
	failed   int
	firstErr error
	produced atomic.Int64
	ackCount atomic.Int64
}

func (l *ledger) promise(seq int64) func(*kgo.Record, error) {
	return func(r *kgo.Record, err error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if err != nil {
			l.failed++
			if l.firstErr == nil {
				l.firstErr = err
			}
			return
		}
		l.acks[seq] = acked{partition: r.Partition, offset: r.Offset, key: string(r.Key)}
		l.ackCount.Add(1)
	}
}

func value(seq int64) string { return "seq-" + strconv.FormatInt(seq, 10) }

func parseValue(v string) (int64, bool) {
	s, ok := strings.CutPrefix(v, "seq-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// TestAckedWritesSurviveSIGKILL kills the broker five times under an
// idempotent acks=all producer and then checks the log against every
// acknowledgement.
func TestAckedWritesSurviveSIGKILL(t *testing.T) {
	b := harness.StartT(t, harness.Options{Args: []string{
		"--num-partitions", strconv.Itoa(partitions),
		"--group-initial-rebalance-delay", "0s",
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()

	admCl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := kadm.NewClient(admCl).CreateTopic(ctx, partitions, 1, nil, topic); err != nil || resp.Err != nil {
		t.Fatalf("create topic: %v %v", err, resp.Err)
	}
	admCl.Close()

	// kgo defaults: idempotent, acks=all, records retried until delivered.
	prod, err := kgo.NewClient(
		kgo.SeedBrokers(b.Addr),
		kgo.DefaultProduceTopic(topic),
		kgo.MaxBufferedRecords(5000),
		kgo.ProducerLinger(2*time.Millisecond),
		kgo.RetryTimeout(90*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()

	l := &ledger{acks: map[int64]acked{}}
	prodCtx, stopProducing := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for seq := int64(0); prodCtx.Err() == nil; seq++ {
			r := &kgo.Record{Key: []byte("key-" + strconv.Itoa(int(seq%numKeys))), Value: []byte(value(seq))}
			prod.Produce(prodCtx, r, l.promise(seq))
			l.produced.Add(1)
			if seq%50 == 49 {
				time.Sleep(time.Millisecond) // keep the volume reasonable
			}
		}
	}()

	waitAcks := func(what string, n int64) {
		t.Helper()
		deadline := time.Now().Add(45 * time.Second)
		for l.ackCount.Load() < n {
			if time.Now().After(deadline) {
				stopProducing()
				t.Fatalf("%s: only %d acks after 45s, want %d (failed %d, first error %v)\n%s",
					what, l.ackCount.Load(), n, l.failed, l.firstErr, b.LogTail(40))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitAcks("before the first kill", 200)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for i := 1; i <= kills; i++ {
		time.Sleep(time.Duration(300+rng.IntN(2000)) * time.Millisecond)
		before := l.ackCount.Load()
		if err := b.Kill(); err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
		if err := b.Restart(ctx); err != nil {
			stopProducing()
			t.Fatalf("restart %d: %v", i, err)
		}
		t.Logf("kill %d: %d acked before it, %d produced so far", i, before, l.produced.Load())
		waitAcks(fmt.Sprintf("after restart %d", i), l.ackCount.Load()+200)
	}
	time.Sleep(500 * time.Millisecond)
	stopProducing()
	wg.Wait()
	fctx, fcancel := context.WithTimeout(ctx, 60*time.Second)
	defer fcancel()
	if err := prod.Flush(fctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	produced := l.produced.Load()
	l.mu.Lock()
	failed, firstErr := l.failed, l.firstErr
	acks := l.acks
	l.mu.Unlock()
	t.Logf("produced %d, acked %d, failed %d (first error: %v), kills %d", produced, len(acks), failed, firstErr, kills)
	// Records canceled by stopProducing fail with context.Canceled; any
	// other failure means the producer gave up on a record.
	if firstErr != nil && !errors.Is(firstErr, context.Canceled) {
		t.Errorf("records failed with %v", firstErr)
	}

	verify(t, ctx, b.Addr, acks, produced)
}

// verify reads the whole topic and checks it against the acknowledgements.
func verify(t *testing.T, ctx context.Context, addr string, acks map[int64]acked, produced int64) {
	t.Helper()
	type stored struct {
		seq int64
		key string
	}
	log := make([]map[int64]stored, partitions)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	starts, err := kadm.NewClient(cl).ListStartOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]kgo.Offset{}
	remaining := int64(0)
	endOf := map[int32]int64{}
	for p := int32(0); p < partitions; p++ {
		e, ok1 := ends.Lookup(topic, p)
		s, ok2 := starts.Lookup(topic, p)
		if !ok1 || !ok2 || e.Err != nil || s.Err != nil {
			t.Fatalf("offsets of partition %d: %+v %+v", p, s, e)
		}
		if s.Offset != 0 {
			t.Errorf("partition %d log start %d, want 0", p, s.Offset)
		}
		endOf[p] = e.Offset
		remaining += e.Offset - s.Offset
		want[p] = kgo.NewOffset().At(s.Offset)
		log[p] = map[int64]stored{}
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: want}),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	rctx, rcancel := context.WithTimeout(ctx, 60*time.Second)
	defer rcancel()
	lastSeq := map[int32]int64{}
	lastOff := map[int32]int64{}
	seen := map[int64]string{} // seq -> where first seen
	var read int64
	for read < remaining {
		fs := cons.PollFetches(rctx)
		if rctx.Err() != nil {
			t.Fatalf("read %d of %d records before timing out", read, remaining)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("consume partition %d: %v", p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= endOf[r.Partition] {
				return
			}
			read++
			seq, ok := parseValue(string(r.Value))
			if !ok {
				t.Fatalf("partition %d offset %d: value %q was never produced", r.Partition, r.Offset, r.Value)
			}
			if seq >= produced {
				t.Errorf("partition %d offset %d: sequence %d beyond the %d produced", r.Partition, r.Offset, seq, produced)
			}
			where := fmt.Sprintf("%d/%d", r.Partition, r.Offset)
			if prev, dup := seen[seq]; dup {
				t.Errorf("value %s appears twice: at %s and %s", value(seq), prev, where)
			}
			seen[seq] = where
			if lo, ok := lastOff[r.Partition]; ok && r.Offset != lo+1 {
				t.Errorf("partition %d: offset %d follows %d (gap or reorder)", r.Partition, r.Offset, lo)
			}
			lastOff[r.Partition] = r.Offset
			if ls, ok := lastSeq[r.Partition]; ok && seq <= ls {
				t.Errorf("partition %d offset %d: sequence %d after %d, want strictly increasing", r.Partition, r.Offset, seq, ls)
			}
			lastSeq[r.Partition] = seq
			log[r.Partition][r.Offset] = stored{seq: seq, key: string(r.Key)}
		})
	}
	missing := 0
	for seq, a := range acks {
		got, ok := log[a.partition][a.offset]
		switch {
		case !ok:
			missing++
			if missing <= 10 {
				t.Errorf("acknowledged %s (partition %d offset %d) is missing", value(seq), a.partition, a.offset)
			}
		case got.seq != seq || got.key != a.key:
			t.Errorf("partition %d offset %d holds %s/%s, but %s/%s was acknowledged there",
				a.partition, a.offset, got.key, value(got.seq), a.key, value(seq))
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged records are missing", missing, len(acks))
	}
	if len(acks) == 0 {
		t.Fatal("no record was acknowledged")
	}
	t.Logf("log holds %d records (%d acknowledged, %d unacknowledged but stored)", read, len(acks), read-int64(len(acks)))
}
