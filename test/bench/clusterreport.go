package main

import (
	"fmt"
	"io"
	"time"
)

var clusterHeader = []string{"cluster, acks=all", "produce MB/s", "p50 ms", "p99 ms", "p999 ms"}

// clusterCells is the cluster table: produce throughput and latency at
// acks=all on one broker (RF 1) and on three (RF 3).
func clusterCells(r clusterResult) [][]string {
	na := "n/a"
	line := func(name string, p measured[produceResult], l measured[latencyResult]) []string {
		c := []string{name, na, na, na, na}
		if p.OK {
			c[1] = fmt.Sprintf("%.1f", p.Res.MBps())
		}
		if l.OK && l.Res.Samples > 0 {
			c[2], c[3], c[4] = ms(l.Res.P50), ms(l.Res.P99), ms(l.Res.P999)
		}
		return c
	}
	return [][]string{
		line("strata, 1 broker, RF 1", r.SingleProduce, r.SingleLatency),
		line("strata, 3 brokers, RF 3", r.ClusterProduce, r.ClusterLatency),
	}
}

// failoverTarget is the bound on produce unavailability after a
// leader is lost, with default settings.
const failoverTarget = 6 * time.Second

// writeCluster prints the cluster section: the table, the failover line
// and notes for whatever failed.
func writeCluster(w io.Writer, r clusterResult, markdown bool) {
	if r.Skipped != "" {
		fmt.Fprintf(w, "cluster section skipped: %s\n", r.Skipped)
		return
	}
	writeGrid(w, clusterHeader, clusterCells(r), markdown, 1)
	fmt.Fprintln(w)
	f := r.Failover
	switch {
	case f.OK && len(f.Res.Gaps) > 0:
		verdict := "met"
		if f.Res.Max() > failoverTarget {
			verdict = "NOT met"
		}
		fmt.Fprintf(w, "failover: produce unavailability over %d leader kills (SIGKILL, RF 3, acks=all): p50 %.2f s, max %.2f s (target <= %.0f s: %s); %d records failed\n",
			len(f.Res.Gaps), f.Res.P50().Seconds(), f.Res.Max().Seconds(), failoverTarget.Seconds(), verdict, f.Res.Failed)
	default:
		fmt.Fprintf(w, "failover: n/a (%d kills measured)\n", len(f.Res.Gaps))
	}
	notes := []struct {
		name string
		err  error
	}{
		{"1 broker produce", r.SingleProduce.Err}, {"1 broker latency", r.SingleLatency.Err},
		{"3 brokers produce", r.ClusterProduce.Err}, {"3 brokers latency", r.ClusterLatency.Err},
		{"failover", f.Err},
	}
	for _, n := range notes {
		if n.err != nil {
			fmt.Fprintf(w, "note: cluster %s: %v\n", n.name, n.err)
		}
	}
}
