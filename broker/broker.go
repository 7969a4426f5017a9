package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/strata-io/strata/broker/group"
	"github.com/strata-io/strata/broker/replica"
	"github.com/strata-io/strata/metastore"
)

// Broker serves the Kafka protocol for one node.
type Broker struct {
	cfg       Config
	fetchBufs fetchBufPool // remote reads' response buffers
	log       *slog.Logger
	meta      *metastore.Store
	groups    *group.Coordinator
	clusterID string

	mu     sync.RWMutex
	topics map[string]*topic
	byID   map[[16]byte]*topic

	pids    pidAllocator
	metrics *metrics
	ready   readiness
	tier    *tiering

	view     clusterView
	applyMu  sync.Mutex // serialises applying metadata changes to local replicas
	session  *metastore.BrokerSession
	replicas *replica.Manager
	bg       context.Context // lives until the broker stops
	ctlCtx   context.Context
	ctlStop  context.CancelFunc
	ctlDone  chan struct{}
	sessStop context.CancelFunc // ends the etcd registration

	ln      net.Listener
	wg      sync.WaitGroup
	connsMu sync.Mutex
	conns   map[net.Conn]struct{}
	closing bool
}

// New opens every topic's partition logs and loads the group coordinator
// from the metastore. It does not listen yet; see Run.
func New(ctx context.Context, cfg Config, meta *metastore.Store) (*Broker, error) {
	cfg = cfg.withDefaults()
	b := &Broker{
		cfg:    cfg,
		log:    cfg.Logger,
		meta:   meta,
		topics: map[string]*topic{},
		byID:   map[[16]byte]*topic{},
		conns:  map[net.Conn]struct{}{},
		bg:     context.Background(),
	}
	b.view.brokers = map[int32]metastore.BrokerInfo{}
	b.view.states = map[metastore.PartitionID]metastore.PartitionState{}
	b.view.controller.Store(-1)
	b.pids.meta = meta
	b.metrics = newMetrics(cfg.Registerer)
	var err error
	if b.clusterID, err = meta.ClusterID(ctx); err != nil {
		return nil, fmt.Errorf("cluster id: %w", err)
	}
	if err := b.startTiering(ctx); err != nil {
		return nil, err
	}
	topics, err := meta.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	// Logs open once partition states (from the controller) name this
	// broker a replica; see startCluster.
	for _, t := range topics {
		b.addTopic(t)
	}
	b.groups, err = group.New(ctx, group.Config{
		MinSessionTimeout:     cfg.GroupMinSessionTimeout,
		MaxSessionTimeout:     cfg.GroupMaxSessionTimeout,
		InitialRebalanceDelay: cfg.GroupInitialRebalanceDelay,
		MaxMetadataBytes:      4096,
		TopicPartitionExists:  b.partitionExists,
		Logger:                b.log.With("component", "group"),
	}, groupStore{meta})
	if err != nil {
		b.stopTiering()
		b.closeLogs()
		return nil, fmt.Errorf("group coordinator: %w", err)
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(newPartitionCollector(b))
	}
	return b, nil
}

// Run listens and serves until ctx is cancelled, then closes connections
// and logs.
func (b *Broker) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", b.cfg.KafkaAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", b.cfg.KafkaAddr, err)
	}
	return b.Serve(ctx, ln)
}

// Serve serves on an existing listener until ctx is cancelled.
func (b *Broker) Serve(ctx context.Context, ln net.Listener) error {
	b.ln = ln
	// The broker keeps serving after ctx ends until its leaderships have
	// moved (controlled shutdown); inner ends after that.
	inner, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	b.bg = inner
	b.replicas = replica.NewManager(replica.Config{
		NodeID:     b.cfg.NodeID,
		Logger:     b.log.With("component", "replica"),
		Registerer: b.cfg.Registerer,
	})
	if err := b.startCluster(inner); err != nil {
		ln.Close()
		return err
	}
	b.log.Info("serving kafka", "addr", ln.Addr().String(), "advertised", b.cfg.AdvertiseAddr, "cluster_id", b.clusterID)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.retentionLoop(inner)
	}()
	outer := ctx
	go func() {
		select {
		case <-outer.Done():
			b.controlledShutdown()
			b.stopController()
		case <-inner.Done():
		}
		stop()
		ln.Close()
	}()
	ctx = inner
	b.ready.serving.Store(true)
	defer b.ready.serving.Store(false)
	var acceptErr error
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				acceptErr = err
			}
			break
		}
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		b.connsMu.Lock()
		if b.closing {
			b.connsMu.Unlock()
			nc.Close()
			continue
		}
		b.conns[nc] = struct{}{}
		b.wg.Add(1)
		b.connsMu.Unlock()
		b.metrics.accepted.Inc()
		b.metrics.connections.Inc()
		go func() {
			defer b.wg.Done()
			defer b.metrics.connections.Dec()
			b.serveConn(ctx, nc)
			b.connsMu.Lock()
			delete(b.conns, nc)
			b.connsMu.Unlock()
		}()
	}
	b.shutdown()
	return acceptErr
}

func (b *Broker) shutdown() {
	b.connsMu.Lock()
	b.closing = true
	for nc := range b.conns {
		nc.Close()
	}
	b.connsMu.Unlock()
	if b.replicas != nil {
		b.replicas.Close()
	}
	b.wg.Wait()
	b.groups.Close()
	b.untrackReplicatedPartitions()
	b.stopTiering()
	b.closeLogs()
	if b.sessStop != nil {
		b.sessStop() // revokes the lease: the controller fails over what is left
	}
	b.log.Info("broker stopped")
}

func (b *Broker) closeLogs() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range b.topics {
		for _, p := range t.parts {
			if p == nil {
				continue
			}
			if err := p.log.Close(); err != nil {
				b.log.Warn("closing partition log", "topic", t.name, "partition", p.id, "err", err)
			}
		}
	}
}

func (b *Broker) brokerInfo() metastore.BrokerInfo {
	host, port := splitHostPort(b.cfg.AdvertiseAddr)
	if b.ln != nil && port == 0 {
		_, port = splitHostPort(b.ln.Addr().String())
	}
	return metastore.BrokerInfo{NodeID: b.cfg.NodeID, Host: host, Port: port, Rack: b.cfg.Rack}
}

// Addr is the listener's address once serving.
func (b *Broker) Addr() net.Addr {
	if b.ln == nil {
		return nil
	}
	return b.ln.Addr()
}

func (b *Broker) retentionLoop(ctx context.Context) {
	t := time.NewTicker(b.cfg.RetentionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, p := range b.allPartitions() {
				if n, err := p.log.ApplyRetention(now); err != nil {
					b.log.Warn("retention", "topic", p.t.name, "partition", p.id, "err", err)
				} else if n > 0 {
					b.log.Info("retention deleted segments", "topic", p.t.name, "partition", p.id, "bytes", n)
				}
			}
		}
	}
}

func (b *Broker) partitionDir(id [16]byte, partition int32) string {
	return filepath.Join(b.cfg.DataDir, "logs", fmt.Sprintf("%x", id), fmt.Sprint(partition))
}
