package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// startInProcessKfake runs a kfake cluster inside the test process; its
// "broker pid" is the test's own.
func startInProcessKfake(t *testing.T) target {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return target{Name: "kfake", Addr: c.ListenAddrs()[0], Pid: os.Getpid()}
}

func smallLoad() loadConfig {
	return loadConfig{
		RecordSize:  1 << 10,
		Partitions:  16,
		Producers:   2,
		MaxBytes:    4 << 20,
		MaxDuration: 20 * time.Second,
		Rate:        2e6,
		LatencyDur:  time.Second,
	}
}

func TestRunSuiteAgainstKfake(t *testing.T) {
	tgt := startInProcessKfake(t)
	cfg := smallLoad()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	rows := runSuite(ctx, tgt, cfg, suiteOptions{Acks: []ackMode{acksLeader, acksAll}})
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	for i, r := range rows {
		if r.Err != nil {
			t.Fatalf("row %d (%s acks=%s): %v", i, r.Broker, r.Acks, r.Err)
		}
		if r.Acks != []ackMode{acksLeader, acksAll}[i] || r.Broker != "kfake" {
			t.Errorf("row %d is %s acks=%s", i, r.Broker, r.Acks)
		}
		if !r.producedOK || r.Produce.Bytes != cfg.MaxBytes || r.Produce.Records != cfg.MaxBytes/int64(cfg.RecordSize) {
			t.Errorf("acks=%s produced %d records / %d bytes, want exactly %d bytes", r.Acks, r.Produce.Records, r.Produce.Bytes, cfg.MaxBytes)
		}
		// The topic also holds one warm-up record per producer client.
		if want := r.Produce.Records + int64(cfg.Producers); !r.consumedOK || r.Consume.Records != want {
			t.Errorf("acks=%s consumed %d records, want %d", r.Acks, r.Consume.Records, want)
		}
		if r.Consume.Bytes != r.Consume.Records*int64(cfg.RecordSize) {
			t.Errorf("acks=%s consumed %d bytes for %d records", r.Acks, r.Consume.Bytes, r.Consume.Records)
		}
		l := r.Latency
		if !r.latencyOK || l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.P999 {
			t.Errorf("acks=%s latency percentiles not ordered: %+v", r.Acks, l)
		}
		// 2 MB/s of 1 KiB records for 1 s is 1953 records.
		if l.Samples != 1953 || l.Failed != 0 {
			t.Errorf("acks=%s latency phase: %d records acknowledged, %d failed, want 1953: %+v", r.Acks, l.Samples, l.Failed, l)
		}
		if r.PeakRSS <= 0 {
			t.Errorf("acks=%s peak RSS not read", r.Acks)
		}
	}
}

func TestRunProduceStopsAtDeadline(t *testing.T) {
	tgt := startInProcessKfake(t)
	ctx := context.Background()
	if err := createTopic(ctx, tgt.Addr, "deadline", 4); err != nil {
		t.Fatal(err)
	}
	cfg := smallLoad()
	cfg.MaxBytes = 1 << 40
	cfg.MaxDuration = 500 * time.Millisecond
	res, err := runProduce(ctx, tgt.Addr, "deadline", acksLeader, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes <= 0 || res.Elapsed < cfg.MaxDuration || res.Elapsed > 30*time.Second {
		t.Fatalf("produced %d bytes in %v, want a non-empty run bounded by the deadline", res.Bytes, res.Elapsed)
	}
}

func TestRunSuiteRecordsUnreachableBroker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rows := runSuite(ctx, target{Name: "strata", Addr: "127.0.0.1:1"}, smallLoad(), suiteOptions{Acks: []ackMode{acksAll}})
	if len(rows) != 1 || rows[0].Err == nil || rows[0].producedOK {
		t.Fatalf("want one failed row, got %+v", rows)
	}
}

func TestParseFlags(t *testing.T) {
	f, err := parseFlags([]string{"-only", "kfake", "-duration", "3s", "-bytes", "1048576", "-markdown", "-acks", "all"})
	if err != nil {
		t.Fatal(err)
	}
	if f.only != "kfake" || f.duration != 3*time.Second || f.bytes != 1<<20 || !f.markdown || f.acks != "all" {
		t.Fatalf("parsed %+v", f)
	}
	d, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.duration != 15*time.Second || d.bytes != 1<<30 || d.rate != 50 || d.latencyDur != 10*time.Second {
		t.Fatalf("defaults %+v", d)
	}
	for _, bad := range [][]string{{"-only", "kafka"}, {"-acks", "2"}, {"-duration", "0s"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%v): want error", bad)
		}
	}
}
