package broker

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// metrics are the broker's hot-path instruments. Per-partition offsets and
// consumer lag are not here: partitionCollector computes them at scrape
// time, so produce and fetch pay nothing for them.
type metrics struct {
	requests       *prometheus.CounterVec   // api, version
	requestSeconds *prometheus.HistogramVec // api
	errors         *prometheus.CounterVec   // api, error
	closed         *prometheus.CounterVec   // reason
	connections    prometheus.Gauge
	accepted       prometheus.Counter
	bytesIn        *prometheus.CounterVec // topic
	recordsIn      *prometheus.CounterVec // topic
	bytesOut       *prometheus.CounterVec // topic
	recordsOut     *prometheus.CounterVec // topic
	isrShrinks     prometheus.Counter
	isrExpands     prometheus.Counter
	followerBytes  prometheus.Counter // record bytes served to consumers by a follower

	apiSeconds [kmsg.MaxKey + 1]prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_requests_total", Help: "Kafka requests received, by API and version.",
		}, []string{"api", "version"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "strata_request_duration_seconds",
			Help:    "Time from a request's arrival to its response being written, by API.",
			Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"api"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_response_errors_total", Help: "Kafka error codes returned in responses (per partition for Produce and Fetch), by API and error.",
		}, []string{"api", "error"}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_connections_closed_on_error_total", Help: "Connections closed because a frame could not be served, by reason.",
		}, []string{"reason"}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strata_connections", Help: "Open Kafka client connections.",
		}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_connections_accepted_total", Help: "Kafka client connections accepted.",
		}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_topic_bytes_in_total", Help: "Record batch bytes appended, by topic.",
		}, []string{"topic"}),
		recordsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_topic_records_in_total", Help: "Records appended, by topic.",
		}, []string{"topic"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_topic_bytes_out_total", Help: "Record batch bytes sent to consumers, by topic.",
		}, []string{"topic"}),
		recordsOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_topic_records_out_total", Help: "Records sent to consumers, by topic.",
		}, []string{"topic"}),
		isrShrinks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_isr_shrinks_total", Help: "In-sync replica set shrinks of partitions this broker leads.",
		}),
		isrExpands: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_isr_expands_total", Help: "In-sync replica set expansions of partitions this broker leads.",
		}),
		followerBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_follower_fetch_bytes_total", Help: "Record batch bytes this broker served to consumers as a follower (fetch from the closest replica, KIP-392).",
		}),
	}
	for k := range m.apiSeconds {
		if kmsg.RequestForKey(int16(k)) != nil {
			m.apiSeconds[k] = m.requestSeconds.WithLabelValues(apiName(int16(k)))
		}
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.requestSeconds, m.errors, m.closed, m.connections, m.accepted,
			m.bytesIn, m.recordsIn, m.bytesOut, m.recordsOut, m.isrShrinks, m.isrExpands, m.followerBytes)
	}
	return m
}

func apiName(key int16) string { return kmsg.NameForKey(key) }

func (m *metrics) request(key, version int16) {
	m.requests.WithLabelValues(apiName(key), strconv.Itoa(int(version))).Inc()
}

func (m *metrics) observe(key int16, seconds float64) {
	if key >= 0 && int(key) < len(m.apiSeconds) && m.apiSeconds[key] != nil {
		m.apiSeconds[key].Observe(seconds)
	}
}

func (m *metrics) errorCode(key, code int16) {
	if code == 0 {
		return
	}
	name := strconv.Itoa(int(code))
	if e := kerr.ErrorForCode(code); e != nil {
		if ke, ok := e.(*kerr.Error); ok {
			name = ke.Message
		}
	}
	m.errors.WithLabelValues(apiName(key), name).Inc()
}

// topicMetrics are a topic's counters, resolved once per topic.
type topicMetrics struct {
	bytesIn, recordsIn, bytesOut, recordsOut prometheus.Counter
}

func (m *metrics) forTopic(name string) *topicMetrics {
	return &topicMetrics{
		bytesIn:    m.bytesIn.WithLabelValues(name),
		recordsIn:  m.recordsIn.WithLabelValues(name),
		bytesOut:   m.bytesOut.WithLabelValues(name),
		recordsOut: m.recordsOut.WithLabelValues(name),
	}
}

func (m *metrics) dropTopic(name string) {
	m.bytesIn.DeleteLabelValues(name)
	m.recordsIn.DeleteLabelValues(name)
	m.bytesOut.DeleteLabelValues(name)
	m.recordsOut.DeleteLabelValues(name)
}
