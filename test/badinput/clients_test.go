package badinput

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// rec is a record as read back: what must not change.
type rec struct {
	Offset     int64
	Key, Value string
}

func newClient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// offsets returns a partition's log start and end offsets.
func offsets(t testing.TB, addr, topic string, p int32) (start, end int64) {
	t.Helper()
	cl := newClient(t, addr)
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list start offsets %s: %v", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets %s: %v", topic, err)
	}
	s, ok1 := starts.Lookup(topic, p)
	e, ok2 := ends.Lookup(topic, p)
	if !ok1 || !ok2 || s.Err != nil || e.Err != nil {
		t.Fatalf("offsets of %s/%d: start %+v end %+v", topic, p, s, e)
	}
	return s.Offset, e.Offset
}

func endOffset(t testing.TB, addr, topic string, p int32) int64 {
	t.Helper()
	_, end := offsets(t, addr, topic, p)
	return end
}

// readPartition consumes a partition from its log start to its end with a
// fresh client.
func readPartition(t testing.TB, addr, topic string, p int32) []rec {
	t.Helper()
	start, end := offsets(t, addr, topic, p)
	if end <= start {
		return nil
	}
	cl := newClient(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		topic: {p: kgo.NewOffset().At(start)},
	}), kgo.FetchMaxWait(300*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []rec
	for int64(len(out)) < end-start {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading %s/%d [%d,%d): got %d records before timeout", topic, p, start, end, len(out))
		}
		fs.EachError(func(tp string, pp int32, err error) {
			t.Fatalf("fetch %s/%d: %v", tp, pp, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < end {
				out = append(out, rec{Offset: r.Offset, Key: string(r.Key), Value: string(r.Value)})
			}
		})
	}
	return out
}

func assertRecs(t testing.TB, what string, got, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: read %d records, want %d\n got: %v\nwant: %v", what, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: record %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

// assertHealthy produces one record with a fresh client (so a fresh
// connection) and consumes it back.
func assertHealthy(t testing.TB, addr string) {
	t.Helper()
	if err := healthy(addr); err != nil {
		t.Fatalf("broker not healthy after the bad input: %v", err)
	}
}

// healthy is assertHealthy returning an error (for the fuzz target).
func healthy(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer cl.Close()
	val := fmt.Sprintf("health %d", time.Now().UnixNano())
	r := &kgo.Record{Topic: healthTopic, Partition: 0, Value: []byte(val)}
	if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		healthTopic: {0: kgo.NewOffset().At(r.Offset)},
	}), kgo.FetchMaxWait(300*time.Millisecond))
	if err != nil {
		return err
	}
	defer cons.Close()
	for {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("consume offset %d: %w", r.Offset, ctx.Err())
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return fmt.Errorf("consume: %w", ferr)
		}
		var got *kgo.Record
		fs.EachRecord(func(rr *kgo.Record) {
			if got == nil && rr.Offset == r.Offset {
				got = rr
			}
		})
		if got != nil {
			if string(got.Value) != val {
				return fmt.Errorf("offset %d holds %q, want %q", r.Offset, got.Value, val)
			}
			return nil
		}
	}
}

// wantCode fails unless code is want, naming both errors.
func wantCode(t testing.TB, what string, code int16, want *kerr.Error) {
	t.Helper()
	if code != want.Code {
		t.Errorf("%s: error code %d (%v), want %d (%s)", what, code, kerr.ErrorForCode(code), want.Code, want.Message)
	}
}

// wantNoErr fails if code is not 0.
func wantNoErr(t testing.TB, what string, code int16) {
	t.Helper()
	if code != 0 {
		t.Errorf("%s: unexpected error code %d (%v)", what, code, kerr.ErrorForCode(code))
	}
}

var errShortResponse = errors.New("short response")

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
