package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-io/strata/test/harness"
)

// needDocker returns once `docker info` answers, starting dockerd (as root)
// when it is installed but not running. Without Docker the test fails when
// CI is set and skips otherwise.
func needDocker(t *testing.T) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if _, err := exec.LookPath("docker"); err != nil {
		missing("docker CLI missing (apt-get install docker.io): %v", err)
	}
	if exec.Command("docker", "info").Run() == nil {
		return
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		missing("no Docker engine running and dockerd missing (apt-get install docker.io): %v", err)
	}
	logf, err := os.Create(filepath.Join(t.TempDir(), "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dockerd)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		missing("start dockerd: %v", err)
	}
	// dockerd keeps running for later tests and the rest of the session.
	deadline := time.Now().Add(60 * time.Second)
	for exec.Command("docker", "info").Run() != nil {
		if time.Now().After(deadline) {
			raw, _ := os.ReadFile(logf.Name())
			t.Fatalf("dockerd did not come up in 60s:\n%s", raw)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestImageServesKafka(t *testing.T) {
	needDocker(t)
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("strata:test-%d", time.Now().UnixNano())
	run(t, root, "make", "image", "IMAGE="+tag)
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })

	// What the image is: non-root, strata serve as the entrypoint.
	inspect := run(t, root, "docker", "image", "inspect", "-f", "{{.Config.User}}|{{json .Config.Entrypoint}}", tag)
	if inspect != `65532:65532|["/usr/local/bin/strata","serve"]` {
		t.Fatalf("image config %q", inspect)
	}

	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	id := run(t, root, "docker", "run", "-d", "-p", fmt.Sprintf("%s:9092", addr),
		"-e", "STRATA_ADVERTISE_KAFKA_ADDR="+addr, tag)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("docker", "logs", "--tail", "50", id).CombinedOutput()
			t.Logf("container logs:\n%s", out)
		}
		exec.Command("docker", "rm", "-f", id).Run()
	})

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for harness.Ping(ctx, addr) != nil {
		if ctx.Err() != nil {
			t.Fatal("broker in the container never answered ApiVersions")
		}
		time.Sleep(500 * time.Millisecond)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("in-docker"), kgo.AllowAutoTopicCreation(),
		kgo.ConsumeTopics("in-docker"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("hello from a container")}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	fs := cl.PollFetches(ctx)
	if errs := fs.Errors(); len(errs) > 0 {
		t.Fatalf("fetch: %v", errs)
	}
	recs := fs.Records()
	if len(recs) != 1 || string(recs[0].Value) != "hello from a container" {
		t.Fatalf("consumed %d records: %v", len(recs), recs)
	}
	// The process runs as the image's non-root user.
	if user := run(t, root, "docker", "exec", id, "/usr/local/bin/strata", "version"); !strings.Contains(user, "strata") {
		t.Fatalf("strata version in the container: %q", user)
	}
}
