package controller

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	active    prometheus.Gauge
	elections prometheus.Counter
	restarts  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strata_controller_active",
			Help: "1 while this broker is the cluster controller, else 0.",
		}),
		elections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_controller_leader_elections_total",
			Help: "Partition leader changes written by this broker as controller.",
		}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_controller_broker_restarts_total",
			Help: "Brokers seen re-registering as a new incarnation while live, handled as failed and returned.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.active, m.elections, m.restarts)
	}
	return m
}
