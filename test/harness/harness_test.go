package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestKfakeArgs(t *testing.T) {
	got := KfakeArgs([]string{"--num-partitions", "3", "--group-initial-rebalance-delay", "0s", "--auto-create-topics-enable=true", "--log-level=debug"})
	want := []string{"-partitions", "3", "-auto-create"}
	if !slices.Equal(got, want) {
		t.Fatalf("KfakeArgs = %q, want %q", got, want)
	}
	if got := KfakeArgs([]string{"--num-partitions=7", "--auto-create-topics-enable=false"}); !slices.Equal(got, []string{"-partitions", "7"}) {
		t.Fatalf("KfakeArgs = %q", got)
	}
}

func TestFreePort(t *testing.T) {
	p, err := FreePort()
	if err != nil || p <= 0 || p > 65535 {
		t.Fatalf("FreePort = %d, %v", p, err)
	}
}

func TestStartProcessExitsEarly(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	_, err := StartProcess(ctx, "/bin/sh", []string{"-c", "echo boom-marker; exit 3"}, "127.0.0.1:1", Options{DataDir: t.TempDir()})
	if err == nil {
		t.Fatal("StartProcess of an exiting process succeeded")
	}
	if !strings.Contains(err.Error(), "boom-marker") || !strings.Contains(err.Error(), "exited during startup") {
		t.Fatalf("error lacks log tail or cause: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("took %s to notice the exit", time.Since(start))
	}
}

// TestKfakeLifecycle exercises start, produce, stop, restart (data kept), kill.
func TestKfakeLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := &syncBuf{}
	b, err := StartKfake(ctx, Options{DataDir: t.TempDir(), Args: []string{"--num-partitions", "2"}, Stdout: out})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Kill()
	pid1 := b.Pid()
	if pid1 == 0 || !b.Running() {
		t.Fatalf("pid %d running %v", pid1, b.Running())
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic("t"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, -1, 1, nil, "t"); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v1")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()

	if err := b.Stop(); err != nil {
		t.Fatalf("Stop: %v\n%s", err, b.LogTail(20))
	}
	if b.Running() {
		t.Fatal("running after Stop")
	}
	if err := b.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := b.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Pid() == pid1 {
		t.Fatal("same pid after restart")
	}

	cl2, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	ends, err := kadm.NewClient(cl2).ListEndOffsets(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != 1 || len(ends["t"]) != 2 {
		t.Fatalf("after restart: %d records in %d partitions, want 1 in 2", total, len(ends["t"]))
	}

	if err := b.Kill(); err != nil {
		t.Fatal(err)
	}
	if b.Running() {
		t.Fatal("running after Kill")
	}
	tail := b.LogTail(100)
	if strings.Count(tail, "=== harness:") < 4 || !strings.Contains(tail, "signal: killed") {
		t.Fatalf("log tail lacks start/exit markers:\n%s", tail)
	}
	if !strings.Contains(out.String(), "kfakeserver listening") {
		t.Fatalf("Stdout tee missing broker output: %q", out.String())
	}
	if got := b.LogTail(1); strings.Contains(got, "\n") {
		t.Fatalf("LogTail(1) returned several lines: %q", got)
	}
}

// TestStartT runs the configured target (strata by default) through StartT.
func TestStartT(t *testing.T) {
	b := StartT(t, Options{Args: []string{"--group-initial-rebalance-delay", "0s"}})
	if err := Ping(context.Background(), b.Addr); err != nil {
		t.Fatal(err)
	}
}

func TestFreePortBelowEphemeralRange(t *testing.T) {
	lo := ephemeralLow()
	seen := map[int]bool{}
	for range 50 {
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if p < freePortLow || p >= lo {
			t.Fatalf("port %d outside [%d, %d): an outgoing connection could take it", p, freePortLow, lo)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
}

func TestRemoveStaleBinDirs(t *testing.T) {
	// A dir of a pid that cannot exist (above pid_max) is removed; ours is kept.
	dead := filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-x", binDirPrefix, 1<<30))
	mine := filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-x", binDirPrefix, os.Getpid()))
	for _, d := range []string{dead, mine} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	defer os.RemoveAll(mine)
	removeStaleBinDirs()
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the dead process's dir is still there (%v)", err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("this process's dir was removed: %v", err)
	}
}
