package main

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func sampleRows() []row {
	return []row{
		{
			Broker: "strata", Acks: acksLeader,
			Produce:    produceResult{Bytes: 400e6, Elapsed: time.Second},
			Consume:    consumeResult{Bytes: 800e6, Elapsed: time.Second},
			Latency:    latencyResult{P50: 2 * time.Millisecond, P99: 6 * time.Millisecond, P999: 9 * time.Millisecond, Samples: 10, OfferedMBps: 50, AchievedMBps: 50},
			PeakRSS:    256 << 20,
			producedOK: true, consumedOK: true, latencyOK: true,
		},
		{
			Broker: "strata", Acks: acksAll,
			Produce:    produceResult{Bytes: 150e6, Elapsed: time.Second},
			PeakRSS:    300 << 20,
			producedOK: true,
			Err:        errors.New("latency: boom"),
		},
		{
			Broker: "kfake", Acks: acksLeader,
			Produce:    produceResult{Bytes: 500e6, Elapsed: time.Second},
			Consume:    consumeResult{Bytes: 400e6, Elapsed: time.Second},
			Latency:    latencyResult{P50: time.Millisecond, P99: 3 * time.Millisecond, P999: 4 * time.Millisecond, Samples: 10, OfferedMBps: 50, AchievedMBps: 20},
			PeakRSS:    1 << 30,
			producedOK: true, consumedOK: true, latencyOK: true,
		},
	}
}

func TestWriteTableMarkdown(t *testing.T) {
	var b bytes.Buffer
	writeTable(&b, sampleRows(), true)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want header, separator and 3 rows:\n%s", len(lines), b.String())
	}
	if lines[0] != "| broker | acks | produce MB/s | consume MB/s | p50 ms | p99 ms | p999 ms | peak RSS MiB |" {
		t.Errorf("header = %q", lines[0])
	}
	if lines[1] != "|---|---|---:|---:|---:|---:|---:|---:|" {
		t.Errorf("separator = %q", lines[1])
	}
	if want := "| strata | 1 | 400.0 | 800.0 | 2.00 | 6.00 | 9.00 | 256 |"; lines[2] != want {
		t.Errorf("row = %q, want %q", lines[2], want)
	}
	if want := "| strata | all | 150.0 | n/a | n/a | n/a | n/a | 300 |"; lines[3] != want {
		t.Errorf("row with missing phases = %q, want %q", lines[3], want)
	}
}

func TestWriteTableText(t *testing.T) {
	var b bytes.Buffer
	writeTable(&b, sampleRows(), false)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 4:\n%s", len(lines), b.String())
	}
	// Right-aligned columns: every line has the same width.
	for _, l := range lines[1:] {
		if len(l) != len(lines[0]) {
			t.Fatalf("unaligned table:\n%s", b.String())
		}
	}
	if !strings.Contains(lines[3], "kfake") || !strings.Contains(lines[3], "500.0") {
		t.Errorf("kfake row = %q", lines[3])
	}
}

func TestWriteNotes(t *testing.T) {
	var b bytes.Buffer
	writeNotes(&b, sampleRows())
	out := b.String()
	if !strings.Contains(out, "strata acks=all: latency: boom") {
		t.Errorf("row error not reported:\n%s", out)
	}
	if !strings.Contains(out, "kfake acks=1: latency phase acknowledged only 20.0 of 50.0 MB/s") {
		t.Errorf("fallen-behind latency phase not reported:\n%s", out)
	}
}

func TestTargetRatios(t *testing.T) {
	c := ceilings{
		Disk1M:  diskResult{BlockSize: 1 << 20, Bytes: 300e6, Elapsed: time.Second},
		Disk16M: diskResult{BlockSize: 16 << 20, Bytes: 600e6, Elapsed: time.Second},
	}
	got := map[string]ratio{}
	for _, r := range targetRatios(sampleRows(), c) {
		got[r.Name] = r
	}
	for name, want := range map[string]float64{
		"strata produce acks=1 / kfake":                     0.8,
		"strata consume / kfake":                            2,
		"strata produce acks=all / disk fsync(1 MiB) MB/s":  0.5,
		"strata produce acks=all / disk fsync(16 MiB) MB/s": 0.25,
		"strata p99 / kfake p99 at 50 MB/s, acks=1":         2,
		"strata peak RSS / 512 MiB":                         300.0 / 512,
	} {
		r, ok := got[name]
		if !ok || !r.OK || math.Abs(r.Value-want) > 1e-9 {
			t.Errorf("%s = %+v, want %v", name, r, want)
		}
	}
	if r := got["strata p99 / kfake p99 at 50 MB/s, acks=all"]; r.OK {
		t.Errorf("acks=all p99 ratio without latency data = %+v, want n/a", r)
	}
	var b bytes.Buffer
	writeRatios(&b, targetRatios(sampleRows(), c))
	if !strings.Contains(b.String(), "n/a") || !strings.Contains(b.String(), "0.80") {
		t.Errorf("ratios output:\n%s", b.String())
	}
}

func TestWriteCeilings(t *testing.T) {
	var b bytes.Buffer
	writeCeilings(&b, ceilings{
		DiskDir: "/data",
		Disk1M:  diskResult{BlockSize: 1 << 20, Bytes: 512 << 20, Elapsed: 2 * time.Second},
		TCPErr:  errors.New("no loopback"),
	})
	out := b.String()
	if !strings.Contains(out, "fdatasync every 1 MiB (/data): 268.4 MB/s") {
		t.Errorf("disk line missing:\n%s", out)
	}
	if strings.Contains(out, "every 16 MiB") {
		t.Errorf("unmeasured 16 MiB probe printed:\n%s", out)
	}
	if !strings.Contains(out, "loopback TCP, one stream: error: no loopback") {
		t.Errorf("tcp error missing:\n%s", out)
	}
}
