package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func (e *env) perfProduce(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "perf produce", "--topic T --num-records N --record-size S [--throughput R] [--acks A] [--compression C]")
	topic := fs.String("topic", "", "topic to produce to (required)")
	numRecords := fs.Int64("num-records", 0, "records to send (required)")
	recordSize := fs.Int("record-size", 100, "value size in bytes")
	throughput := fs.Float64("throughput", -1, "max records/sec (-1: unlimited)")
	acks := fs.String("acks", "all", "required acks: all (-1), 1 or 0")
	compression := fs.String("compression", "none", "batch compression: none, gzip, snappy, lz4, zstd")
	linger := fs.Duration("linger", 0, "producer linger")
	batchMax := fs.Int("batch-max-bytes", 1<<20, "max bytes per partition batch")
	interval := fs.Duration("report-interval", 5*time.Second, "how often to print a progress line on stderr")
	pos, err := parse(fs, c, args)
	if err != nil {
		return err
	}
	if *topic == "" && len(pos) == 1 {
		*topic, pos = pos[0], nil
	}
	switch {
	case *topic == "" || len(pos) > 0:
		return usagef("perf produce: give one --topic")
	case *numRecords <= 0:
		return usagef("perf produce: --num-records must be > 0")
	case *recordSize < 0:
		return usagef("perf produce: --record-size must be >= 0")
	case *throughput == 0:
		return usagef("perf produce: --throughput must be > 0 or -1")
	case *interval <= 0:
		return usagef("perf produce: --report-interval must be > 0")
	}
	opts, err := producerOpts(*acks, *compression)
	if err != nil {
		return err
	}
	opts = append(opts, kgo.ProducerLinger(*linger), kgo.ProducerBatchMaxBytes(int32(*batchMax)),
		kgo.RecordDeliveryTimeout(c.timeout), kgo.MaxBufferedRecords(100_000))
	cl, err := c.newClient(ctx, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	mdCtx, cancel := context.WithTimeout(ctx, c.timeout)
	_, err = requireTopics(mdCtx, kadm.NewClient(cl), *topic)
	cancel()
	if err != nil {
		return err
	}

	payload := make([]byte, *recordSize)
	for i := range payload {
		payload[i] = byte('A' + rand.IntN(26))
	}

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	start := time.Now()
	stats := newPerfStats(*numRecords, start)
	var (
		errMu    sync.Mutex
		firstErr error
		nErrs    int64
	)
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		t := time.NewTicker(*interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				fmt.Fprintln(e.stderr, stats.progress(now))
			}
		}
	}()

	for i := int64(0); i < *numRecords && ctx.Err() == nil; i++ {
		if *throughput > 0 {
			due := start.Add(time.Duration(float64(i) / *throughput * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
				}
			}
		}
		iter := i
		sent := time.Now()
		cl.Produce(ctx, &kgo.Record{Topic: *topic, Value: payload}, func(r *kgo.Record, err error) {
			if err != nil {
				errMu.Lock()
				nErrs++
				if firstErr == nil {
					firstErr = err
					stop()
				}
				errMu.Unlock()
				return
			}
			stats.record(iter, time.Since(sent), len(r.Value))
		})
	}
	flushErr := cl.Flush(ctx)
	end := time.Now()
	stop()
	<-progressDone

	rep := stats.report(end)
	errMu.Lock()
	rep.Errors = nErrs
	ferr := firstErr
	errMu.Unlock()
	if c.output == "json" {
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(e.stdout, rep.String())
	}
	switch {
	case ferr != nil:
		return fmt.Errorf("%d records failed; first error: %w", rep.Errors, ferr)
	case flushErr != nil:
		return fmt.Errorf("flush: %w", flushErr)
	case rep.Records < *numRecords:
		return fmt.Errorf("interrupted after %d of %d records", rep.Records, *numRecords)
	}
	return nil
}
