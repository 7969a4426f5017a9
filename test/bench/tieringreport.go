package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// measured is one phase's outcome: OK only when the phase ran to the end
// without error; Err says why not.
type measured[T any] struct {
	Res T
	OK  bool
	Err error
}

func measure[T any](res T, err error) measured[T] {
	return measured[T]{Res: res, OK: err == nil, Err: err}
}

// readResult is a plain read of objects straight from the object store.
type readResult struct {
	Objects int
	Bytes   int64
	Elapsed time.Duration
}

// MBps is object bytes read per second in MB/s.
func (r readResult) MBps() float64 { return mbps(r.Bytes, r.Elapsed) }

// tieringResult is everything the tiering section measured. A zero
// measured value (OK false, Err nil) means the phase did not run.
type tieringResult struct {
	Skipped string // non-empty: the whole section did not run, and why

	Bytes         int64 // size of the cold data set asked for
	SegmentBytes  int64 // segment.bytes of the bench topics
	LocalRetBytes int64 // local.retention.bytes of the cold topic
	RatePerSec    float64
	Partitions    int32 // of the produce and latency topics
	// LatencyCacheBytes is the chunk cache in the latency phases.
	LatencyCacheBytes int64
	Elapsed           time.Duration // the whole section

	ProduceOff, ProduceOn measured[produceResult]
	// ProduceOffRounds and ProduceOnRounds are the rounds summed above.
	ProduceOffRounds, ProduceOnRounds []produceResult
	// UploadDrains are the waits, before the next round, for the uploads
	// an "on" round deferred while produce was busy.
	UploadDrains []time.Duration
	// ProduceWarmUp are the unmeasured first rounds, off then on.
	ProduceWarmUp []produceResult

	Uploaded  int64 // bytes of segment objects in the bucket before the cold read
	LocalLeft int64 // bytes of local log left for the cold topic
	Reference measured[readResult]
	// Cold and Warm are the raw Fetch reader's passes (record-batch
	// bytes), which the targets use; ColdDecoded and WarmDecoded are a
	// franz-go consumer's (record key and value bytes), for comparison.
	Cold, Warm               measured[consumeResult]
	ColdDecoded, WarmDecoded measured[consumeResult]
	// WarmMem is the raw reader's warm pass with a memory tier holding
	// the data set; Warm's chunks come back from the disk tier.
	WarmMem measured[consumeResult]
	// ReferencePasses and ColdPasses are the MB/s of the two plain GET
	// reads and the two cold raw reads summed into Reference and Cold.
	ReferencePasses, ColdPasses []float64
	// DropCachesErr says why the page cache could not be dropped before
	// the cold reads (nil: it was).
	DropCachesErr error
	// BucketReadCold and BucketReadWarm are the bytes strata read from the
	// bucket during each pass, from its own metrics; BucketReadErr is set
	// when they could not be scraped.
	BucketReadCold, BucketReadWarm, BucketReadWarmMem int64
	BucketReadErr                                     error

	LatencyBase, LatencyCold measured[latencyResult]
	ReaderDuring             consumeResult // what the cold reader read during LatencyCold
	// BrokerProduceBase and BrokerProduceCold are strata's own Produce
	// timings in the two latency phases.
	BrokerProduceBase, BrokerProduceCold produceSlow
	// LatencyPhasesP99 are the p99s of the phases pooled into
	// LatencyBase and LatencyCold, in the order they ran.
	LatencyPhasesP99 struct{ Base, Cold []time.Duration }
}

var tieringHeader = []string{"tiering", "MB/s", "p50 ms", "p99 ms", "p999 ms"}

// tieringCells is the second table: one line per measurement.
func tieringCells(r tieringResult) [][]string {
	na := "n/a"
	tput := func(name string, ok bool, v float64) []string {
		c := []string{name, na, "", "", ""}
		if ok {
			c[1] = fmt.Sprintf("%.1f", v)
		}
		return c
	}
	lat := func(name string, m measured[latencyResult]) []string {
		c := []string{name, na, na, na, na}
		if m.OK && m.Res.Samples > 0 {
			c[1] = fmt.Sprintf("%.1f", m.Res.AchievedMBps)
			c[2], c[3], c[4] = ms(m.Res.P50), ms(m.Res.P99), ms(m.Res.P999)
		}
		return c
	}
	size := fmt.Sprintf("%d MiB", r.Bytes>>20)
	rows := [][]string{
		tput("produce acks=1, tiering off", r.ProduceOff.OK, r.ProduceOff.Res.MBps()),
		tput("produce acks=1, tiering on (MinIO)", r.ProduceOn.OK, r.ProduceOn.Res.MBps()),
		tput("read "+size+": plain 4 MiB ranged GETs from MinIO", r.Reference.OK, r.Reference.Res.MBps()),
		tput("read "+size+": strata Fetch reader, cold cache", r.Cold.OK, r.Cold.Res.MBps()),
		tput("read "+size+": strata Fetch reader, warm cache (disk tier)", r.Warm.OK, r.Warm.Res.MBps()),
		tput("read "+size+": strata Fetch reader, warm cache (memory tier)", r.WarmMem.OK, r.WarmMem.Res.MBps()),
		tput("read "+size+": franz-go consumer, cold cache", r.ColdDecoded.OK, r.ColdDecoded.Res.MBps()),
		tput("read "+size+": franz-go consumer, warm cache", r.WarmDecoded.OK, r.WarmDecoded.Res.MBps()),
		lat(fmt.Sprintf("produce at %.0f MB/s, no cold reader", r.RatePerSec/1e6), r.LatencyBase),
		lat(fmt.Sprintf("produce at %.0f MB/s, cold reader active", r.RatePerSec/1e6), r.LatencyCold),
	}
	during := tput("cold reader during the latency phase", r.LatencyCold.OK && r.ReaderDuring.Bytes > 0, r.ReaderDuring.MBps())
	return append(rows, during)
}

// tieringTarget is a ratio with its target: Value >= Target when AtLeast,
// else Value <= Target. OK is false when an input is missing.
type tieringTarget struct {
	Name    string
	Value   float64
	OK      bool
	Target  float64
	AtLeast bool
}

// Met reports whether a measured ratio meets its target.
func (t tieringTarget) Met() bool {
	if !t.OK {
		return false
	}
	if t.AtLeast {
		return t.Value >= t.Target
	}
	return t.Value <= t.Target
}

func (t tieringTarget) cells() []string {
	op := "<="
	if t.AtLeast {
		op = ">="
	}
	c := []string{t.Name, "n/a", fmt.Sprintf("%s %.2f", op, t.Target), "n/a"}
	if t.OK {
		c[1] = fmt.Sprintf("%.2f", t.Value)
		c[3] = "met"
		if !t.Met() {
			c[3] = "MISSED"
		}
	}
	return c
}

// tieringTargets computes issue 3's bench ratios.
func tieringTargets(r tieringResult) []tieringTarget {
	var out []tieringTarget
	add := func(name string, a, b float64, ok bool, target float64, atLeast bool) {
		v, vok := div(a, b)
		out = append(out, tieringTarget{Name: name, Value: v, OK: ok && vok, Target: target, AtLeast: atLeast})
	}
	ref := r.Reference.Res.MBps()
	add("cold read / plain GET", r.Cold.Res.MBps(), ref, r.Cold.OK && r.Reference.OK, 0.8, true)
	add("warm read (memory) / plain GET", r.WarmMem.Res.MBps(), ref, r.WarmMem.OK && r.Reference.OK, 2, true)
	add("produce tiering on / off", r.ProduceOn.Res.MBps(), r.ProduceOff.Res.MBps(), r.ProduceOn.OK && r.ProduceOff.OK, 0.9, true)
	add("p99 with cold reader / without", r.LatencyCold.Res.P99.Seconds(), r.LatencyBase.Res.P99.Seconds(),
		r.LatencyCold.OK && r.LatencyBase.OK, 1.5, false)
	return out
}

// writeTiering prints the tiering section: a line on what ran, the
// table, notes for failed phases, and the target ratios.
func writeTiering(w io.Writer, r tieringResult, markdown bool) {
	if r.Skipped != "" {
		fmt.Fprintf(w, "tiering: skipped: %s\n", r.Skipped)
		return
	}
	fmt.Fprintf(w, "tiering: strata with a MinIO bucket on loopback (s3 backend); section took %s\n", r.Elapsed.Round(time.Second))
	fmt.Fprintf(w, "  produce: %d rounds of the load above at acks=1 (summed) into fresh %d-partition topics with segment.bytes %d MiB, --tiering-disable vs tiering on,\n"+
		"    in ABBA order (off, on, on, off, ...), each round after sync(2) and after the previous round's uploads drained\n",
		tierProduceRounds, r.Partitions, r.SegmentBytes>>20)
	fmt.Fprintf(w, "  reads: %d MiB in 1 partition (segment.bytes %d MiB, local.retention.bytes %d MiB), %d MiB in segment objects and %d MiB local when read;\n"+
		"    strata restarted with an empty chunk cache and the default 64 MiB memory tier, so the first warm pass reads chunks\n"+
		"    back from the disk tier (direct I/O, on the disk MinIO reads too); restarted again, with a memory tier that holds\n"+
		"    the data set, before the franz-go cold pass and the memory-tier warm pass; then once more, fresh, for a second\n"+
		"    cold pass, and a second plain GET read (plain and cold each summed over both); the page cache is dropped before\n"+
		"    every plain and cold read, so MinIO reads its disk for both; the Fetch reader checks each\n"+
		"    record batch's offsets and CRC-32C and counts batch bytes (as the plain GET counts object bytes) without\n"+
		"    decoding records; the franz-go consumer decodes every record and counts key and value bytes\n",
		r.Bytes>>20, r.SegmentBytes>>20, r.LocalRetBytes>>20, r.Uploaded>>20, r.LocalLeft>>20)
	if r.Cold.OK || r.Warm.OK {
		if r.BucketReadErr != nil {
			fmt.Fprintf(w, "    bytes strata read from the bucket per pass: n/a (%v)\n", r.BucketReadErr)
		} else {
			fmt.Fprintf(w, "    strata read %d MiB from the bucket in the cold pass, %d MiB in the warm pass from the disk tier, %d MiB in the one from memory (%s)\n",
				r.BucketReadCold>>20, r.BucketReadWarm>>20, r.BucketReadWarmMem>>20, remoteReadMetric)
		}
	}
	fmt.Fprintf(w, "  latency: acks=1 at %.0f MB/s into a fresh topic per phase; the cold reader (its own process) loops over the data set\n"+
		"    through a %d MiB chunk cache; phases in ABBA order twice (none, reader, reader, none, ...), each side's samples pooled\n\n",
		r.RatePerSec/1e6, r.LatencyCacheBytes>>20)
	writeGrid(w, tieringHeader, tieringCells(r), markdown, 1)
	fmt.Fprintln(w)
	for _, n := range []struct {
		name string
		err  error
	}{
		{"produce, tiering off", r.ProduceOff.Err},
		{"produce, tiering on", r.ProduceOn.Err},
		{"plain GET read", r.Reference.Err},
		{"cold read", r.Cold.Err},
		{"warm read", r.Warm.Err},
		{"warm read, memory tier", r.WarmMem.Err},
		{"cold read, franz-go", r.ColdDecoded.Err},
		{"warm read, franz-go", r.WarmDecoded.Err},
		{"latency, no cold reader", r.LatencyBase.Err},
		{"latency, cold reader active", r.LatencyCold.Err},
	} {
		if n.err != nil {
			fmt.Fprintf(w, "note: tiering %s: %v\n", n.name, n.err)
		}
	}
	if len(r.ProduceOffRounds)+len(r.ProduceOnRounds) > 0 {
		fmt.Fprintf(w, "note: tiering produce MB/s per round: off %s; on %s", roundsMBps(r.ProduceOffRounds), roundsMBps(r.ProduceOnRounds))
		if len(r.ProduceWarmUp) == 2 {
			fmt.Fprintf(w, " (unmeasured first rounds: off %.1f, on %.1f)", r.ProduceWarmUp[0].MBps(), r.ProduceWarmUp[1].MBps())
		}
		fmt.Fprintln(w)
	}
	if len(r.UploadDrains) > 0 {
		drains := joinEach(r.UploadDrains, func(d time.Duration) string { return d.Round(100 * time.Millisecond).String() })
		fmt.Fprintf(w, "note: tiering produce: uploads deferred while produce was busy drained %s after each \"on\" round\n", drains)
	}
	for _, l := range []struct {
		name string
		m    measured[latencyResult]
	}{{"no cold reader", r.LatencyBase}, {"cold reader active", r.LatencyCold}} {
		if l.m.OK && l.m.Res.AchievedMBps < 0.95*l.m.Res.OfferedMBps {
			fmt.Fprintf(w, "note: tiering latency, %s: acknowledged only %.1f of %.1f MB/s offered\n",
				l.name, l.m.Res.AchievedMBps, l.m.Res.OfferedMBps)
		}
	}
	if r.DropCachesErr != nil {
		fmt.Fprintf(w, "note: tiering reads: the page cache could not be dropped before the cold reads (%v): MinIO may have served them from memory\n", r.DropCachesErr)
	}
	if len(r.ReferencePasses)+len(r.ColdPasses) > 0 {
		fmt.Fprintf(w, "note: tiering reads, MB/s per pass (ABBA, summed above): plain GET %s; cold %s\n", joinEach(r.ReferencePasses, oneDecimal), joinEach(r.ColdPasses, oneDecimal))
	}
	if v, ok := div(r.Warm.Res.MBps(), r.Reference.Res.MBps()); ok && r.Warm.OK && r.Reference.OK {
		fmt.Fprintf(w, "note: tiering warm read from the disk tier / plain GET: %.2f (both read the same disk)\n", v)
	}
	if ph := r.LatencyPhasesP99; len(ph.Base)+len(ph.Cold) > 0 {
		fmt.Fprintf(w, "note: tiering latency p99 per phase, ms: no cold reader %s; cold reader active %s\n", joinEach(ph.Base, ms), joinEach(ph.Cold, ms))
	}
	for _, b := range []struct {
		name string
		s    produceSlow
	}{{"no cold reader", r.BrokerProduceBase}, {"cold reader active", r.BrokerProduceCold}} {
		if b.s.Err == nil && b.s.Requests > 0 {
			fmt.Fprintf(w, "note: tiering latency, %s: strata took over %s s for %.0f of %.0f Produce requests (%.2f%%, arrival to response written)\n",
				b.name, produceSlowBound, b.s.Slow, b.s.Requests, 100*b.s.Slow/b.s.Requests)
		}
	}
	ts := tieringTargets(r)
	if markdown {
		rows := make([][]string, len(ts))
		for i, t := range ts {
			rows[i] = t.cells()
		}
		fmt.Fprintln(w) // a markdown table must not continue a paragraph
		writeGrid(w, []string{"tiering ratio", "value", "target", "verdict"}, rows, true, 1)
		return
	}
	fmt.Fprintln(w, "tiering target ratios:")
	for _, t := range ts {
		c := t.cells()
		fmt.Fprintf(w, "  %-32s %6s  target %-8s %s\n", c[0], c[1], c[2], c[3])
	}
}

// joinEach formats each value with f, comma-separated.
func joinEach[T any](vs []T, f func(T) string) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = f(v)
	}
	return strings.Join(parts, ", ")
}

func roundsMBps(rs []produceResult) string {
	if len(rs) == 0 {
		return "n/a"
	}
	return joinEach(rs, func(r produceResult) string { return oneDecimal(r.MBps()) })
}

func oneDecimal(v float64) string { return fmt.Sprintf("%.1f", v) }
