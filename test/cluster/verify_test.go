package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-io/strata/test/harness"
)

// logRecord is one consumed record.
type logRecord struct {
	Offset int64
	Seq    int64
}

// endOffsets lists every partition's end (high watermark) offset,
// retrying while leaders are still moving.
func endOffsets(ctx context.Context, c *harness.Cluster, topic string, parts int32) ([]int64, error) {
	cl, err := c.Client()
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var last error
	for {
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			out := make([]int64, parts)
			var perr error
			for p := range parts {
				o, ok := ends.Lookup(topic, p)
				switch {
				case !ok:
					perr = errors.Join(perr, fmt.Errorf("partition %d missing", p))
				case o.Err != nil:
					perr = errors.Join(perr, fmt.Errorf("partition %d: %w", p, o.Err))
				default:
					out[p] = o.Offset
				}
			}
			if perr == nil {
				return out, nil
			}
			err = perr
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("list end offsets of %s: %w (last: %v)", topic, ctx.Err(), last)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// readAll reads every partition of topic from offset 0 up to its end
// offset (sampled first) and returns the records per partition.
func readAll(ctx context.Context, c *harness.Cluster, topic string, parts int32, opts ...kgo.Opt) ([][]logRecord, error) {
	ends, err := endOffsets(ctx, c, topic, parts)
	if err != nil {
		return nil, err
	}
	start := map[int32]kgo.Offset{}
	for p := range parts {
		start[p] = kgo.NewOffset().At(0)
	}
	cl, err := c.Client(append([]kgo.Opt{
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchMaxWait(500 * time.Millisecond),
	}, opts...)...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	out := make([][]logRecord, parts)
	var bad []string
	done := func() bool {
		for p := range parts {
			if n := len(out[p]); (n == 0 && ends[p] > 0) || (n > 0 && out[p][n-1].Offset+1 < ends[p]) {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			var got []string
			for p := range parts {
				got = append(got, fmt.Sprintf("p%d %d/%d", p, len(out[p]), ends[p]))
			}
			return out, fmt.Errorf("read %s back: %w; got %s", topic, ctx.Err(), strings.Join(got, ", "))
		}
		fs.EachRecord(func(r *kgo.Record) {
			part, seq, err := parseValue(r.Value)
			if err != nil || part != r.Partition {
				bad = append(bad, fmt.Sprintf("p%d@%d: %v (value partition %d)", r.Partition, r.Offset, err, part))
				seq = -1
			}
			out[r.Partition] = append(out[r.Partition], logRecord{Offset: r.Offset, Seq: seq})
		})
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("%d foreign records, first: %s", len(bad), bad[0])
	}
	return out, nil
}

// verifyLog checks the log against the acknowledgements: offsets are
// contiguous from 0; sequence numbers strictly increase (nothing
// duplicated, nothing reordered, acknowledged or not); every acknowledged
// record is at its acknowledged offset. It returns a one-line summary.
func verifyLog(t *testing.T, log [][]logRecord, acks [][]ack) string {
	t.Helper()
	var nAcked, nLog, nUnacked int
	for p := range log {
		recs := log[p]
		nLog += len(recs)
		bySeqOffset := map[int64]int64{}
		for i, r := range recs {
			if r.Offset != int64(i) {
				t.Errorf("partition %d: record %d has offset %d: offsets are not contiguous from 0", p, i, r.Offset)
				break
			}
			if i > 0 && r.Seq <= recs[i-1].Seq {
				t.Errorf("partition %d: seq %d at offset %d after seq %d at offset %d: duplicate or out of order",
					p, r.Seq, r.Offset, recs[i-1].Seq, recs[i-1].Offset)
			}
			bySeqOffset[r.Seq] = r.Offset
		}
		acked := map[int64]bool{}
		missing := 0
		for i, a := range acks[p] {
			nAcked++
			acked[a.Seq] = true
			if i > 0 && a.Offset <= acks[p][i-1].Offset {
				t.Errorf("partition %d: seq %d acknowledged at offset %d, not after seq %d at %d",
					p, a.Seq, a.Offset, acks[p][i-1].Seq, acks[p][i-1].Offset)
			}
			off, ok := bySeqOffset[a.Seq]
			switch {
			case !ok:
				missing++
				if missing <= 5 {
					t.Errorf("partition %d: LOST acknowledged seq %d (acked at offset %d, %s)", p, a.Seq, a.Offset, a.At.Format("15:04:05.000"))
				}
			case off != a.Offset:
				t.Errorf("partition %d: seq %d acknowledged at offset %d but found at offset %d", p, a.Seq, a.Offset, off)
			}
		}
		if missing > 5 {
			t.Errorf("partition %d: %d acknowledged records lost in all", p, missing)
		}
		for _, r := range recs {
			if !acked[r.Seq] {
				nUnacked++
			}
		}
	}
	return fmt.Sprintf("%d acknowledged records, %d in the log (%d never acknowledged to the client but present once)", nAcked, nLog, nUnacked)
}
