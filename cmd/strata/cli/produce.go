package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// maxLineBytes bounds one input line of the console producer.
const maxLineBytes = 16 << 20

func (e *env) produce(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "produce", "--topic T [--key-separator S] [--header k=v]... [--partition N] [--acks all|1|0] [--compression C]")
	topic := fs.String("topic", "", "topic to produce to (required)")
	keySep := fs.String("key-separator", "", "split each line at the first S into key and value (default: no key)")
	partition := fs.Int("partition", -1, "produce every record to this partition (default: the partitioner picks)")
	acks := fs.String("acks", "all", "required acks: all (-1), 1 or 0")
	compression := fs.String("compression", "none", "batch compression: none, gzip, snappy, lz4, zstd")
	var headers multiFlag
	fs.Var(&headers, "header", "header key=value added to every record (repeatable)")
	pos, err := parse(fs, c, args)
	if err != nil {
		return err
	}
	if *topic == "" && len(pos) == 1 {
		*topic, pos = pos[0], nil
	}
	if *topic == "" || len(pos) > 0 {
		return usagef("produce: give one --topic")
	}
	var hdrs []kgo.RecordHeader
	for _, h := range headers {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return usagef("--header %q: want key=value", h)
		}
		hdrs = append(hdrs, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	opts, err := producerOpts(*acks, *compression)
	if err != nil {
		return err
	}
	opts = append(opts, kgo.DefaultProduceTopic(*topic), kgo.ProducerLinger(0), kgo.RecordDeliveryTimeout(c.timeout))
	if *partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	cl, err := c.newClient(ctx, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	td, err := requireTopics(ctx, kadm.NewClient(cl), *topic)
	if err != nil {
		return err
	}
	if *partition >= 0 && *partition >= len(td[*topic].Partitions) {
		return fmt.Errorf("topic %q has %d partitions; no partition %d", *topic, len(td[*topic].Partitions), *partition)
	}

	var (
		mu       sync.Mutex
		firstErr error
		n        int
	)
	sc := bufio.NewScanner(e.stdin)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	for sc.Scan() {
		line := sc.Text()
		r := &kgo.Record{Topic: *topic, Headers: hdrs, Partition: int32(*partition)}
		if *keySep != "" {
			k, v, ok := strings.Cut(line, *keySep)
			if !ok {
				return fmt.Errorf("line %d: no key separator %q", n+1, *keySep)
			}
			r.Key, r.Value = []byte(k), []byte(v)
		} else {
			r.Value = []byte(line)
		}
		n++
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
		mu.Lock()
		ferr := firstErr
		mu.Unlock()
		if ferr != nil {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	if err := cl.Flush(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("flush: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if firstErr != nil {
		return fmt.Errorf("produce to %q: %w", *topic, firstErr)
	}
	if c.output == "json" {
		return writeJSON(e.stdout, map[string]any{"topic": *topic, "records": n})
	}
	return nil
}
