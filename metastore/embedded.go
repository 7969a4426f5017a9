package metastore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap/zapcore"
)

// Embedded-server tuning. MaxTxnOps is raised so a large offset commit fits in
// few transactions; the request size limit is raised to match.
const (
	embeddedMaxTxnOps       = 4096
	embeddedMaxRequestBytes = 10 << 20
	embeddedQuotaBytes      = 4 << 30
	embeddedStartTimeout    = 30 * time.Second
	embeddedMemberName      = "strata"
)

// embeddedServer is a single-member etcd running inside this process.
type embeddedServer struct {
	etcd     *embed.Etcd
	endpoint string       // host:port the client dials
	quiet    *atomic.Bool // set while stopping: etcd's shutdown noise goes to debug
}

// startEmbedded starts a single-member etcd with its data in dir. It listens on
// 127.0.0.1 with OS-chosen ports (client and peer), so several servers can run
// on one host at once.
func startEmbedded(ctx context.Context, dir string, logger *slog.Logger) (*embeddedServer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("metastore: create embedded etcd dir: %w", err)
	}
	local, _ := url.Parse("http://127.0.0.1:0")

	cfg := embed.NewConfig()
	cfg.Name = embeddedMemberName
	cfg.Dir = dir
	cfg.WalDir = filepath.Join(dir, "wal")
	cfg.ListenClientUrls = []url.URL{*local}
	cfg.AdvertiseClientUrls = []url.URL{*local}
	cfg.ListenPeerUrls = []url.URL{*local}
	cfg.AdvertisePeerUrls = []url.URL{*local}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.MaxTxnOps = embeddedMaxTxnOps
	cfg.MaxRequestBytes = embeddedMaxRequestBytes
	cfg.QuotaBackendBytes = embeddedQuotaBytes
	cfg.AutoCompactionMode = embed.CompactorModePeriodic
	cfg.AutoCompactionRetention = "1h"
	cfg.EnableGRPCGateway = false
	quiet := new(atomic.Bool)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(newZapBridge(logger.With("etcd", "server"), zapcore.WarnLevel, quiet,
		// Expected for a loopback-only single-member server without auth.
		"Running http and grpc server on single port. This is not recommended for production.",
		"simple token is not cryptographically signed"))

	e, err := embed.StartEtcd(cfg)
	closeQuietly := func() { quiet.Store(true); e.Close() }
	if err != nil {
		return nil, fmt.Errorf("metastore: start embedded etcd in %s: %w", dir, err)
	}
	timer := time.NewTimer(embeddedStartTimeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		closeQuietly()
		return nil, fmt.Errorf("metastore: embedded etcd failed while starting: %w", err)
	case <-timer.C:
		closeQuietly()
		return nil, fmt.Errorf("metastore: embedded etcd not ready after %s", embeddedStartTimeout)
	case <-ctx.Done():
		closeQuietly()
		return nil, fmt.Errorf("metastore: starting embedded etcd: %w", ctx.Err())
	}
	if len(e.Clients) == 0 {
		closeQuietly()
		return nil, errors.New("metastore: embedded etcd has no client listener")
	}
	endpoint := e.Clients[0].Addr().String()
	logger.Info("embedded etcd ready", "dir", dir, "endpoint", endpoint)
	return &embeddedServer{etcd: e, endpoint: endpoint, quiet: quiet}, nil
}

// close stops the server and waits for it to release its data directory.
func (s *embeddedServer) close() {
	s.quiet.Store(true)
	s.etcd.Close()
}
