package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one line of the result table: one broker at one acks setting.
// A zero value field means "not measured"; Err says why.
type row struct {
	Broker     string
	Acks       ackMode
	Produce    produceResult
	Consume    consumeResult
	Latency    latencyResult
	PeakRSS    int64 // bytes, VmHWM of the broker process after this row
	Err        error
	producedOK bool
	consumedOK bool
	latencyOK  bool
}

// ceilings are the machine limits measured in the same run.
type ceilings struct {
	Disk1M, Disk16M diskResult
	DiskDir         string
	DiskErr         error
	TCP             tcpResult
	TCPErr          error
}

var tableHeader = []string{"broker", "acks", "produce MB/s", "consume MB/s", "p50 ms", "p99 ms", "p999 ms", "peak RSS MiB"}

func (r row) cells() []string {
	na := "n/a"
	c := []string{r.Broker, string(r.Acks), na, na, na, na, na, na}
	if r.producedOK {
		c[2] = fmt.Sprintf("%.1f", r.Produce.MBps())
	}
	if r.consumedOK {
		c[3] = fmt.Sprintf("%.1f", r.Consume.MBps())
	}
	if r.latencyOK {
		c[4], c[5], c[6] = ms(r.Latency.P50), ms(r.Latency.P99), ms(r.Latency.P999)
	}
	if r.PeakRSS > 0 {
		c[7] = fmt.Sprintf("%.0f", float64(r.PeakRSS)/(1<<20))
	}
	return c
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
}

// writeTable prints the rows as an aligned text table or as markdown.
func writeTable(w io.Writer, rows []row, markdown bool) {
	cells := make([][]string, len(rows))
	for i, r := range rows {
		cells[i] = r.cells()
	}
	writeGrid(w, tableHeader, cells, markdown, 2)
}

// writeGrid prints a table as right-aligned text columns or as markdown,
// where the first textCols columns are left-aligned text.
func writeGrid(w io.Writer, header []string, rows [][]string, markdown bool, textCols int) {
	if markdown {
		fmt.Fprintf(w, "| %s |\n", strings.Join(header, " | "))
		seps := make([]string, len(header))
		for i := range seps {
			seps[i] = "---"
			if i >= textCols {
				seps[i] = "---:"
			}
		}
		fmt.Fprintf(w, "|%s|\n", strings.Join(seps, "|"))
		for _, c := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(c, " | "))
		}
		return
	}
	// tabwriter aligns every column one way; pad the text columns so they
	// read left-aligned.
	all := append([][]string{header}, rows...)
	for col := 0; col < textCols; col++ {
		width := 0
		for _, c := range all {
			if col < len(c) {
				width = max(width, len(c[col]))
			}
		}
		for i, c := range all {
			if col < len(c) {
				c = slices.Clone(c)
				c[col] += strings.Repeat(" ", width-len(c[col]))
				all[i] = c
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, c := range all {
		fmt.Fprintf(tw, "%s\t\n", strings.Join(c, "\t"))
	}
	_ = tw.Flush()
}

// writeNotes prints per-row errors and anything that makes a number suspect.
func writeNotes(w io.Writer, rows []row) {
	for _, r := range rows {
		if r.Err != nil {
			fmt.Fprintf(w, "note: %s acks=%s: %v\n", r.Broker, r.Acks, r.Err)
		}
		if r.latencyOK && r.Latency.AchievedMBps < 0.95*r.Latency.OfferedMBps {
			fmt.Fprintf(w, "note: %s acks=%s: latency phase acknowledged only %.1f of %.1f MB/s offered\n",
				r.Broker, r.Acks, r.Latency.AchievedMBps, r.Latency.OfferedMBps)
		}
	}
}

// writeCeilings prints the machine's measured limits.
func writeCeilings(w io.Writer, c ceilings) {
	fmt.Fprintln(w, "machine ceilings:")
	if c.DiskErr != nil {
		fmt.Fprintf(w, "  disk fsync write (%s): error: %v\n", c.DiskDir, c.DiskErr)
	} else {
		for _, d := range []diskResult{c.Disk1M, c.Disk16M} {
			if d.Bytes == 0 {
				continue
			}
			fmt.Fprintf(w, "  disk sequential write, fdatasync every %d MiB (%s): %.1f MB/s (%d MiB in %s)\n",
				d.BlockSize>>20, c.DiskDir, d.MBps(), d.Bytes>>20, d.Elapsed.Round(time.Millisecond))
		}
	}
	if c.TCPErr != nil {
		fmt.Fprintf(w, "  loopback TCP, one stream: error: %v\n", c.TCPErr)
	} else if c.TCP.Bytes > 0 {
		fmt.Fprintf(w, "  loopback TCP, one stream: %.1f MB/s (%d MiB in %s)\n",
			c.TCP.MBps(), c.TCP.Bytes>>20, c.TCP.Elapsed.Round(time.Millisecond))
	}
}

// ratio is one target ratio; OK is false when an input is missing.
type ratio struct {
	Name  string
	Value float64
	OK    bool
}

func find(rows []row, broker string, acks ackMode) (row, bool) {
	for _, r := range rows {
		if r.Broker == broker && r.Acks == acks {
			return r, true
		}
	}
	return row{}, false
}

func div(a, b float64) (float64, bool) {
	if a <= 0 || b <= 0 {
		return 0, false
	}
	return a / b, true
}

// targetRatios computes the ratios the project tracks, strata against the
// kfake reference and against the machine.
func targetRatios(rows []row, c ceilings) []ratio {
	s1, hasS1 := find(rows, "strata", acksLeader)
	sAll, hasSAll := find(rows, "strata", acksAll)
	k1, hasK1 := find(rows, "kfake", acksLeader)
	kAll, hasKAll := find(rows, "kfake", acksAll)
	var out []ratio
	add := func(name string, v float64, ok bool) { out = append(out, ratio{name, v, ok}) }

	v, ok := div(s1.Produce.MBps(), k1.Produce.MBps())
	add("strata produce acks=1 / kfake", v, ok && hasS1 && hasK1 && s1.producedOK && k1.producedOK)
	v, ok = div(s1.Consume.MBps(), k1.Consume.MBps())
	add("strata consume / kfake", v, ok && hasS1 && hasK1 && s1.consumedOK && k1.consumedOK)
	v, ok = div(sAll.Produce.MBps(), c.Disk1M.MBps())
	add("strata produce acks=all / disk fsync(1 MiB) MB/s", v, ok && hasSAll && sAll.producedOK)
	v, ok = div(sAll.Produce.MBps(), c.Disk16M.MBps())
	add("strata produce acks=all / disk fsync(16 MiB) MB/s", v, ok && hasSAll && sAll.producedOK)
	v, ok = div(s1.Latency.P99.Seconds(), k1.Latency.P99.Seconds())
	add("strata p99 / kfake p99 at 50 MB/s, acks=1", v, ok && hasS1 && hasK1 && s1.latencyOK && k1.latencyOK)
	v, ok = div(sAll.Latency.P99.Seconds(), kAll.Latency.P99.Seconds())
	add("strata p99 / kfake p99 at 50 MB/s, acks=all", v, ok && hasSAll && hasKAll && sAll.latencyOK && kAll.latencyOK)
	var peak int64
	for _, r := range rows {
		if r.Broker == "strata" {
			peak = max(peak, r.PeakRSS)
		}
	}
	v, ok = div(float64(peak), 512<<20)
	add("strata peak RSS / 512 MiB", v, ok)
	return out
}

// writeRatios prints the target ratios, "n/a" where an input is missing.
func writeRatios(w io.Writer, rs []ratio) {
	fmt.Fprintln(w, "target ratios:")
	for _, r := range rs {
		if r.OK {
			fmt.Fprintf(w, "  %-52s %.2f\n", r.Name, r.Value)
		} else {
			fmt.Fprintf(w, "  %-52s n/a\n", r.Name)
		}
	}
}
