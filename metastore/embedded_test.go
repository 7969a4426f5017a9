package metastore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openEmbedded(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(testCtx(t), "embedded", dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestEmbeddedSuite(t *testing.T) {
	runSuite(t, func(t *testing.T) *Store { return openEmbedded(t, t.TempDir()) })
}

func TestEmbeddedStartsQuicklyInMetaDir(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	s := openEmbedded(t, dir)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("embedded etcd took %s to start", took)
	}
	if s.Prefix() != DefaultPrefix {
		t.Fatalf("prefix %q", s.Prefix())
	}
	if _, err := os.Stat(filepath.Join(dir, "meta", "member")); err != nil {
		t.Fatalf("embedded data not under dataDir/meta: %v", err)
	}
}

func TestEmbeddedSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := testCtx(t)
	s, err := Open(ctx, "embedded", dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.ClusterID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := s.CreateTopic(ctx, Topic{Name: "durable", Partitions: 2, ReplicationFactor: 1, Configs: map[string]string{"segment.bytes": "1024"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CommitOffsets(ctx, "grp", map[OffsetKey]Offset{{Topic: "durable", Partition: 1}: {Offset: 42}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveGroup(ctx, "grp", []byte("blob")); err != nil {
		t.Fatal(err)
	}
	pid, err := s.AllocateProducerIDs(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterBroker(ctx, BrokerInfo{NodeID: 1, Host: "h", Port: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s2 := openEmbedded(t, dir)
	if id2, err := s2.ClusterID(ctx); err != nil || id2 != id {
		t.Fatalf("cluster id after reopen = %q, %v; want %q", id2, err, id)
	}
	got, err := s2.GetTopic(ctx, "durable")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != tp.ID || got.Partitions != 2 || got.Configs["segment.bytes"] != "1024" {
		t.Fatalf("topic after reopen = %+v", got)
	}
	offs, err := s2.FetchOffsets(ctx, "grp")
	if err != nil || offs[OffsetKey{"grp", "durable", 1}].Offset != 42 {
		t.Fatalf("offsets after reopen = %v, %v", offs, err)
	}
	gs, err := s2.LoadGroups(ctx)
	if err != nil || string(gs["grp"]) != "blob" {
		t.Fatalf("groups after reopen = %q, %v", gs, err)
	}
	pid2, err := s2.AllocateProducerIDs(ctx, 100)
	if err != nil || pid2 != pid+100 {
		t.Fatalf("producer ids after reopen = %d, %v; want %d", pid2, err, pid+100)
	}
	// Close revoked the registration lease: the broker is gone.
	if bs, err := s2.ListBrokers(ctx); err != nil || len(bs) != 0 {
		t.Fatalf("brokers after clean close = %+v, %v", bs, err)
	}
}

func TestEmbeddedTwoAtOnce(t *testing.T) {
	ctx := testCtx(t)
	a := openEmbedded(t, t.TempDir())
	b := openEmbedded(t, t.TempDir())
	if _, err := a.CreateTopic(ctx, Topic{Name: "only-in-a", Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetTopic(ctx, "only-in-a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stores share data: %v", err)
	}
	ida, _ := a.ClusterID(ctx)
	idb, _ := b.ClusterID(ctx)
	if ida == idb || ida == "" {
		t.Fatalf("two clusters share id %q", ida)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "embedded", "", quietLogger()); err == nil {
		t.Fatal("embedded without data dir accepted")
	}
	if _, err := Open(ctx, "bogus://x", t.TempDir(), quietLogger()); err == nil {
		t.Fatal("bad spec accepted")
	}
	// Nothing listens there: Open must fail, not hang past its own timeout.
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if s, err := Open(cctx, "etcd://127.0.0.1:1/x", "", quietLogger()); err == nil {
		s.Close()
		t.Fatal("unreachable etcd accepted")
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestEmbeddedLogsGoToSlogAndCloseIsQuiet(t *testing.T) {
	var out syncBuffer
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := Open(testCtx(t), "embedded", t.TempDir(), logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	logs := out.String()
	if !strings.Contains(logs, "embedded etcd ready") {
		t.Fatalf("no startup log line:\n%s", logs)
	}
	if !strings.Contains(logs, "etcd=server") {
		t.Fatalf("etcd server logs are not routed through slog:\n%s", logs)
	}
	if !strings.Contains(logs, `level=DEBUG msg="simple token is not cryptographically signed"`) {
		t.Fatalf("known-harmless etcd warning not demoted to debug:\n%s", logs)
	}
	if strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "level=WARN") {
		t.Fatalf("a clean start and stop logged warnings or errors:\n%s", logs)
	}
}
