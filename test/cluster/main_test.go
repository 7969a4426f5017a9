package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/test/harness"
)

// racks are the three racks every test's brokers run in.
var racks = []string{"a", "b", "c"}

// startCluster starts 3 brokers in racks a, b, c on a 3-member etcd
// cluster. On failure the harness logs every process's log tail.
func startCluster(t *testing.T, minio bool, args ...string) *harness.Cluster {
	t.Helper()
	return harness.StartCluster(t, harness.ClusterOptions{
		Brokers: 3, Racks: racks, MinIO: minio,
		Args: append([]string{"--log-level", "info"}, args...),
	})
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// configs turns "k=v" pairs into CreateTopics configs.
func configs(kv ...string) map[string]*string {
	out := map[string]*string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		out[k] = &v
	}
	return out
}

// createTopic creates a fully replicated topic or fails the test with
// what the cluster showed.
func createTopic(t *testing.T, ctx context.Context, c *harness.Cluster, topic string, parts int32, rf int16, cfg map[string]*string) harness.TopicState {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	st, err := c.CreateTopic(cctx, topic, parts, rf, cfg)
	if err != nil {
		t.Fatalf("create topic %s (%d partitions, RF %d) and wait for every partition led with a full ISR: %v\nlast metadata:%s",
			topic, parts, rf, err, st)
	}
	t.Logf("topic %s:%s", topic, st)
	return st
}

// ledBy lists the partitions led by node.
func ledBy(st harness.TopicState, node int32) []int32 {
	var out []int32
	for p, s := range st {
		if s.Leader == node {
			out = append(out, p)
		}
	}
	return out
}
