package broker

import (
	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
	"net"
	"os"
	"time"
)

// Config is the broker's configuration; cmd/strata fills it from flags,
// environment and the config file.
type Config struct {
	NodeID        int32
	KafkaAddr     string // listen address
	AdvertiseAddr string // host:port in Metadata; defaults to KafkaAddr
	DataDir       string
	Rack          string

	SocketRequestMaxBytes      int32 // socket.request.max.bytes
	FetchMaxBytes              int32 // fetch.max.bytes: cap on one fetch response
	AutoCreateTopics           bool  // auto.create.topics.enable
	NumPartitions              int32 // num.partitions
	DefaultReplicationFactor   int16 // default.replication.factor
	GroupInitialRebalanceDelay time.Duration
	GroupMinSessionTimeout     time.Duration
	GroupMaxSessionTimeout     time.Duration
	RetentionCheckInterval     time.Duration // log.retention.check.interval.ms

	// SessionTimeout is the broker's etcd lease TTL (broker.session.timeout.ms):
	// how long after a broker dies or is cut off before the controller
	// moves its leaderships. A broker whose lease may have expired stops
	// acting as leader.
	SessionTimeout time.Duration
	// ReplicaLagTimeMax is replica.lag.time.max.ms: a follower that has not
	// caught up for this long leaves the ISR.
	ReplicaLagTimeMax time.Duration
	// LeaderRebalanceInterval is how often the controller moves leadership
	// back to preferred replicas (leader.imbalance.check.interval); < 0 off.
	LeaderRebalanceInterval time.Duration
	// ControlledShutdownTimeout bounds how long a stopping broker waits for
	// the controller to move its leaderships away.
	ControlledShutdownTimeout time.Duration

	// TopicDefaults overrides the built-in default of any topic config
	// (the broker-level log.* settings of Kafka), by topic config name.
	TopicDefaults map[string]string

	Logger *slog.Logger
	// Tiering moves sealed segments to object storage; off without a bucket.
	Tiering TieringConfig
	// Registerer receives the broker's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
}

// withDefaults fills zero values with Kafka's defaults.
func (c Config) withDefaults() Config {
	if c.SocketRequestMaxBytes <= 0 {
		c.SocketRequestMaxBytes = 100 << 20
	}
	if c.FetchMaxBytes <= 0 {
		c.FetchMaxBytes = 16 << 20
	}
	if c.NumPartitions <= 0 {
		c.NumPartitions = 1
	}
	if c.DefaultReplicationFactor <= 0 {
		c.DefaultReplicationFactor = 1
	}
	if c.GroupMinSessionTimeout <= 0 {
		c.GroupMinSessionTimeout = 6 * time.Second
	}
	if c.GroupMaxSessionTimeout <= 0 {
		c.GroupMaxSessionTimeout = 30 * time.Minute
	}
	if c.GroupInitialRebalanceDelay < 0 {
		c.GroupInitialRebalanceDelay = 0
	}
	if c.RetentionCheckInterval <= 0 {
		c.RetentionCheckInterval = 5 * time.Minute
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 4 * time.Second
	}
	if c.ReplicaLagTimeMax <= 0 {
		c.ReplicaLagTimeMax = 30 * time.Second
	}
	if c.LeaderRebalanceInterval == 0 {
		c.LeaderRebalanceInterval = 30 * time.Second
	}
	if c.ControlledShutdownTimeout <= 0 {
		c.ControlledShutdownTimeout = 30 * time.Second
	}
	if c.AdvertiseAddr == "" {
		c.AdvertiseAddr = c.KafkaAddr
		// A wildcard listener is not an address clients can dial:
		// advertise the host name instead, as Kafka does.
		if host, port, err := net.SplitHostPort(c.KafkaAddr); err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
			if h, err := os.Hostname(); err == nil {
				c.AdvertiseAddr = net.JoinHostPort(h, port)
			}
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
