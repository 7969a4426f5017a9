package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ClusterBucket is the MinIO bucket a cluster's brokers share.
const ClusterBucket = "strata-cluster"

// ClusterOptions configure StartCluster.
type ClusterOptions struct {
	// Brokers is the number of strata processes (default 3). Broker i (from
	// 0) runs with --node-id i+1.
	Brokers int
	// Racks are assigned round-robin: broker i gets Racks[i%len(Racks)].
	// Empty: no --rack.
	Racks []string
	// MinIO starts a MinIO server and points every broker at one bucket on
	// it (s3:// with a custom endpoint). Without it the brokers share a
	// file:// object store directory.
	MinIO bool
	// EtcdMembers is the size of the etcd cluster (default 3).
	EtcdMembers int
	// Prefix is the etcd key prefix and the object prefix in the bucket
	// (default "strata").
	Prefix string
	// Args are extra `strata serve` flags for every broker.
	Args []string
	// Env is added to every broker's environment.
	Env []string
}

// Cluster is an etcd cluster, an optional MinIO and N strata brokers, all
// real processes on loopback.
type Cluster struct {
	Dir      string
	Etcd     *EtcdCluster
	Minio    *Minio // nil unless ClusterOptions.MinIO
	Brokers  []*Broker
	MetaSpec string // the brokers' --metastore
	ObjStore string // the brokers' --objstore
}

// Addrs are the brokers' Kafka addresses, in broker order.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Brokers))
	for i, b := range c.Brokers {
		out[i] = b.Addr
	}
	return out
}

// NodeID is broker i's --node-id.
func (c *Cluster) NodeID(i int) int32 { return int32(i + 1) }

// StartClusterContext starts a cluster with everything under dir. On error
// whatever was started is stopped again.
func StartClusterContext(ctx context.Context, dir string, opts ClusterOptions) (*Cluster, error) {
	if opts.Brokers == 0 {
		opts.Brokers = 3
	}
	if opts.EtcdMembers == 0 {
		opts.EtcdMembers = 3
	}
	if opts.Prefix == "" {
		opts.Prefix = "strata"
	}
	if Target() == TargetKfake {
		return nil, errors.New("harness: a cluster needs strata, not STRATA_TEST_TARGET=kfake")
	}
	c := &Cluster{Dir: dir}
	ok := false
	defer func() {
		if !ok {
			_ = c.Close()
		}
	}()
	etcd, err := StartEtcdCluster(ctx, filepath.Join(dir, "etcd"), opts.EtcdMembers)
	if err != nil {
		return nil, err
	}
	c.Etcd = etcd
	c.MetaSpec = etcd.Spec(opts.Prefix)

	env := append([]string(nil), opts.Env...)
	if opts.MinIO {
		m, err := StartMinio(ctx, filepath.Join(dir, "minio"))
		if err != nil {
			return nil, err
		}
		c.Minio = m
		if err := m.CreateBucket(ctx, ClusterBucket); err != nil {
			return nil, err
		}
		c.ObjStore = fmt.Sprintf("s3://%s/%s?endpoint=%s&region=us-east-1", ClusterBucket, opts.Prefix, m.URL())
		env = append(env, "AWS_ACCESS_KEY_ID="+m.AccessKey, "AWS_SECRET_ACCESS_KEY="+m.SecretKey, "AWS_REGION=us-east-1")
	} else {
		objects := filepath.Join(dir, "objects")
		if err := os.MkdirAll(objects, 0o755); err != nil {
			return nil, fmt.Errorf("harness: shared object dir: %w", err)
		}
		c.ObjStore = "file://" + objects
	}

	c.Brokers = make([]*Broker, opts.Brokers)
	start := func(i int) error {
		args := []string{"--node-id", strconv.Itoa(i + 1), "--metastore", c.MetaSpec, "--objstore", c.ObjStore}
		if len(opts.Racks) > 0 {
			args = append(args, "--rack", opts.Racks[i%len(opts.Racks)])
		}
		args = append(args, opts.Args...)
		data := filepath.Join(dir, "broker-"+strconv.Itoa(i+1))
		if err := os.MkdirAll(data, 0o755); err != nil {
			return fmt.Errorf("harness: broker data dir: %w", err)
		}
		b, err := Start(ctx, Options{DataDir: data, Args: args, Env: env})
		if err != nil {
			return fmt.Errorf("harness: broker %d: %w", i+1, err)
		}
		c.Brokers[i] = b
		return nil
	}
	// The first broker bootstraps the cluster's metadata alone; the rest
	// start together.
	if err := start(0); err != nil {
		return nil, err
	}
	errs := make([]error, opts.Brokers)
	var wg sync.WaitGroup
	for i := 1; i < opts.Brokers; i++ {
		wg.Go(func() { errs[i] = start(i) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := c.WaitBrokers(ctx); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// Close stops the brokers (resuming paused ones first), then MinIO, then
// etcd. It returns the brokers' unclean exits and any stop errors.
func (c *Cluster) Close() error {
	errs := make([]error, len(c.Brokers))
	var wg sync.WaitGroup
	for i, b := range c.Brokers {
		if b == nil {
			continue
		}
		wg.Go(func() {
			_ = b.Resume()
			if err := b.Stop(); err != nil && !errors.Is(err, ErrNotRunning) {
				errs[i] = fmt.Errorf("broker %d: %w", i+1, err)
			}
		})
	}
	wg.Wait()
	if c.Minio != nil {
		errs = append(errs, c.Minio.Stop())
	}
	if c.Etcd != nil {
		errs = append(errs, c.Etcd.Close())
	}
	return errors.Join(errs...)
}

// LogTails is every process's log tail, for failure reports.
func (c *Cluster) LogTails(n int) string {
	var s string
	for i, b := range c.Brokers {
		if b != nil {
			s += fmt.Sprintf("--- broker %d (%s) ---\n%s\n", i+1, b.Addr, b.LogTail(n))
		}
	}
	if c.Minio != nil {
		s += fmt.Sprintf("--- minio (%s) ---\n%s\n", c.Minio.Endpoint, c.Minio.LogTail(n))
	}
	if c.Etcd != nil {
		for i := range c.Etcd.Members() {
			s += fmt.Sprintf("--- etcd member %d ---\n%s\n", i, c.Etcd.LogTail(i, n))
		}
	}
	return s
}

// StartCluster starts a cluster for t under t.TempDir and stops it at
// cleanup; an unclean broker exit fails t, and a failed t gets every
// process's log tail. Without etcd (or MinIO, when asked for) it fails when
// CI is set and skips otherwise.
func StartCluster(t testing.TB, opts ClusterOptions) *Cluster {
	t.Helper()
	RequireEtcd(t)
	if opts.MinIO {
		if _, err := MinioBinary(); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("CI is set and MinIO is missing: %v", err)
			}
			t.Skipf("skipping: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*ReadyTimeout)
	defer cancel()
	c, err := StartClusterContext(ctx, t.TempDir(), opts)
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
		if t.Failed() {
			reportLogs(t, c)
		}
	})
	return c
}

// reportLogs writes every process's log tail to a file that outlives the
// test (CI output keeps only its end) and logs the path with the last lines
// of each broker, so the test's own failure message stays near the end.
func reportLogs(t testing.TB, c *Cluster) {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "strata-test-logs")
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.log", name, time.Now().Format("150405.000")))
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = os.WriteFile(path, []byte(c.LogTails(400)), 0o644)
	}
	if err != nil {
		path = fmt.Sprintf("(not written: %v)", err)
	}
	var s string
	for i, b := range c.Brokers {
		if b != nil {
			s += fmt.Sprintf("--- broker %d (%s) ---\n%s\n", i+1, b.Addr, b.LogTail(8))
		}
	}
	t.Logf("cluster log tails (400 lines of every process in %s):\n%s", path, s)
}
