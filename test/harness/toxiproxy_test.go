package harness

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestToxiproxyLatencyOnBroker puts a toxiproxy in front of a broker's Kafka
// port (the broker advertises the proxy, so every request goes through it),
// adds and removes a latency toxic and cuts the link, checking produce.
func TestToxiproxyLatencyOnBroker(t *testing.T) {
	x := StartToxiproxyT(t)
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	proxyAddr := "127.0.0.1:" + strconv.Itoa(port)
	b := StartT(t, Options{Args: []string{"--advertise-kafka-addr", proxyAddr}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	got, err := x.CreateProxy(ctx, "kafka", proxyAddr, b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if got != proxyAddr {
		t.Fatalf("proxy listens on %s, want %s", got, proxyAddr)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(proxyAddr), kgo.DefaultProduceTopic("tox"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(v string) time.Duration {
		t.Helper()
		start := time.Now()
		if err := cl.ProduceSync(ctx, kgo.StringRecord(v)).FirstErr(); err != nil {
			t.Fatalf("produce %s through the proxy: %v", v, err)
		}
		return time.Since(start)
	}
	produce("warm-up") // creates the topic and connects

	const latency = 300 * time.Millisecond
	if err := x.AddToxic(ctx, "kafka", Toxic{Name: "slow", Type: "latency", Stream: "downstream",
		Attributes: map[string]any{"latency": latency.Milliseconds(), "jitter": 0}}); err != nil {
		t.Fatal(err)
	}
	toxics, err := x.Toxics(ctx, "kafka")
	if err != nil || len(toxics) != 1 || toxics[0].Name != "slow" || toxics[0].Type != "latency" {
		t.Fatalf("toxics = %+v, %v", toxics, err)
	}
	if d := produce("slow"); d < latency {
		t.Fatalf("produce with a %s latency toxic took %s", latency, d)
	}
	if err := x.RemoveToxic(ctx, "kafka", "slow"); err != nil {
		t.Fatal(err)
	}
	if toxics, err := x.Toxics(ctx, "kafka"); err != nil || len(toxics) != 0 {
		t.Fatalf("toxics after removal = %+v, %v", toxics, err)
	}
	produce("fast")

	// A disabled proxy is a cut link: nothing reaches the broker until the
	// link is back.
	if err := x.SetEnabled(ctx, "kafka", false); err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
	if err := Ping(pctx, proxyAddr); err == nil {
		t.Fatal("ApiVersions went through a disabled proxy")
	}
	pcancel()
	if err := x.SetEnabled(ctx, "kafka", true); err != nil {
		t.Fatal(err)
	}
	produce("after-cut")
	if err := x.DeleteProxy(ctx, "kafka"); err != nil {
		t.Fatal(err)
	}
	if err := x.RemoveToxic(ctx, "kafka", "slow"); err == nil {
		t.Fatal("RemoveToxic on a deleted proxy succeeded")
	}
}

// TestToxiproxyMissing runs StartToxiproxyT in a child test process with no
// binary: under CI it must fail, otherwise skip with a clear message.
func TestToxiproxyMissing(t *testing.T) {
	if os.Getenv("HARNESS_TOXIPROXY_CHILD") != "" {
		StartToxiproxyT(t)
		t.Fatal("StartToxiproxyT returned without a binary")
	}
	for _, tc := range []struct {
		ci       string
		wantFail bool
		wantText string
	}{
		{"1", true, "CI is set and toxiproxy is missing"},
		{"", false, "--- SKIP: TestToxiproxyMissing"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestToxiproxyMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "HARNESS_TOXIPROXY_CHILD=1", "TOXIPROXY_BIN=/nonexistent/toxiproxy-server", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail {
			t.Errorf("CI=%q: child failed=%v, want %v\n%s", tc.ci, failed, tc.wantFail, out)
		}
		if !strings.Contains(string(out), tc.wantText) || !strings.Contains(string(out), "toxiproxy.sh") {
			t.Errorf("CI=%q: output lacks %q and the install hint:\n%s", tc.ci, tc.wantText, out)
		}
	}
}
