package metastore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// Embedded-server tuning. MaxTxnOps is raised so a large offset commit fits in
// few transactions; the request size limit is raised to match.
const (
	embeddedMaxTxnOps       = 4096
	embeddedMaxRequestBytes = 16 << 20
	embeddedQuotaBytes      = 4 << 30
	embeddedStartTimeout    = 30 * time.Second
	embeddedMemberName      = "strata"
)

// embeddedServer is a single-member etcd running inside this process.
type embeddedServer struct {
	etcd     *embed.Etcd
	endpoint string // host:port the client dials
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
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{"stderr"}

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("metastore: start embedded etcd in %s: %w", dir, err)
	}
	timer := time.NewTimer(embeddedStartTimeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("metastore: embedded etcd failed while starting: %w", err)
	case <-timer.C:
		e.Close()
		return nil, fmt.Errorf("metastore: embedded etcd not ready after %s", embeddedStartTimeout)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("metastore: starting embedded etcd: %w", ctx.Err())
	}
	if len(e.Clients) == 0 {
		e.Close()
		return nil, errors.New("metastore: embedded etcd has no client listener")
	}
	endpoint := e.Clients[0].Addr().String()
	logger.Info("embedded etcd ready", "dir", dir, "endpoint", endpoint)
	return &embeddedServer{etcd: e, endpoint: endpoint}, nil
}

// close stops the server and waits for it to release its data directory.
func (s *embeddedServer) close() {
	s.etcd.Close()
}
