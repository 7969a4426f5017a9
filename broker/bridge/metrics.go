package bridge

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	instances prometheus.Gauge
	expired   prometheus.Counter
	produced  prometheus.Counter
	consumed  prometheus.Counter
}

// newMetrics registers the bridge's metrics on reg; with a nil reg they are
// kept but not exported.
func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	return &metrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_bridge_http_requests_total",
			Help: "HTTP bridge requests by route and status code.",
		}, []string{"route", "code"}),
		latency: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "strata_bridge_http_request_duration_seconds",
			Help:    "HTTP bridge request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"route"}),
		instances: f.NewGauge(prometheus.GaugeOpts{
			Name: "strata_bridge_consumer_instances",
			Help: "Live HTTP bridge consumer instances.",
		}),
		expired: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_bridge_consumer_instances_expired_total",
			Help: "Consumer instances deleted after being idle for the consumer idle timeout.",
		}),
		produced: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_bridge_produced_records_total",
			Help: "Records produced through the HTTP bridge.",
		}),
		consumed: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_bridge_consumed_records_total",
			Help: "Records returned to HTTP bridge consumer instances.",
		}),
	}
}

func (m *metrics) observe(route, code string, d time.Duration) {
	m.requests.WithLabelValues(route, code).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}
