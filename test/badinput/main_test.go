package badinput

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-io/strata/test/harness"
)

// socketMax is the --socket-request-max-bytes of the shared broker: small,
// so an oversized frame is cheap to send, yet above max.message.bytes so
// normal produce requests fit.
const socketMax = 1 << 20

// Topics made by the shared fixture.
const (
	healthTopic = "health" // one partition; every health check writes here
	dataTopic   = "data"   // two partitions of seeded records that must never change
	dataPerPart = 20
)

// env is the broker shared by every test in the package (except the fuzz
// target, which has its own) and what was written to it at start.
type env struct {
	b *harness.Broker
	// cl stays open across all cases: a bad request on another connection
	// must not disturb it.
	cl *kgo.Client
	// data is every record of dataTopic, by partition, as written.
	data map[int32][]rec
}

var (
	sharedOnce sync.Once
	sharedEnv  *env
	sharedErr  error
	cleanups   []func()
	cleanupsMu sync.Mutex
)

func addCleanup(f func()) {
	cleanupsMu.Lock()
	defer cleanupsMu.Unlock()
	cleanups = append(cleanups, f)
}

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupsMu.Lock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanupsMu.Unlock()
	os.Exit(code)
}

// shared returns the package's broker, starting and seeding it on first use.
func shared(t testing.TB) *env {
	t.Helper()
	sharedOnce.Do(func() { sharedEnv, sharedErr = startShared() })
	if sharedErr != nil {
		t.Fatalf("shared broker: %v", sharedErr)
	}
	if !sharedEnv.b.Running() {
		t.Fatalf("shared broker is not running any more; log tail:\n%s", sharedEnv.b.LogTail(60))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("broker log tail:\n%s", sharedEnv.b.LogTail(40))
		}
	})
	return sharedEnv
}

func startShared() (*env, error) {
	dir, err := os.MkdirTemp("", "badinput-*")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b, err := harness.Start(ctx, harness.Options{DataDir: dir, Args: []string{
		"--num-partitions", "1",
		"--auto-create-topics-enable=false",
		"--group-initial-rebalance-delay", "0s",
		"--socket-request-max-bytes", fmt.Sprint(socketMax),
	}})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	addCleanup(func() {
		if err := b.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "badinput: stopping shared broker: %v\n%s\n", err, b.LogTail(40))
		}
		os.RemoveAll(dir)
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return nil, err
	}
	addCleanup(cl.Close)
	e := &env{b: b, cl: cl, data: map[int32][]rec{}}
	adm := kadm.NewClient(cl)
	if err := createTopicErr(ctx, adm, healthTopic, 1, nil); err != nil {
		return nil, err
	}
	if err := createTopicErr(ctx, adm, dataTopic, 2, nil); err != nil {
		return nil, err
	}
	for p := int32(0); p < 2; p++ {
		var rs []*kgo.Record
		for i := 0; i < dataPerPart; i++ {
			rs = append(rs, &kgo.Record{Topic: dataTopic, Partition: p,
				Key: []byte(fmt.Sprintf("k%d-%d", p, i)), Value: []byte(fmt.Sprintf("seed value %d/%d", p, i))})
		}
		if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			return nil, fmt.Errorf("seed %s/%d: %w", dataTopic, p, err)
		}
		for _, r := range rs {
			e.data[p] = append(e.data[p], rec{Offset: r.Offset, Key: string(r.Key), Value: string(r.Value)})
		}
	}
	return e, nil
}

func createTopicErr(ctx context.Context, adm *kadm.Client, name string, partitions int32, configs map[string]*string) error {
	resp, err := adm.CreateTopic(ctx, partitions, 1, configs, name)
	if err != nil {
		return fmt.Errorf("create topic %s: %w", name, err)
	}
	if resp.Err != nil {
		return fmt.Errorf("create topic %s: %w (%s)", name, resp.Err, resp.ErrMessage)
	}
	return nil
}

// createTopic creates a topic on the shared broker or fails the test.
func (e *env) createTopic(t testing.TB, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := createTopicErr(ctx, kadm.NewClient(e.cl), name, partitions, configs); err != nil {
		t.Fatal(err)
	}
}

// afterCase is what every bad-input case ends with: the broker process is
// alive, the long-lived client still works on its existing connection, a
// fresh client can produce and consume, and the seeded data is unchanged.
func (e *env) afterCase(t testing.TB) {
	t.Helper()
	if !e.b.Running() {
		t.Fatalf("broker process died; log tail:\n%s", e.b.LogTail(60))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := &kgo.Record{Topic: healthTopic, Partition: 0, Value: []byte("long-lived " + time.Now().String())}
	if err := e.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		t.Fatalf("long-lived client produce failed after the bad input: %v", err)
	}
	assertHealthy(t, e.b.Addr)
	e.assertDataUnchanged(t)
}

// assertDataUnchanged reads every seeded record back and compares.
func (e *env) assertDataUnchanged(t testing.TB) {
	t.Helper()
	for p, want := range e.data {
		got := readPartition(t, e.b.Addr, dataTopic, p)
		assertRecs(t, fmt.Sprintf("%s/%d", dataTopic, p), got, want)
	}
}
