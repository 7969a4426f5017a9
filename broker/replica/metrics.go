package replica

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	fetchBytes    prometheus.Counter
	fetchRequests prometheus.Counter
	truncations   prometheus.Counter
}

// newMetrics creates the manager's metrics and registers them (and the lag
// gauge, computed by maxLag on scrape) on reg when it is not nil.
func newMetrics(reg prometheus.Registerer, maxLag func() float64, logger *slog.Logger) *metrics {
	m := &metrics{
		fetchBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_replica_fetch_bytes_total",
			Help: "Record batch bytes appended to follower logs by replication.",
		}),
		fetchRequests: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_replica_fetch_requests_total",
			Help: "Fetch requests sent to partition leaders by followers.",
		}),
		truncations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_replica_truncations_total",
			Help: "Follower log truncations (by leader epoch, diverging epoch or out-of-range offset).",
		}),
	}
	if reg == nil {
		return m
	}
	lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "strata_replica_lag_records",
		Help: "Largest lag, in records, of a followed partition behind its leader's high watermark as of its last fetch.",
	}, maxLag)
	for _, c := range []prometheus.Collector{m.fetchBytes, m.fetchRequests, m.truncations, lag} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				logger.Warn("replica: register metric", "err", err)
			}
		}
	}
	return m
}
