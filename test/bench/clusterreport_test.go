package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWriteCluster(t *testing.T) {
	r := clusterResult{
		SingleProduce:  measure(produceResult{Bytes: 200e6, Elapsed: 2 * time.Second}, nil),
		SingleLatency:  measure(latencyResult{P50: time.Millisecond, P99: 3 * time.Millisecond, P999: 5 * time.Millisecond, Samples: 10}, nil),
		ClusterProduce: measure(produceResult{Bytes: 100e6, Elapsed: 2 * time.Second}, nil),
		ClusterLatency: measured[latencyResult]{Err: errors.New("boom")},
		Failover:       measure(failoverResult{Gaps: []time.Duration{5 * time.Second, 4 * time.Second, 7 * time.Second}}, nil),
	}
	var b bytes.Buffer
	writeCluster(&b, r, false)
	out := b.String()
	for _, want := range []string{
		"strata, 1 broker, RF 1", "100.0", "1.00", "3.00",
		"strata, 3 brokers, RF 3", "50.0",
		"over 3 leader kills", "p50 5.00 s, max 7.00 s", "NOT met",
		"note: cluster 3 brokers latency: boom",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	writeCluster(&b, clusterResult{Skipped: "no etcd"}, true)
	if !strings.Contains(b.String(), "cluster section skipped: no etcd") {
		t.Errorf("skipped: %q", b.String())
	}
	b.Reset()
	writeCluster(&b, r, true)
	if !strings.Contains(b.String(), "| strata, 3 brokers, RF 3 | 50.0 | n/a | n/a | n/a |") {
		t.Errorf("markdown:\n%s", b.String())
	}
}
