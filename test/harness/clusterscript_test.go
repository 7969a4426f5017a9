package harness

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClusterScript runs scripts/cluster.sh (what `make cluster` runs) on
// free ports: the brokers answer and serve produce/consume, a second start
// is refused while it runs, cluster-stop.sh stops every process, the cluster
// starts again on its data, and --wipe removes it.
func TestClusterScript(t *testing.T) {
	RequireEtcd(t)
	if _, err := MinioBinary(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and MinIO is missing: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	strata, err := BuildStrata()
	if err != nil {
		t.Fatal(err)
	}
	minio, _ := MinioBinary()
	dir := filepath.Join(t.TempDir(), "cluster-data")
	ports := func(n int, dual bool) []string {
		var out []string
		for range n {
			var p int
			var err error
			if dual {
				p, err = freeDualStackPort()
			} else {
				p, err = FreePort()
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, strconv.Itoa(p))
		}
		return out
	}
	// Every round but the etcd peer ports (in etcd's member list) gets
	// fresh ports: a port left free while the cluster is down may be
	// taken by another test's socket meanwhile (this failed once in CI).
	peerPorts := strings.Join(ports(3, false), " ")
	var kafka []string
	var env []string
	newPorts := func() {
		var httpPorts, minioPorts []string
		kafka, httpPorts, minioPorts = ports(3, false), ports(3, false), ports(2, true)
		env = append(os.Environ(),
			"CLUSTER_DIR="+dir,
			"STRATA_BIN="+strata,
			"MINIO_BIN="+minio,
			"KAFKA_PORTS="+strings.Join(kafka, " "),
			"HTTP_PORTS="+strings.Join(httpPorts, " "),
			"ETCD_CLIENT_PORTS="+strings.Join(ports(3, false), " "),
			"ETCD_PEER_PORTS="+peerPorts,
			"MINIO_PORT="+minioPorts[0],
			"MINIO_CONSOLE_PORT="+minioPorts[1],
		)
	}
	newPorts()
	run := func(script string, args ...string) (string, error) {
		cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts", script)}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() {
		if out, err := run("cluster-stop.sh"); err != nil {
			t.Errorf("cluster-stop.sh at cleanup: %v\n%s", err, out)
		}
	})
	readPids := func() []int {
		data, err := os.ReadFile(filepath.Join(dir, "pids"))
		if err != nil {
			t.Fatal(err)
		}
		var pids []int
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			f := strings.Fields(line)
			pid, err := strconv.Atoi(f[len(f)-1])
			if err != nil {
				t.Fatalf("pid line %q", line)
			}
			pids = append(pids, pid)
		}
		return pids
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	for round := range 2 {
		if round > 0 {
			newPorts()
		}
		out, err := run("cluster.sh")
		if err != nil {
			t.Fatalf("round %d: cluster.sh: %v\n%s", round, err, out)
		}
		if !strings.Contains(out, "cluster: up under "+dir) {
			t.Fatalf("cluster.sh output:\n%s", out)
		}
		pids := readPids()
		if len(pids) != 7 { // 3 etcd, MinIO, 3 brokers
			t.Fatalf("round %d: %d pids recorded, want 7", round, len(pids))
		}
		var clusterID string
		for i, p := range kafka {
			addr := "127.0.0.1:" + p
			resp, err := describeCluster(ctx, addr)
			if err != nil {
				t.Fatalf("round %d: broker %d: %v", round, i+1, err)
			}
			if clusterID != "" && resp.ClusterID != clusterID {
				t.Fatalf("round %d: cluster ids %q and %q", round, clusterID, resp.ClusterID)
			}
			clusterID = resp.ClusterID
			// Every broker lists all three, each in its rack.
			racks := map[int32]string{}
			for _, br := range resp.Brokers {
				if br.Rack != nil {
					racks[br.NodeID] = *br.Rack
				}
			}
			if len(resp.Brokers) != 3 || racks[1] != "a" || racks[2] != "b" || racks[3] != "c" {
				t.Fatalf("round %d: broker %d describes %+v (racks %v)", round, i+1, resp.Brokers, racks)
			}
		}
		// Round 1 restarts on round 0's data: the topic and its records are there.
		produceConsume(ctx, t, "127.0.0.1:"+kafka[0], "script", round == 0, round*5, 5)

		if round == 0 {
			if out, err := run("cluster.sh"); err == nil || !strings.Contains(out, "already running") {
				t.Fatalf("second cluster.sh while running: %v\n%s", err, out)
			}
		}
		if out, err := run("cluster-stop.sh"); err != nil {
			t.Fatalf("cluster-stop.sh: %v\n%s", err, out)
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, 0); err == nil {
				t.Fatalf("pid %d alive after cluster-stop.sh", pid)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "pids")); !os.IsNotExist(err) {
			t.Fatalf("pid file left behind: %v", err)
		}
		for i := range 3 {
			log, _ := os.ReadFile(filepath.Join(dir, "broker"+strconv.Itoa(i+1), "broker.log"))
			if !strings.Contains(string(log), "cluster.sh:") {
				t.Fatalf("broker %d log lacks the start line:\n%s", i+1, log)
			}
		}
	}
	if out, err := run("cluster-stop.sh", "--wipe"); err != nil {
		t.Fatalf("cluster-stop.sh --wipe: %v\n%s", err, out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("--wipe left %s: %v", dir, err)
	}
}
