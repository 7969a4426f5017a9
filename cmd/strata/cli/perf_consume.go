package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consumeReport is the result of a consume perf run.
type consumeReport struct {
	Records       int64   `json:"records"`
	Bytes         int64   `json:"bytes"`
	MB            float64 `json:"mb"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
}

func (r consumeReport) String() string {
	return fmt.Sprintf("%d records consumed, %.2f MB in %.2f s, %.1f records/sec (%.2f MB/s).",
		r.Records, r.MB, r.Seconds, r.RecordsPerSec, r.MBPerSec)
}

func (e *env) perfConsume(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "perf consume", "--topic T [--messages N] [--group G]")
	topic := fs.String("topic", "", "topic to consume from the beginning (required)")
	messages := fs.Int64("messages", -1, "records to consume (-1: everything up to the log end at start)")
	group := fs.String("group", "", "consume in this group (default: no group, no commits)")
	idle := fs.Duration("idle-timeout", 10*time.Second, "stop if no record arrives for this long")
	interval := fs.Duration("report-interval", 5*time.Second, "how often to print a progress line on stderr")
	pos, err := parse(fs, c, args)
	if err != nil {
		return err
	}
	if *topic == "" && len(pos) == 1 {
		*topic, pos = pos[0], nil
	}
	if *topic == "" || len(pos) > 0 {
		return usagef("perf consume: give one --topic")
	}
	if *messages == 0 || *messages < -1 {
		return usagef("perf consume: --messages must be > 0 or -1")
	}
	if *idle <= 0 || *interval <= 0 {
		return usagef("perf consume: --idle-timeout and --report-interval must be > 0")
	}
	opts := []kgo.Opt{kgo.ConsumeTopics(*topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(64 << 20)}
	if *group != "" {
		opts = append(opts, kgo.ConsumerGroup(*group))
	}
	cl, err := c.newClient(ctx, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	mdCtx, cancel := context.WithTimeout(ctx, c.timeout)
	adm := kadm.NewClient(cl)
	_, err = requireTopics(mdCtx, adm, *topic)
	target := *messages
	if err == nil && target < 0 {
		var starts, ends kadm.ListedOffsets
		if starts, err = adm.ListStartOffsets(mdCtx, *topic); err == nil {
			ends, err = adm.ListEndOffsets(mdCtx, *topic)
		}
		if err == nil {
			target = 0
			ends.Each(func(o kadm.ListedOffset) {
				if s, ok := starts.Lookup(o.Topic, o.Partition); ok && o.Err == nil && s.Err == nil {
					target += o.Offset - s.Offset
				}
			})
		}
	}
	cancel()
	if err != nil {
		return err
	}

	var rep consumeReport
	start := time.Now()
	last, lastCount, lastBytes := start, int64(0), int64(0)
	lastRecord := start
	for rep.Records < target && ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pctx)
		cancel()
		if fetches.IsClientClosed() {
			break
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if pctx.Err() == nil && ferr == nil {
				ferr = fmt.Errorf("fetch %s[%d]: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		fetches.EachRecord(func(r *kgo.Record) {
			rep.Records++
			rep.Bytes += int64(len(r.Key) + len(r.Value))
		})
		now := time.Now()
		if fetches.NumRecords() > 0 {
			lastRecord = now
		} else if now.Sub(lastRecord) >= *idle {
			fmt.Fprintf(e.stderr, "no record for %s; stopping\n", *idle)
			break
		}
		if now.Sub(last) >= *interval {
			secs := now.Sub(last).Seconds()
			fmt.Fprintf(e.stderr, "%d records consumed, %.1f records/sec (%.2f MB/s).\n", rep.Records-lastCount,
				rate(float64(rep.Records-lastCount), secs), rate(float64(rep.Bytes-lastBytes)/mib, secs))
			last, lastCount, lastBytes = now, rep.Records, rep.Bytes
		}
	}
	end := lastRecord
	if rep.Records >= target {
		end = time.Now()
	}
	rep.Seconds = end.Sub(start).Seconds()
	rep.MB = float64(rep.Bytes) / mib
	rep.RecordsPerSec = rate(float64(rep.Records), rep.Seconds)
	rep.MBPerSec = rate(rep.MB, rep.Seconds)
	if c.output == "json" {
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(e.stdout, rep.String())
	}
	if *messages > 0 && rep.Records < *messages {
		return fmt.Errorf("consumed %d of %d records", rep.Records, *messages)
	}
	return nil
}
