package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// parseStartOffset parses --offset: earliest, latest or a number.
func parseStartOffset(s string) (kgo.Offset, error) {
	switch s {
	case "earliest", "beginning":
		return kgo.NewOffset().AtStart(), nil
	case "latest", "end":
		return kgo.NewOffset().AtEnd(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return kgo.Offset{}, usagef("--offset %q: want earliest, latest or a non-negative number", s)
	}
	return kgo.NewOffset().At(n), nil
}

func (e *env) consume(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "consume", "--topic T [--group G] [--from-beginning] [--max-messages N] [--format F] [--partition P [--offset O]]")
	topic := fs.String("topic", "", "topic to consume (required)")
	group := fs.String("group", "", "consumer group (commits offsets of printed records)")
	fromBeginning := fs.Bool("from-beginning", false, "start at the log start when there is no committed offset")
	maxMessages := fs.Int("max-messages", 0, "exit after this many records (0: no limit)")
	format := fs.String("format", defaultFormat, `record format: %k key, %v value, %p partition, %o offset, %t timestamp (ms), %T topic, %h headers, \n \t`)
	partition := fs.Int("partition", -1, "consume only this partition")
	offset := fs.String("offset", "", "with --partition: earliest, latest or an offset to start at")
	idle := fs.Duration("idle-timeout", 0, "exit when no record arrives for this long (0: wait forever)")
	pos, err := parse(fs, c, args)
	if err != nil {
		return err
	}
	if *topic == "" && len(pos) == 1 {
		*topic, pos = pos[0], nil
	}
	if *topic == "" || len(pos) > 0 {
		return usagef("consume: give one --topic")
	}
	if *offset != "" && *partition < 0 {
		return usagef("consume: --offset needs --partition")
	}
	if *group != "" && *partition >= 0 {
		return usagef("consume: --group and --partition exclude each other")
	}
	if *maxMessages < 0 {
		return usagef("consume: --max-messages must be >= 0")
	}
	start := kgo.NewOffset().AtEnd()
	if *fromBeginning {
		start = kgo.NewOffset().AtStart()
	}
	if *offset != "" {
		if start, err = parseStartOffset(*offset); err != nil {
			return err
		}
	}
	var opts []kgo.Opt
	switch {
	case *partition >= 0:
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{*topic: {int32(*partition): start}}))
	case *group != "":
		opts = append(opts, kgo.ConsumeTopics(*topic), kgo.ConsumerGroup(*group), kgo.ConsumeResetOffset(start), kgo.AutoCommitMarks())
	default:
		opts = append(opts, kgo.ConsumeTopics(*topic), kgo.ConsumeResetOffset(start))
	}
	cl, err := c.newClient(ctx, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	mdCtx, cancel := context.WithTimeout(ctx, c.timeout)
	td, err := requireTopics(mdCtx, kadm.NewClient(cl), *topic)
	cancel()
	if err != nil {
		return err
	}
	if *partition >= len(td[*topic].Partitions) {
		return fmt.Errorf("topic %q has %d partitions; no partition %d", *topic, len(td[*topic].Partitions), *partition)
	}

	n, err := e.consumeLoop(ctx, cl, c.output == "json", *format, *maxMessages, *idle)
	if *group != "" {
		cctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		if cerr := cl.CommitMarkedOffsets(cctx); cerr != nil && err == nil {
			err = fmt.Errorf("commit offsets: %w", cerr)
		}
		cancel()
	}
	fmt.Fprintf(e.stderr, "Processed a total of %d messages\n", n)
	return err
}

// consumeLoop prints records until max is reached, the context ends, or no
// record arrives for idle. It returns how many records it printed.
func (e *env) consumeLoop(ctx context.Context, cl *kgo.Client, asJSON bool, format string, max int, idle time.Duration) (int, error) {
	var (
		n   int
		buf []byte
		err error
	)
	for max == 0 || n < max {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if idle > 0 {
			pctx, cancel = context.WithTimeout(ctx, idle)
		}
		want := -1
		if max > 0 {
			want = max - n
		}
		fetches := cl.PollRecords(pctx, want)
		cancel()
		if fetches.IsClientClosed() {
			return n, nil
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return
			}
			if ferr == nil {
				ferr = fmt.Errorf("fetch %s[%d]: %w", t, p, err)
			}
		})
		if ferr != nil {
			return n, ferr
		}
		buf = buf[:0]
		fetches.EachRecord(func(r *kgo.Record) {
			if asJSON {
				buf, err = appendJSONRecord(buf, r)
			} else {
				buf = formatRecord(buf, format, r)
			}
			cl.MarkCommitRecords(r)
			n++
		})
		if err != nil {
			return n, fmt.Errorf("encode record: %w", err)
		}
		if _, werr := e.stdout.Write(buf); werr != nil {
			return n, fmt.Errorf("write: %w", werr)
		}
		if ctx.Err() != nil {
			return n, nil
		}
		if pctx.Err() != nil && fetches.NumRecords() == 0 {
			return n, nil // idle timeout
		}
	}
	return n, nil
}
