package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Defaults for Config's zero values.
const (
	DefaultMaxRequestBytes     = 10 << 20
	DefaultConsumerIdleTimeout = 5 * time.Minute
	// DefaultRequestTimeout bounds each Kafka round trip a request makes.
	DefaultRequestTimeout = 30 * time.Second
)

// Config configures a Bridge.
type Config struct {
	// Brokers are the Kafka bootstrap addresses (host:port).
	Brokers []string
	// MaxRequestBytes caps request bodies (413 beyond it). Default 10 MiB.
	MaxRequestBytes int64
	// ConsumerIdleTimeout is how long a consumer instance may go without a
	// request before it is closed and deleted. Default 5 minutes.
	ConsumerIdleTimeout time.Duration
	// Logger receives the bridge's logs; nil discards them.
	Logger *slog.Logger
	// Registerer, if set, receives the bridge's metrics.
	Registerer prometheus.Registerer
	// ClientOpts are extra franz-go options for every client the bridge makes
	// (TLS, SASL, ...).
	ClientOpts []kgo.Opt
}

// Bridge serves the HTTP API. Create it with New and release it with Close.
type Bridge struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	producer *kgo.Client // shared: produce and all metadata queries
	admin    *kadm.Client
	handler  http.Handler

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	consumers map[instanceKey]*instance
}

// New validates cfg and creates the bridge's shared producer client. It does
// not contact the cluster: the client connects lazily.
func New(cfg Config) (*Bridge, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("bridge: no brokers configured")
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.ConsumerIdleTimeout <= 0 {
		cfg.ConsumerIdleTimeout = DefaultConsumerIdleTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID("strata-bridge"),
		kgo.RecordPartitioner(newPartitioner()),
		kgo.ProducerLinger(0),
		kgo.RecordDeliveryTimeout(DefaultRequestTimeout),
		kgo.MaxBufferedBytes(int(4 * cfg.MaxRequestBytes)),
	}, cfg.ClientOpts...)
	producer, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("bridge: producer client: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bridge{
		cfg:       cfg,
		log:       log,
		metrics:   newMetrics(cfg.Registerer),
		producer:  producer,
		admin:     kadm.NewClient(producer),
		ctx:       ctx,
		cancel:    cancel,
		consumers: make(map[instanceKey]*instance),
	}
	b.handler = b.routes()
	b.wg.Add(1)
	go b.expireLoop()
	return b, nil
}

// Handler returns the bridge's HTTP handler, serving /topics and /consumers.
func (b *Bridge) Handler() http.Handler { return b.handler }

// Close deletes every consumer instance (committing consumed offsets of
// auto-commit instances, leaving their groups) and closes the producer.
func (b *Bridge) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	insts := make([]*instance, 0, len(b.consumers))
	for k, in := range b.consumers {
		insts = append(insts, in)
		delete(b.consumers, k)
	}
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
	for _, in := range insts {
		in.close(context.Background())
	}
	b.metrics.instances.Set(0)
	b.producer.Close()
	return nil
}

// requestCtx bounds one request's Kafka work by the request's own context
// and DefaultRequestTimeout.
func requestCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), DefaultRequestTimeout)
}
