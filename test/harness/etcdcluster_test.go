package harness

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// etcdKV puts (value != "") or reads a key through etcd's v3 JSON gateway on
// endpoint, so the test needs no etcd client library.
func etcdKV(ctx context.Context, endpoint, key, value string) (string, error) {
	path, body := "/v3/kv/range", map[string]string{"key": base64.StdEncoding.EncodeToString([]byte(key))}
	if value != "" {
		path = "/v3/kv/put"
		body["value"] = base64.StdEncoding.EncodeToString([]byte(value))
	}
	b, _ := json.Marshal(body)
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, "http://"+endpoint+path, bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: %s", path, endpoint, resp.Status)
	}
	var out struct {
		Kvs []struct{ Value string } `json:"kvs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	if value != "" {
		return value, nil
	}
	if len(out.Kvs) == 0 {
		return "", fmt.Errorf("%s: key %q not found", endpoint, key)
	}
	v, err := base64.StdEncoding.DecodeString(out.Kvs[0].Value)
	return string(v), err
}

func TestEtcdClusterFaults(t *testing.T) {
	c := StartEtcdClusterT(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	eps := c.Endpoints()
	if len(eps) != 3 || c.Members() != 3 {
		t.Fatalf("endpoints %v", eps)
	}
	if want := "etcd://" + strings.Join(eps, ",") + "/pfx"; c.Spec("/pfx/") != want {
		t.Fatalf("Spec = %q, want %q", c.Spec("/pfx/"), want)
	}
	// A write through one member is readable from every other: one cluster.
	if _, err := etcdKV(ctx, eps[0], "k", "v0"); err != nil {
		t.Fatal(err)
	}
	for _, ep := range eps {
		if v, err := etcdKV(ctx, ep, "k", ""); err != nil || v != "v0" {
			t.Fatalf("read from %s = %q, %v", ep, v, err)
		}
	}

	// One member killed: the other two keep a quorum and take writes.
	if err := c.Kill(0); err != nil {
		t.Fatal(err)
	}
	if c.Running(0) {
		t.Fatal("member 0 still running after Kill")
	}
	// A killed leader takes an election (about a second) before writes
	// go through again.
	waitFor(t, 15*time.Second, func() error { _, err := etcdKV(ctx, eps[1], "k", "v1"); return err })
	if err := c.Restart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	// The restarted member catches up with what it missed.
	waitFor(t, 20*time.Second, func() error {
		v, err := etcdKV(ctx, eps[0], "k", "")
		if err == nil && v != "v1" {
			err = fmt.Errorf("restarted member reads %q", v)
		}
		return err
	})

	// A paused member answers nothing; the others go on.
	if err := c.Pause(1); err != nil {
		t.Fatal(err)
	}
	if err := c.Healthy(ctx, 1); err == nil {
		t.Fatal("paused member reports healthy")
	}
	waitFor(t, 15*time.Second, func() error { _, err := etcdKV(ctx, eps[2], "k", "v2"); return err })
	if err := c.Resume(1); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHealthy(ctx, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() error {
		v, err := etcdKV(ctx, eps[1], "k", "")
		if err == nil && v != "v2" {
			err = fmt.Errorf("resumed member reads %q", v)
		}
		return err
	})

	// Stop of a paused member still ends it (SIGCONT after SIGTERM).
	if err := c.Pause(2); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(2); err != nil {
		t.Fatal(err)
	}
	if c.Running(2) {
		t.Fatal("paused member survived Stop")
	}
	if err := c.Pause(2); err == nil {
		t.Fatal("Pause of a stopped member succeeded")
	}
	if err := c.Kill(7); err == nil {
		t.Fatal("Kill of member 7 of 3 succeeded")
	}
}

// TestEtcdMissingBinary checks the lookup and, in a child test process,
// that StartEtcdClusterT fails under CI and skips otherwise.
func TestEtcdMissingBinary(t *testing.T) {
	if os.Getenv("HARNESS_ETCD_CHILD") != "" {
		StartEtcdClusterT(t, 3)
		t.Fatal("StartEtcdClusterT returned without a binary")
	}
	t.Setenv("ETCD_BIN", "/nonexistent/etcd")
	if _, err := StartEtcdCluster(context.Background(), t.TempDir(), 3); err == nil || !strings.Contains(err.Error(), "etcd binary not found") {
		t.Fatalf("StartEtcdCluster without binary: %v", err)
	}
	for _, tc := range []struct {
		ci       string
		wantFail bool
		wantText string
	}{
		{"1", true, "CI is set and etcd is missing"},
		{"", false, "--- SKIP: TestEtcdMissingBinary"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEtcdMissingBinary$", "-test.v")
		cmd.Env = append(os.Environ(), "HARNESS_ETCD_CHILD=1", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail {
			t.Errorf("CI=%q: child failed=%v, want %v\n%s", tc.ci, failed, tc.wantFail, out)
		}
		if !strings.Contains(string(out), tc.wantText) || !strings.Contains(string(out), "etcd-server") {
			t.Errorf("CI=%q: output lacks %q and the install hint:\n%s", tc.ci, tc.wantText, out)
		}
	}
}

func waitFor(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
