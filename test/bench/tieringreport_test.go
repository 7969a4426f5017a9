package main

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
)

func sampleTiering() tieringResult {
	return tieringResult{
		Bytes: 1 << 30, SegmentBytes: 8 << 20, LocalRetBytes: 8 << 20, RatePerSec: 50e6, Partitions: 16,
		LatencyCacheBytes: 64 << 20, Elapsed: 150 * time.Second, Uploaded: 1020 << 20, LocalLeft: 12 << 20,
		ProduceOff:       measure(produceResult{Bytes: 500e6, Elapsed: time.Second}, nil),
		ProduceOn:        measure(produceResult{Bytes: 400e6, Elapsed: time.Second}, nil),
		ProduceOffRounds: []produceResult{{Bytes: 300e6, Elapsed: time.Second / 2}, {Bytes: 200e6, Elapsed: time.Second / 2}},
		ProduceOnRounds:  []produceResult{{Bytes: 400e6, Elapsed: time.Second}},
		Reference:        measure(readResult{Objects: 128, Bytes: 600e6, Elapsed: time.Second}, nil),
		Cold:             measure(consumeResult{Bytes: 540e6, Elapsed: time.Second}, nil),
		Warm:             measure(consumeResult{Bytes: 900e6, Elapsed: time.Second}, nil),
		WarmMem:          measure(consumeResult{Bytes: 1500e6, Elapsed: time.Second}, nil),
		LatencyBase: measure(latencyResult{P50: 2 * time.Millisecond, P99: 4 * time.Millisecond, P999: 8 * time.Millisecond,
			Samples: 100, OfferedMBps: 50, AchievedMBps: 50}, nil),
		LatencyCold: measure(latencyResult{P50: 3 * time.Millisecond, P99: 5 * time.Millisecond, P999: 30 * time.Millisecond,
			Samples: 100, OfferedMBps: 50, AchievedMBps: 40}, nil),
		ReaderDuring:   consumeResult{Bytes: 2000e6, Elapsed: 10 * time.Second},
		BucketReadCold: 1030 << 20, BucketReadWarm: 0,
	}
}

func TestTieringTargets(t *testing.T) {
	got := map[string]tieringTarget{}
	for _, r := range tieringTargets(sampleTiering()) {
		got[r.Name] = r
	}
	for name, want := range map[string]struct {
		v   float64
		met bool
	}{
		"cold read / plain GET":          {0.9, true},
		"warm read (memory) / plain GET": {2.5, true},
		"produce tiering on / off":       {0.8, false},
		"p99 with cold reader / without": {1.25, true},
	} {
		r, ok := got[name]
		if !ok || !r.OK || math.Abs(r.Value-want.v) > 1e-9 || r.Met() != want.met {
			t.Errorf("%s = %+v (met %v), want %v met %v", name, r, r.Met(), want.v, want.met)
		}
	}
	if len(got) != 4 {
		t.Errorf("got %d ratios, want 4: %v", len(got), got)
	}

	// A failed phase makes its ratios n/a, never a number or a verdict.
	res := sampleTiering()
	res.Reference = measure(readResult{Bytes: 1}, errors.New("get: boom"))
	for _, r := range tieringTargets(res) {
		plain := strings.Contains(r.Name, "plain GET")
		if plain == r.OK || (plain && r.Met()) {
			t.Errorf("%s with a failed reference read = %+v", r.Name, r)
		}
	}
}

func TestTieringTargetBoundary(t *testing.T) {
	for _, tc := range []struct {
		tt  tieringTarget
		met bool
	}{
		{tieringTarget{Value: 0.8, OK: true, Target: 0.8, AtLeast: true}, true},
		{tieringTarget{Value: 0.79, OK: true, Target: 0.8, AtLeast: true}, false},
		{tieringTarget{Value: 1.5, OK: true, Target: 1.5}, true},
		{tieringTarget{Value: 1.51, OK: true, Target: 1.5}, false},
		{tieringTarget{Value: 1, Target: 1.5}, false},
	} {
		if got := tc.tt.Met(); got != tc.met {
			t.Errorf("%+v: Met = %v, want %v", tc.tt, got, tc.met)
		}
	}
}

func TestWriteTieringText(t *testing.T) {
	var b bytes.Buffer
	writeTiering(&b, sampleTiering(), false)
	out := b.String()
	for _, want := range []string{
		"section took 2m30s",
		"4 rounds of the load above at acks=1 (summed) into fresh 16-partition topics with segment.bytes 8 MiB",
		"strata read 1030 MiB from the bucket in the cold pass, 0 MiB in the warm pass from the disk tier, 0 MiB in the one from memory (strata_remote_read_bytes_total)",
		"1024 MiB in 1 partition (segment.bytes 8 MiB, local.retention.bytes 8 MiB), 1020 MiB in segment objects and 12 MiB local",
		"64 MiB chunk cache",
		"note: tiering produce MB/s per round: off 600.0, 400.0; on 400.0\n",
		"note: tiering latency, cold reader active: acknowledged only 40.0 of 50.0 MB/s offered",
		"  cold read / plain GET              0.90  target >= 0.80  met",
		"  produce tiering on / off           0.80  target >= 0.90  MISSED",
		"  p99 with cold reader / without     1.25  target <= 1.50  met",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// The table: header and 11 rows, all the same width, names left-aligned.
	var table []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasSuffix(l, "p999 ms") || (len(table) > 0 && l != "") {
			table = append(table, l)
		} else if len(table) > 0 {
			break
		}
	}
	if len(table) != 12 {
		t.Fatalf("got %d table lines, want 12:\n%s", len(table), out)
	}
	for _, l := range table {
		if len(l) != len(table[0]) {
			t.Fatalf("unaligned table:\n%s", strings.Join(table, "\n"))
		}
	}
	for _, want := range []string{
		"read 1024 MiB: plain 4 MiB ranged GETs from MinIO",
		"read 1024 MiB: strata Fetch reader, warm cache (disk tier)",
		"read 1024 MiB: strata Fetch reader, warm cache (memory tier)",
		"read 1024 MiB: franz-go consumer, cold cache",
		"cold reader during the latency phase",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing row %q", want)
		}
	}
	if f := strings.Fields(table[10]); f[len(f)-4] != "40.0" || f[len(f)-1] != "30.00" {
		t.Errorf("latency row with a cold reader = %q", table[10])
	}
}

func TestWriteTieringMarkdown(t *testing.T) {
	res := sampleTiering()
	res.WarmMem = measure(consumeResult{}, errors.New("consume: got 0 of 10 records"))
	res.BucketReadErr = errors.New("no metrics")
	var b bytes.Buffer
	writeTiering(&b, res, true)
	out := b.String()
	for _, want := range []string{
		"| tiering | MB/s | p50 ms | p99 ms | p999 ms |\n|---|---:|---:|---:|---:|\n",
		"| produce acks=1, tiering off | 500.0 |  |  |  |\n",
		"| read 1024 MiB: plain 4 MiB ranged GETs from MinIO | 600.0 |  |  |  |\n",
		"| read 1024 MiB: strata Fetch reader, warm cache (memory tier) | n/a |  |  |  |\n",
		"| produce at 50 MB/s, no cold reader | 50.0 | 2.00 | 4.00 | 8.00 |\n",
		"| cold reader during the latency phase | 200.0 |  |  |  |\n",
		"note: tiering warm read, memory tier: consume: got 0 of 10 records\n",
		"\n\n| tiering ratio | value | target | verdict |\n|---|---:|---:|---:|\n",
		"| cold read / plain GET | 0.90 | >= 0.80 | met |\n",
		"| warm read (memory) / plain GET | n/a | >= 2.00 | n/a |\n",
		"| produce tiering on / off | 0.80 | >= 0.90 | MISSED |\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "bytes strata read from the bucket per pass: n/a (no metrics)") {
		t.Errorf("scrape error not reported:\n%s", out)
	}
	if strings.Contains(out, "tiering target ratios:") {
		t.Errorf("markdown output has the text ratio list:\n%s", out)
	}
}

func TestWriteTieringSkipped(t *testing.T) {
	var b bytes.Buffer
	writeTiering(&b, tieringResult{Skipped: "harness: minio binary not found", ProduceOff: measure(produceResult{Bytes: 1, Elapsed: 1}, nil)}, false)
	if got, want := b.String(), "tiering: skipped: harness: minio binary not found\n"; got != want {
		t.Errorf("skipped section = %q, want %q", got, want)
	}
}

func TestRunTieringWithoutMinio(t *testing.T) {
	t.Setenv("MINIO_BIN", t.TempDir()+"/no-such-minio")
	res := runTiering(t.Context(), tieringOptions{Root: t.TempDir(), Bytes: 1 << 20, Load: loadConfig{Rate: 1}, Log: slog.New(slog.DiscardHandler)})
	if !strings.Contains(res.Skipped, "minio") || !strings.Contains(res.Skipped, "MINIO_BIN") {
		t.Errorf("Skipped = %q, want the missing-binary reason", res.Skipped)
	}
}

func TestSumMetric(t *testing.T) {
	text := `# HELP strata_remote_read_bytes_total Bytes read.
# TYPE strata_remote_read_bytes_total counter
strata_remote_read_bytes_total{kind="chunk"} 1.048576e+06
strata_remote_read_bytes_total{kind="meta"} 4096
strata_remote_read_bytes_total_extra 7
strata_remote_read_bytes 9
`
	got, err := sumMetric(text, "strata_remote_read_bytes_total")
	if err != nil || got != 1048576+4096 {
		t.Errorf("sumMetric = %v, %v; want %v", got, err, 1048576+4096)
	}
	if got, err := sumMetric("up 1\n", "up"); err != nil || got != 1 {
		t.Errorf("unlabelled sample = %v, %v", got, err)
	}
	if _, err := sumMetric(text, "strata_missing_total"); err == nil {
		t.Error("missing metric: no error")
	}
}
