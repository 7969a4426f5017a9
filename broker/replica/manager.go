package replica

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Partition is a follower replica's local log, as the broker exposes it.
type Partition interface {
	Topic() string
	TopicID() [16]byte
	Partition() int32
	LogStartOffset() int64
	LogEndOffset() int64
	LatestEpoch() int32                           // latest leader epoch in the local log, -1 if none
	EndOffsetForEpoch(epoch int32) (int32, int64) // partlog semantics
	AppendReplica(batches []byte) (int64, error)
	TruncateTo(offset int64) error
	ResetTo(logStart, nextOffset int64) error           // empty the log and restart at nextOffset
	SetLeaderState(highWatermark, logStartOffset int64) // from each fetch response
}

// Config configures a Manager. Zero fields take the defaults noted.
type Config struct {
	NodeID            int32         // this broker; sent as the fetch ReplicaID
	MaxBytes          int32         // per Fetch response, default 8 MiB
	PartitionMaxBytes int32         // per partition, default 1 MiB
	MaxWait           time.Duration // fetch long-poll, default 500 ms
	// Dial opens a connection to a leader; default a net.Dialer with a 5 s timeout.
	Dial       func(ctx context.Context, addr string) (net.Conn, error)
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are kept but not registered
}

func (c Config) withDefaults() Config {
	if c.MaxBytes <= 0 {
		c.MaxBytes = 8 << 20
	}
	if c.PartitionMaxBytes <= 0 {
		c.PartitionMaxBytes = 1 << 20
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 500 * time.Millisecond
	}
	if c.Dial == nil {
		d := &net.Dialer{Timeout: 5 * time.Second}
		c.Dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// key identifies a partition across assignments.
type key struct {
	topic string
	id    [16]byte
	part  int32
}

func keyOf(p Partition) key { return key{topic: p.Topic(), id: p.TopicID(), part: p.Partition()} }

// assignment is one Follow of a partition. mu is held by the fetcher while
// it changes the partition's log and by retire, so once retire returns the
// fetcher never touches p again for this assignment.
type assignment struct {
	p        Partition
	key      key
	leaderID int32
	epoch    int32

	mu      sync.Mutex
	removed bool

	// Owned by the fetcher goroutine.
	truncate bool      // truncate by leader epoch before the next fetch
	until    time.Time // backed off until

	lag atomic.Int64 // leader high watermark - local log end at the last fetch
}

func (a *assignment) retire() {
	a.mu.Lock()
	a.removed = true
	a.mu.Unlock()
}

// Manager runs the fetchers of one broker's follower replicas.
type Manager struct {
	cfg     Config
	logger  *slog.Logger
	metrics *metrics

	followMu sync.Mutex // serializes Follow, Unfollow and Close

	mu       sync.Mutex
	closed   bool
	assigned map[key]*assignment
	fetchers map[int32]*fetcher // by leader node id
	wg       sync.WaitGroup
}

// NewManager returns a Manager that follows nothing yet.
func NewManager(cfg Config) *Manager {
	cfg = cfg.withDefaults()
	m := &Manager{
		cfg:      cfg,
		logger:   cfg.Logger.With("component", "replica"),
		assigned: make(map[key]*assignment),
		fetchers: make(map[int32]*fetcher),
	}
	m.metrics = newMetrics(cfg.Registerer, m.maxLag, m.logger)
	return m
}

func (m *Manager) maxLag() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var lag int64
	for _, a := range m.assigned {
		lag = max(lag, a.lag.Load())
	}
	return float64(lag)
}

// Follow makes p follow leaderID at addr with the given leader epoch
// (replacing any earlier assignment of p). The log is truncated by leader
// epoch before the first fetch.
func (m *Manager) Follow(p Partition, leaderID int32, addr string, leaderEpoch int32) {
	m.followMu.Lock()
	defer m.followMu.Unlock()
	k := keyOf(p)
	m.detach(k)
	a := &assignment{p: p, key: k, leaderID: leaderID, epoch: leaderEpoch, truncate: true}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.assigned[k] = a
	f := m.fetchers[leaderID]
	if f == nil {
		f = m.startFetcher(leaderID)
	}
	f.addr = addr
	f.parts[k] = a
	m.mu.Unlock()
	f.poke()
	m.logger.Debug("replica: follow", "topic", k.topic, "partition", k.part, "leader", leaderID, "addr", addr, "leader_epoch", leaderEpoch)
}

// Unfollow stops replicating p. It returns once no fetch for p is in
// flight: after it the manager never touches p again, so the caller can
// make it leader.
func (m *Manager) Unfollow(p Partition) {
	m.followMu.Lock()
	defer m.followMu.Unlock()
	m.detach(keyOf(p))
}

// detach removes k's assignment and waits for the fetcher to let go of it.
// Caller holds followMu.
func (m *Manager) detach(k key) {
	m.mu.Lock()
	a := m.assigned[k]
	if a == nil {
		m.mu.Unlock()
		return
	}
	delete(m.assigned, k)
	if f := m.fetchers[a.leaderID]; f != nil {
		delete(f.parts, k)
		if len(f.parts) == 0 {
			delete(m.fetchers, a.leaderID)
			f.cancel()
		}
	}
	m.mu.Unlock()
	a.retire()
}

// startFetcher starts the fetcher for leaderID. Caller holds mu.
func (m *Manager) startFetcher(leaderID int32) *fetcher {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fetcher{
		m:        m,
		leaderID: leaderID,
		parts:    make(map[key]*assignment),
		wake:     make(chan struct{}, 1),
		cancel:   cancel,
		logger:   m.logger.With("leader", leaderID),
	}
	m.fetchers[leaderID] = f
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f.run(ctx)
	}()
	return f
}

// Close stops every fetcher and waits for them to exit.
func (m *Manager) Close() {
	m.followMu.Lock()
	defer m.followMu.Unlock()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	as := m.assigned
	m.assigned = make(map[key]*assignment)
	for id, f := range m.fetchers {
		f.cancel()
		delete(m.fetchers, id)
	}
	m.mu.Unlock()
	for _, a := range as {
		a.retire()
	}
	m.wg.Wait()
}
