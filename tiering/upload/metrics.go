package upload

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	latency  prometheus.Histogram
	failures *prometheus.CounterVec
	uploaded prometheus.Counter
	segments prometheus.Counter
	deleted  prometheus.Counter
	orphans  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, backlog func() float64) *metrics {
	f := promauto.With(reg)
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "strata_tiering_upload_backlog_bytes",
		Help: "Local log bytes of tracked partitions not yet uploaded to object storage.",
	}, backlog)
	return &metrics{
		latency: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "strata_tiering_upload_duration_seconds",
			Help:    "Time to upload one segment object (excluding the manifest commit).",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		failures: f.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_tiering_upload_failures_total",
			Help: "Failed segment uploads by stage (upload, commit, fenced).",
		}, []string{"stage"}),
		uploaded: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_tiering_uploaded_bytes_total",
			Help: "Bytes of segment objects uploaded and committed.",
		}),
		segments: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_tiering_uploaded_segments_total",
			Help: "Segments uploaded and committed to the manifest.",
		}),
		deleted: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_tiering_retention_deleted_segments_total",
			Help: "Remote segments removed by retention.",
		}),
		orphans: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_tiering_orphans_deleted_total",
			Help: "Objects deleted by garbage collection (not in the manifest).",
		}),
	}
}
