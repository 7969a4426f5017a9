package metastore

import (
	"context"
	"path"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
)

// Option configures Open.
type Option func(*options)

type options struct {
	reg prometheus.Registerer
	tls tlsFiles
}

// WithRegisterer registers etcd client metrics (request latency and errors
// by gRPC method) on reg.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(o *options) { o.reg = reg }
}

// requestMetrics returns a gRPC interceptor that times every etcd request.
func requestMetrics(reg prometheus.Registerer) grpc.UnaryClientInterceptor {
	seconds := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "strata_etcd_request_duration_seconds",
		Help:    "Latency of etcd requests made by the metastore, by gRPC method.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"method"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strata_etcd_request_errors_total",
		Help: "etcd requests made by the metastore that failed, by gRPC method.",
	}, []string{"method"})
	reg.MustRegister(seconds, errs)
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		start := time.Now()
		err := invoker(ctx, method, req, reply, cc, opts...)
		name := path.Base(method)
		seconds.WithLabelValues(name).Observe(time.Since(start).Seconds())
		if err != nil {
			errs.WithLabelValues(name).Inc()
		}
		return err
	}
}
