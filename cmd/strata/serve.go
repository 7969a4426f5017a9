package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/strata-io/strata/broker"
	"github.com/strata-io/strata/broker/bridge"
	"github.com/strata-io/strata/metastore"
	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/tiering/remote"
	"github.com/strata-io/strata/tiering/upload"
)

type serveFlags struct {
	config, kafkaAddr, advertise, httpAddr, dataDir, metastore, objstore, rack, logLevel string
	nodeID, numPartitions, defaultRF, socketMax, fetchMax, memLimitMiB                   int
	autoCreate, nodeIDFromHostname                                                       bool
	rebalanceDelay, retentionCheck, idleRoll                                             time.Duration
	sessionTimeout, replicaLagMax, leaderRebalance, shutdownTimeout                      time.Duration
	maxBacklog, cacheBytes, cacheMemBytes                                                int64
	cacheDir                                                                             string
	noTiering                                                                            bool
	metastoreCA, metastoreCert, metastoreKey                                             string
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "optional YAML config file; keys are flag names")
	fs.IntVar(&f.nodeID, "node-id", 1, "broker id")
	fs.BoolVar(&f.nodeIDFromHostname, "node-id-from-hostname", false, "take the broker id from the trailing number of the host name (a StatefulSet ordinal: strata-2 is broker 2)")
	fs.StringVar(&f.kafkaAddr, "kafka-addr", "127.0.0.1:9092", "Kafka listener address")
	fs.StringVar(&f.advertise, "advertise-kafka-addr", "", "host:port advertised in Metadata (default: --kafka-addr)")
	fs.StringVar(&f.httpAddr, "http-addr", "127.0.0.1:8080", "HTTP address for /metrics, /healthz, /readyz")
	fs.StringVar(&f.dataDir, "data-dir", "./data", "local hot segments, caches and the embedded metastore")
	fs.StringVar(&f.metastore, "metastore", "embedded", "embedded, or etcd://host:2379,host:2379/prefix")
	fs.StringVar(&f.metastoreCA, "metastore-ca-file", "", "PEM CA bundle to verify an external etcd's certificate; setting it turns on TLS to etcd")
	fs.StringVar(&f.metastoreCert, "metastore-cert-file", "", "PEM client certificate for an external etcd run with --client-cert-auth")
	fs.StringVar(&f.metastoreKey, "metastore-key-file", "", "PEM private key of --metastore-cert-file")
	fs.StringVar(&f.objstore, "objstore", "", "object store URL (default file://<data-dir>/objects)")
	fs.StringVar(&f.rack, "rack", "", "rack / availability zone")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.IntVar(&f.numPartitions, "num-partitions", 1, "num.partitions: partitions of auto-created topics")
	fs.IntVar(&f.defaultRF, "default-replication-factor", 1, "default.replication.factor")
	fs.BoolVar(&f.autoCreate, "auto-create-topics-enable", true, "auto.create.topics.enable")
	fs.IntVar(&f.socketMax, "socket-request-max-bytes", 100<<20, "socket.request.max.bytes: largest request accepted")
	fs.DurationVar(&f.rebalanceDelay, "group-initial-rebalance-delay", 3*time.Second, "group.initial.rebalance.delay.ms")
	fs.IntVar(&f.fetchMax, "fetch-max-bytes", 16<<20, "fetch.max.bytes: largest fetch response (Kafka: 55 MiB; smaller keeps memory bounded)")
	fs.IntVar(&f.memLimitMiB, "memory-limit-mib", 0, "Go runtime soft memory limit in MiB (0: none); GOMEMLIMIT, if set, wins")
	fs.DurationVar(&f.idleRoll, "tiering-idle-roll", 10*time.Minute, "roll an active segment idle this long so quiet partitions reach object storage")
	fs.Int64Var(&f.maxBacklog, "tiering-max-local-backlog-bytes", 10<<30, "un-uploaded bytes per partition before produce gets a retriable error (-1: no bound)")
	fs.StringVar(&f.cacheDir, "remote-cache-dir", "", "chunk cache for reads from object storage (default <data-dir>/cache)")
	fs.Int64Var(&f.cacheBytes, "remote-cache-bytes", 1<<30, "bytes of the remote chunk cache")
	fs.Int64Var(&f.cacheMemBytes, "remote-cache-memory-bytes", remote.DefaultMemCacheBytes, "bytes of remote chunks also kept in memory, the most recently used (-1: none)")
	fs.BoolVar(&f.noTiering, "tiering-disable", false, "keep every segment local: no uploads to the object store")
	fs.DurationVar(&f.retentionCheck, "log-retention-check-interval", 5*time.Minute, "log.retention.check.interval.ms")
	fs.DurationVar(&f.sessionTimeout, "broker-session-timeout", 4*time.Second, "etcd lease TTL of this broker (broker.session.timeout.ms): how soon a dead broker's leaderships move")
	fs.DurationVar(&f.replicaLagMax, "replica-lag-time-max", 30*time.Second, "replica.lag.time.max.ms: a follower not caught up for this long leaves the ISR")
	fs.DurationVar(&f.leaderRebalance, "leader-rebalance-interval", 30*time.Second, "how often the controller moves leadership back to preferred replicas (negative: never)")
	fs.DurationVar(&f.shutdownTimeout, "controlled-shutdown-timeout", 30*time.Second, "how long SIGTERM waits for leaderships to move away before stopping")
}

func runServe(args []string) int {
	fs := flag.NewFlagSet("strata serve", flag.ContinueOnError)
	var f serveFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := applyConfigSources(fs, f.config); err != nil {
		fmt.Fprintln(os.Stderr, "strata serve:", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "strata serve: --log-level:", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && f.memLimitMiB > 0 {
		// Fetch and produce buffers are short-lived; a soft limit makes the
		// GC return them before the heap doubles.
		debug.SetMemoryLimit(int64(f.memLimitMiB) << 20)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, f, logger); err != nil {
		logger.Error("strata serve failed", "err", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, f serveFlags, logger *slog.Logger) error {
	if f.nodeIDFromHostname {
		id, err := nodeIDFromHostname()
		if err != nil {
			return err
		}
		f.nodeID = id
	}
	dataDir, err := filepath.Abs(f.dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	lock, err := lockDataDir(dataDir)
	if err != nil {
		return err
	}
	defer lock.Close()
	// Bind the Kafka and HTTP listeners first: the embedded etcd takes
	// OS-chosen ports, which must not be the ones asked for here.
	ln, err := net.Listen("tcp", f.kafkaAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", f.kafkaAddr, err)
	}
	defer ln.Close()
	httpLn, err := net.Listen("tcp", f.httpAddr)
	if err != nil {
		return fmt.Errorf("listen http %s: %w", f.httpAddr, err)
	}
	defer httpLn.Close()
	objURL := f.objstore
	if objURL == "" {
		objURL = "file://" + filepath.Join(dataDir, "objects")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// A missing bucket or bad credentials stop the broker here.
	bucket, err := objstore.OpenWith(ctx, objURL, objstore.OpenOptions{Registerer: reg, Logger: logger.With("component", "objstore")})
	if err != nil {
		return fmt.Errorf("object store %s: %w", objURL, err)
	}
	defer bucket.Close()

	start := time.Now()
	meta, err := metastore.Open(ctx, f.metastore, dataDir, logger, metastore.WithRegisterer(reg),
		metastore.WithTLS(f.metastoreCA, f.metastoreCert, f.metastoreKey))
	if err != nil {
		return err // metastore errors already say "metastore:"
	}
	defer meta.Close()
	logger.Info("metastore ready", "spec", f.metastore, "took", time.Since(start).Round(time.Millisecond))

	b, err := broker.New(ctx, broker.Config{
		Registerer:                 reg,
		Tiering:                    tieringConfig(f, bucket, dataDir),
		NodeID:                     int32(f.nodeID),
		KafkaAddr:                  f.kafkaAddr,
		AdvertiseAddr:              f.advertise,
		DataDir:                    dataDir,
		Rack:                       f.rack,
		SocketRequestMaxBytes:      int32(f.socketMax),
		FetchMaxBytes:              int32(f.fetchMax),
		AutoCreateTopics:           f.autoCreate,
		NumPartitions:              int32(f.numPartitions),
		DefaultReplicationFactor:   int16(f.defaultRF),
		GroupInitialRebalanceDelay: f.rebalanceDelay,
		RetentionCheckInterval:     f.retentionCheck,
		SessionTimeout:             f.sessionTimeout,
		ReplicaLagTimeMax:          f.replicaLagMax,
		LeaderRebalanceInterval:    f.leaderRebalance,
		ControlledShutdownTimeout:  f.shutdownTimeout,
		Logger:                     logger,
	}, meta)
	if err != nil {
		return err
	}

	readyCheck := func(ctx context.Context) error {
		if err := b.Ready(ctx); err != nil {
			return err
		}
		if _, err := bucket.Exists(ctx, "readyz-probe"); err != nil {
			return fmt.Errorf("object store unreachable: %w", err)
		}
		return nil
	}
	// The HTTP bridge is a Kafka client of this broker, through the address
	// it advertises (the listener's, when that is a wildcard).
	bridgeAddr := f.advertise
	if bridgeAddr == "" {
		bridgeAddr = ln.Addr().String()
	}
	br, err := bridge.New(bridge.Config{Brokers: []string{bridgeAddr}, Logger: logger.With("component", "bridge"), Registerer: reg})
	if err != nil {
		return fmt.Errorf("http bridge: %w", err)
	}
	defer br.Close()
	httpSrv := startHTTP(httpLn, reg, readyCheck, br.Handler(), logger)
	defer httpSrv.Close()

	errc := make(chan error, 1)
	go func() { errc <- b.Serve(ctx, ln) }()
	logger.Info("strata serving", "kafka", ln.Addr().String(), "http", f.httpAddr, "data_dir", dataDir, "objstore", objURL)
	err = <-errc
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func startHTTP(ln net.Listener, reg *prometheus.Registry, ready func(context.Context) error, bridgeHandler http.Handler, logger *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("/topics", bridgeHandler)
	mux.Handle("/topics/", bridgeHandler)
	mux.Handle("/consumers/", bridgeHandler)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server", "err", err)
		}
	}()
	return srv
}

func tieringConfig(f serveFlags, bucket objstore.Bucket, dataDir string) broker.TieringConfig {
	if f.noTiering {
		return broker.TieringConfig{}
	}
	cacheDir := f.cacheDir
	if cacheDir == "" {
		cacheDir = filepath.Join(dataDir, "cache")
	}
	return broker.TieringConfig{
		Bucket: bucket,
		Upload: upload.Config{IdleRollAfter: f.idleRoll, MaxLocalBacklogBytes: f.maxBacklog, RetentionInterval: f.retentionCheck},
		Remote: remote.Config{CacheDir: cacheDir, CacheBytes: f.cacheBytes, MemCacheBytes: f.cacheMemBytes},
	}
}
