package cli

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// finalLine matches perf produce's report.
var finalLine = regexp.MustCompile(`(?m)^(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/s\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, ([\d.]+) ms p50, ([\d.]+) ms p95, ([\d.]+) ms p99, ([\d.]+) ms p999\.$`)

func TestPerf(t *testing.T) {
	c, _ := startCLI(t)
	c.ok("", "topic", "create", "perf", "--partitions", "3")

	out := c.ok("", "perf", "produce", "--topic", "perf", "--num-records", "20000", "--record-size", "100", "--throughput", "-1")
	m := finalLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("perf produce report line not found:\n%s", out)
	}
	f := func(i int) float64 {
		v, err := strconv.ParseFloat(m[i], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if m[1] != "20000" || f(2) <= 0 || f(3) <= 0 {
		t.Fatalf("perf produce: %s", m[0])
	}
	if p50, p95, p99, p999, max := f(6), f(7), f(8), f(9), f(5); !(p50 > 0 && p50 <= p95 && p95 <= p99 && p99 <= p999 && p999 <= max) {
		t.Fatalf("percentiles out of order: %s", m[0])
	}
	t.Log(m[0])

	// Throttled, with progress lines on stderr, acks=1, compression, JSON report.
	r := c.run("", "perf", "produce", "--topic", "perf", "--num-records", "3000", "--record-size", "512",
		"--throughput", "2000", "--acks", "1", "--compression", "lz4", "--report-interval", "300ms", "--output", "json")
	if r.code != 0 {
		t.Fatalf("throttled perf produce: exit %d: %s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "records sent,"); n < 2 || !strings.Contains(r.stderr, "MB/s") {
		t.Fatalf("want >= 2 progress lines on stderr, got %d:\n%s", n, r.stderr)
	}
	var rep struct {
		Records       int64   `json:"records"`
		Seconds       float64 `json:"seconds"`
		RecordsPerSec float64 `json:"records_per_sec"`
		MBPerSec      float64 `json:"mb_per_sec"`
		P50Ms         float64 `json:"p50_ms"`
		P99Ms         float64 `json:"p99_ms"`
		P999Ms        float64 `json:"p999_ms"`
	}
	c.decode(r.stdout, &rep)
	// 3000 records at 2000/s take at least 1.5 s.
	if rep.Records != 3000 || rep.Seconds < 1.4 || rep.RecordsPerSec > 2300 || rep.MBPerSec <= 0 || rep.P999Ms < rep.P50Ms {
		t.Fatalf("throttled perf produce json: %+v", rep)
	}

	out = c.ok("", "perf", "consume", "--topic", "perf")
	if !regexp.MustCompile(`(?m)^23000 records consumed, [\d.]+ MB in [\d.]+ s, [\d.]+ records/sec \([\d.]+ MB/s\)\.$`).MatchString(out) {
		t.Fatalf("perf consume:\n%s", out)
	}
	var crep struct {
		Records  int64   `json:"records"`
		Bytes    int64   `json:"bytes"`
		MBPerSec float64 `json:"mb_per_sec"`
	}
	c.okJSON(&crep, "", "perf", "consume", "--topic", "perf", "--messages", "20000", "--group", "perfgroup")
	if crep.Records < 20000 || crep.Bytes < 20000*100 || crep.MBPerSec <= 0 {
		t.Fatalf("perf consume json: %+v", crep)
	}

	c.fails(1, `topic "nope"`, "perf", "produce", "--topic", "nope", "--num-records", "10")
	c.fails(1, `topic "nope"`, "perf", "consume", "--topic", "nope")
	c.fails(2, "--num-records", "perf", "produce", "--topic", "perf")
	c.fails(2, "--throughput", "perf", "produce", "--topic", "perf", "--num-records", "1", "--throughput", "0")
	c.fails(2, "unknown subcommand", "perf", "fetch")
}
