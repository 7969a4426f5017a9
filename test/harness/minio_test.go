package harness

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	mc "github.com/minio/minio-go/v7"
)

func TestMinioStartBucketRestart(t *testing.T) {
	m := StartMinioT(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.CreateBucket(ctx, "harness"); err != nil {
		t.Fatal(err)
	}
	cl, err := m.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutObject(ctx, "harness", "k", bytes.NewReader([]byte("v")), 1, mc.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	endpoint := m.Endpoint
	if err := m.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if m.Endpoint != endpoint || !m.Running() {
		t.Fatalf("after restart: endpoint %s (was %s), running %v", m.Endpoint, endpoint, m.Running())
	}
	obj, err := cl.GetObject(ctx, "harness", "k", mc.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(obj)
	if err != nil || string(data) != "v" {
		t.Fatalf("object after restart: %q, %v", data, err)
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	if m.Running() {
		t.Fatal("still running after Stop")
	}
	if c, err := net.DialTimeout("tcp", endpoint, time.Second); err == nil {
		c.Close()
		t.Fatal("port still accepting after Stop")
	}
}

func TestFreeDualStackPort(t *testing.T) {
	p, err := freeDualStackPort()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		t.Fatalf("port %d not free on 127.0.0.1: %v", p, err)
	}
	ln.Close()
}

// TestMinioMissing runs StartMinioT in a child test process with no MinIO
// binary: under CI it must fail, otherwise skip with a clear message.
func TestMinioMissing(t *testing.T) {
	if os.Getenv("HARNESS_MINIO_CHILD") != "" {
		StartMinioT(t)
		t.Fatal("StartMinioT returned without a binary")
	}
	for _, tc := range []struct {
		ci       string
		wantFail bool
		wantText string
	}{
		{"1", true, "CI is set and MinIO is missing"},
		{"", false, "--- SKIP: TestMinioMissing"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMinioMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "HARNESS_MINIO_CHILD=1", "MINIO_BIN=/nonexistent/minio", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail {
			t.Errorf("CI=%q: child failed=%v, want %v\n%s", tc.ci, failed, tc.wantFail, out)
		}
		if !strings.Contains(string(out), tc.wantText) || !strings.Contains(string(out), "tools/bin") {
			t.Errorf("CI=%q: output lacks %q and the install hint:\n%s", tc.ci, tc.wantText, out)
		}
	}
}
