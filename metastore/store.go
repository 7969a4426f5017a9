package metastore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"google.golang.org/grpc"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap/zapcore"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrExists means the thing being created already exists.
	ErrExists = errors.New("metastore: already exists")
	// ErrNotFound means the requested key does not exist.
	ErrNotFound = errors.New("metastore: not found")
	// ErrConflict means a compare-and-swap lost a race (the stored revision
	// changed since it was read) and retrying did not help.
	ErrConflict = errors.New("metastore: conflicting concurrent update")
)

const (
	// DefaultPrefix is the key prefix used when the spec names none.
	DefaultPrefix = "/strata/"
	// defaultEtcdPort is used for etcd:// hosts given without a port.
	defaultEtcdPort = "2379"
	// defaultExternalMaxTxnOps is etcd's own default --max-txn-ops; an external
	// cluster is assumed to run with it unless the spec says otherwise.
	defaultExternalMaxTxnOps = 128
	// maxTxnBytes bounds the payload of one transaction we build, below etcd's
	// default --max-request-bytes (1.5 MiB).
	maxTxnBytes = 1 << 20
	dialTimeout = 10 * time.Second
)

// Store is typed access to Strata's metadata in etcd. It is safe for
// concurrent use.
type Store struct {
	cli       *clientv3.Client
	prefix    string
	maxTxnOps int
	logger    *slog.Logger
	embedded  *embeddedServer

	// ctx is cancelled by Close; background goroutines (lease keep-alives)
	// derive from it and are counted in wg.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	leases []clientv3.LeaseID // broker registrations to revoke on Close
	closed bool
}

// spec is a parsed --metastore value.
type spec struct {
	embedded  bool
	endpoints []string // host:port
	prefix    string   // always starts and ends with "/"
	maxTxnOps int      // 0: use the default for the mode
}

// parseSpec parses "embedded" (or "") and
// "etcd://host[:port][,host[:port]...][/prefix][?max-txn-ops=N]".
func parseSpec(s string) (spec, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "embedded" {
		return spec{embedded: true, prefix: DefaultPrefix}, nil
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return spec{}, fmt.Errorf("metastore: bad spec %q: want \"embedded\" or \"etcd://host:port[,host:port]/prefix\"", s)
	}
	if scheme != "etcd" {
		return spec{}, fmt.Errorf("metastore: bad spec %q: unsupported scheme %q (want etcd://)", s, scheme)
	}
	rest, query, _ := strings.Cut(rest, "?")
	hosts, path, _ := strings.Cut(rest, "/")
	out := spec{prefix: DefaultPrefix}
	if hosts == "" {
		return spec{}, fmt.Errorf("metastore: bad spec %q: no etcd hosts", s)
	}
	for _, h := range strings.Split(hosts, ",") {
		ep, err := normalizeHost(h)
		if err != nil {
			return spec{}, fmt.Errorf("metastore: bad spec %q: %w", s, err)
		}
		out.endpoints = append(out.endpoints, ep)
	}
	if path = strings.Trim(path, "/"); path != "" {
		out.prefix = "/" + path + "/"
	}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return spec{}, fmt.Errorf("metastore: bad spec %q: %w", s, err)
		}
		for k, v := range q {
			switch k {
			case "max-txn-ops":
				n, err := strconv.Atoi(v[0])
				if err != nil || n < 1 {
					return spec{}, fmt.Errorf("metastore: bad spec %q: max-txn-ops must be a positive integer", s)
				}
				out.maxTxnOps = n
			default:
				return spec{}, fmt.Errorf("metastore: bad spec %q: unknown option %q", s, k)
			}
		}
	}
	return out, nil
}

// normalizeHost validates one host[:port] and fills in the default port.
func normalizeHost(h string) (string, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return "", errors.New("empty host")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		// No port (or a bare IPv6 address without brackets is not allowed).
		if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
			return "", fmt.Errorf("host %q: %w", h, err)
		}
		host, port = strings.Trim(h, "[]"), defaultEtcdPort
	}
	if host == "" {
		return "", fmt.Errorf("host %q: empty host name", h)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("host %q: bad port %q", h, port)
	}
	return net.JoinHostPort(host, port), nil
}

// Open connects to the metastore described by specStr: "embedded" starts an
// embedded single-node etcd with its data under dataDir/meta; an
// "etcd://host:2379,host2:2379/prefix" spec connects to an external cluster.
// Close releases everything Open started.
func Open(ctx context.Context, specStr, dataDir string, logger *slog.Logger, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	sp, err := parseSpec(specStr)
	if err != nil {
		return nil, err
	}
	var tlsCfg *tls.Config
	if o.tls.set() {
		if sp.embedded {
			return nil, errors.New("metastore: TLS options apply to an external etcd (etcd:// spec); the embedded metastore listens on loopback without TLS")
		}
		if tlsCfg, err = o.tls.clientTLSConfig(); err != nil {
			return nil, err
		}
	}
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("component", "metastore")

	var emb *embeddedServer
	endpoints := sp.endpoints
	maxOps := sp.maxTxnOps
	if sp.embedded {
		if dataDir == "" {
			return nil, errors.New("metastore: embedded mode needs a data directory")
		}
		emb, err = startEmbedded(ctx, filepath.Join(dataDir, "meta"), logger)
		if err != nil {
			return nil, err
		}
		endpoints = []string{emb.endpoint}
		if maxOps == 0 {
			maxOps = embeddedMaxTxnOps
		}
	} else if maxOps == 0 {
		maxOps = defaultExternalMaxTxnOps
	}

	cfg := clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: dialTimeout,
		Context:     context.WithoutCancel(ctx),
		Logger:      newZapBridge(logger.With("etcd", "client"), zapcore.ErrorLevel, nil),
		TLS:         tlsCfg,
	}
	if o.reg != nil {
		cfg.DialOptions = append(cfg.DialOptions, grpc.WithChainUnaryInterceptor(requestMetrics(o.reg)))
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		if emb != nil {
			emb.close()
		}
		return nil, fmt.Errorf("metastore: connect to etcd %v: %w", endpoints, err)
	}
	// Check the cluster answers before handing out the store.
	pingCtx, cancel := context.WithTimeout(ctx, dialTimeout)
	_, err = cli.Get(pingCtx, sp.prefix+"ping", clientv3.WithCountOnly())
	cancel()
	if err != nil {
		cli.Close()
		if emb != nil {
			emb.close()
		} else if why := explainTLSFailure(ctx, endpoints[0], tlsCfg); why != nil {
			return nil, fmt.Errorf("metastore: etcd %v not reachable: %w (%w)", endpoints, why, err)
		}
		return nil, fmt.Errorf("metastore: etcd %v not reachable: %w", endpoints, err)
	}

	sctx, scancel := context.WithCancel(context.Background())
	return &Store{
		cli:       cli,
		prefix:    sp.prefix,
		maxTxnOps: maxOps,
		logger:    logger,
		embedded:  emb,
		ctx:       sctx,
		cancel:    scancel,
	}, nil
}

// Prefix returns the key prefix every key of this store lives under.
func (s *Store) Prefix() string { return s.prefix }

// Close revokes this store's broker registrations, stops background work and
// closes the client, then stops the embedded server if there is one.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	leases := s.leases
	s.leases = nil
	s.mu.Unlock()

	s.cancel()
	s.wg.Wait()
	if s.embedded != nil {
		// Shutting down: a lease already revoked by its keeper makes the
		// server warn "lease not found"; that and the rest is debug now.
		s.embedded.quiet.Store(true)
	}
	for _, id := range leases {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if _, err := s.cli.Revoke(ctx, id); err != nil {
			s.logger.Debug("revoke broker lease on close", "lease", int64(id), "err", err)
		}
		cancel()
	}
	err := s.cli.Close()
	if s.embedded != nil {
		s.embedded.close()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("metastore: close etcd client: %w", err)
	}
	return nil
}
