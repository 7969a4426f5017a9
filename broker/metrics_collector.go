package broker

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// partitionCollector reports partition state and consumer lag at scrape
// time from the in-memory view: log start, log end and high watermark per
// partition, partition counts, and for every committed group offset the lag
// (high watermark minus committed offset), as Kafka Exporter computes it.
type partitionCollector struct {
	b *Broker

	logStart, logEnd, hw, size      *prometheus.Desc
	partitions, leaders, underRepl  *prometheus.Desc
	offline, committed, lag, topics *prometheus.Desc
	groupLagSum                     *prometheus.Desc
}

func newPartitionCollector(b *Broker) *partitionCollector {
	tp := []string{"topic", "partition"}
	gtp := []string{"group", "topic", "partition"}
	return &partitionCollector{
		b:           b,
		logStart:    prometheus.NewDesc("strata_log_start_offset", "First offset still in the partition's log.", tp, nil),
		logEnd:      prometheus.NewDesc("strata_log_end_offset", "Offset the next appended record will get.", tp, nil),
		hw:          prometheus.NewDesc("strata_high_watermark", "Offset below which records are visible to consumers.", tp, nil),
		size:        prometheus.NewDesc("strata_log_size_bytes", "Bytes of the partition's local log on disk.", tp, nil),
		topics:      prometheus.NewDesc("strata_topics", "Topics in the cluster.", nil, nil),
		partitions:  prometheus.NewDesc("strata_partitions", "Partitions hosted by this broker.", nil, nil),
		leaders:     prometheus.NewDesc("strata_leader_partitions", "Partitions this broker leads.", nil, nil),
		underRepl:   prometheus.NewDesc("strata_under_replicated_partitions", "Led partitions whose ISR is smaller than their replica set.", nil, nil),
		offline:     prometheus.NewDesc("strata_offline_partitions", "Partitions without a live leader.", nil, nil),
		committed:   prometheus.NewDesc("strata_consumer_group_committed_offset", "Committed offset of a consumer group.", gtp, nil),
		lag:         prometheus.NewDesc("strata_consumer_group_lag", "High watermark minus committed offset, per group and partition.", gtp, nil),
		groupLagSum: prometheus.NewDesc("strata_consumer_group_total_lag", "Total lag of a consumer group over all its partitions.", []string{"group"}, nil),
	}
}

func (c *partitionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.logStart, c.logEnd, c.hw, c.size, c.topics, c.partitions, c.leaders,
		c.underRepl, c.offline, c.committed, c.lag, c.groupLagSum} {
		ch <- d
	}
}

func (c *partitionCollector) Collect(ch chan<- prometheus.Metric) {
	b := c.b
	topics := b.snapshotTopics()
	type key struct {
		topic string
		part  int32
	}
	hws := map[key]int64{}
	n, leaders, under, offline := 0, 0, 0, 0
	for _, t := range topics {
		b.mu.RLock()
		parts := t.parts
		b.mu.RUnlock()
		for _, p := range parts {
			if p == nil {
				continue
			}
			n++
			id := strconv.Itoa(int(p.id))
			start, end, hw := p.log.LogStartOffset(), p.log.LogEndOffset(), p.highWatermark()
			ch <- prometheus.MustNewConstMetric(c.logStart, prometheus.GaugeValue, float64(start), t.name, id)
			ch <- prometheus.MustNewConstMetric(c.logEnd, prometheus.GaugeValue, float64(end), t.name, id)
			ch <- prometheus.MustNewConstMetric(c.hw, prometheus.GaugeValue, float64(hw), t.name, id)
			p.replMu.Lock()
			if p.rs.isLeader {
				hws[key{t.name, p.id}] = hw // lag is reported by the leader only
				leaders++
				if len(p.rs.isr) < len(p.rs.replicas) {
					under++
				}
			} else if p.rs.known && p.rs.leaderID < 0 {
				offline++
			}
			p.replMu.Unlock()
			ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(p.log.Size()), t.name, id)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.topics, prometheus.GaugeValue, float64(len(topics)))
	ch <- prometheus.MustNewConstMetric(c.partitions, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(c.leaders, prometheus.GaugeValue, float64(leaders))
	// Under-replicated: led here with an ISR smaller than the replica set;
	// offline: hosted here with no leader anywhere.
	ch <- prometheus.MustNewConstMetric(c.underRepl, prometheus.GaugeValue, float64(under))
	ch <- prometheus.MustNewConstMetric(c.offline, prometheus.GaugeValue, float64(offline))

	sums := map[string]int64{}
	for k, off := range b.groups.CommittedOffsets() {
		hw, ok := hws[key{k.Topic, k.Partition}]
		if !ok || off.Offset < 0 {
			continue // offsets of deleted topics or unknown partitions
		}
		lag := hw - off.Offset
		if lag < 0 {
			lag = 0
		}
		id := strconv.Itoa(int(k.Partition))
		ch <- prometheus.MustNewConstMetric(c.committed, prometheus.GaugeValue, float64(off.Offset), k.Group, k.Topic, id)
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(lag), k.Group, k.Topic, id)
		sums[k.Group] += lag
	}
	for g, s := range sums {
		ch <- prometheus.MustNewConstMetric(c.groupLagSum, prometheus.GaugeValue, float64(s), g)
	}
}
