package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-io/strata/metastore"
)

// DefaultLeaderRebalanceInterval is how often leadership is moved back to
// preferred replicas when Config.LeaderRebalanceInterval is 0.
const DefaultLeaderRebalanceInterval = 30 * time.Second

// Config configures Run.
type Config struct {
	NodeID int32
	Store  *metastore.Store
	Logger *slog.Logger
	// LeaderRebalanceInterval: 0 means DefaultLeaderRebalanceInterval, < 0
	// turns preferred-leader rebalancing off.
	LeaderRebalanceInterval time.Duration
	// SessionTimeout is the controller session's lease TTL; 0 means
	// metastore.BrokerTTL.
	SessionTimeout time.Duration
	Registerer     prometheus.Registerer
}

// Run campaigns to be controller and, while elected, reconciles partition
// states; after losing the leadership it campaigns again. It returns nil
// once ctx is done.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Store == nil {
		return errors.New("controller: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = cfg.Logger.With("component", "controller", "node", cfg.NodeID)
	if cfg.LeaderRebalanceInterval == 0 {
		cfg.LeaderRebalanceInterval = DefaultLeaderRebalanceInterval
	}
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = metastore.BrokerTTL
	}
	m := newMetrics(cfg.Registerer)
	for attempt := 0; ctx.Err() == nil; {
		l, err := cfg.Store.CampaignTTL(ctx, cfg.NodeID, cfg.SessionTimeout)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			attempt++
			cfg.Logger.Warn("controller campaign failed; retrying", "err", err)
			sleep(ctx, min(time.Duration(attempt)*200*time.Millisecond, 2*time.Second))
			continue
		}
		attempt = 0
		cfg.Logger.Info("elected controller")
		m.active.Set(1)
		c := &controller{cfg: cfg, l: l, m: m, view: newView(), epochFloor: map[metastore.PartitionID]int32{}}
		err = c.lead(ctx)
		m.active.Set(0)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		_ = l.Resign(rctx)
		cancel()
		if ctx.Err() != nil {
			break
		}
		cfg.Logger.Warn("controller leadership lost; campaigning again", "err", err)
	}
	cfg.Logger.Info("controller stopped")
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// watchRetry runs a metastore watch until ctx is done, restarting it after
// errors.
func watchRetry(ctx context.Context, log *slog.Logger, what string, watch func(context.Context) error) {
	for ctx.Err() == nil {
		if err := watch(ctx); err != nil && ctx.Err() == nil {
			log.Warn("controller watch failed; restarting", "what", what, "err", err)
			sleep(ctx, time.Second)
		}
	}
}

func errorsIsFenced(err error) bool { return errors.Is(err, metastore.ErrFenced) }

func wrap(what string, err error) error { return fmt.Errorf("controller: %s: %w", what, err) }
