package bridge_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/strata-io/strata/broker/bridge"
	"github.com/strata-io/strata/test/bridge/bridgetest"
)

// start runs a bridge over an in-process kfake cluster on an httptest server.
func start(t *testing.T, cfg bridge.Config) (*bridge.Bridge, *httptest.Server, []string) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cfg.Brokers = c.ListenAddrs()
	b, err := bridge.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := b.Close(); err != nil {
			t.Errorf("close bridge: %v", err)
		}
	})
	return b, srv, cfg.Brokers
}

func TestScenarioKfake(t *testing.T) {
	_, srv, brokers := start(t, bridge.Config{})
	bridgetest.Run(t, bridgetest.Env{BaseURL: srv.URL, Brokers: brokers})
}

func TestNewNeedsBrokers(t *testing.T) {
	if _, err := bridge.New(bridge.Config{}); err == nil {
		t.Fatal("New without brokers succeeded")
	}
}

func TestIdleConsumerExpires(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, srv, _ := start(t, bridge.Config{ConsumerIdleTimeout: 300 * time.Millisecond, Registerer: reg})
	c := bridgetest.NewClient(srv.URL)
	c.Expect(t, 200, "POST", "/consumers/g", `{"name":"idle"}`)
	c.Expect(t, 200, "POST", "/consumers/g", `{"name":"busy"}`)
	if got := metricValue(t, reg, "strata_bridge_consumer_instances"); got != 2 {
		t.Fatalf("instances gauge %v, want 2", got)
	}
	// Keep "busy" in use; let "idle" expire.
	deadline := time.Now().Add(900 * time.Millisecond)
	for time.Now().Before(deadline) {
		c.Expect(t, 200, "GET", "/consumers/g/instances/busy/subscription", nil)
		time.Sleep(50 * time.Millisecond)
	}
	c.Expect(t, 404, "GET", "/consumers/g/instances/idle/subscription", nil)
	c.Expect(t, 200, "GET", "/consumers/g/instances/busy/subscription", nil)
	// The name is free again.
	c.Expect(t, 200, "POST", "/consumers/g", `{"name":"idle"}`)
	if got := metricValue(t, reg, "strata_bridge_consumer_instances_expired_total"); got != 1 {
		t.Fatalf("expired total %v, want 1", got)
	}
}

func TestRequestLimit(t *testing.T) {
	_, srv, _ := start(t, bridge.Config{MaxRequestBytes: 1024})
	c := bridgetest.NewClient(srv.URL)
	big := `{"records":[{"value":"` + strings.Repeat("a", 2000) + `"}]}`
	c.Expect(t, 413, "POST", "/topics/t", big, "Content-Type", bridgetest.Text)
	// Also when the length is not announced up front (chunked).
	c.Expect(t, 413, "POST", "/consumers/g", strings.NewReader(`{"name":"`+strings.Repeat("a", 2000)+`"}`))
}

func TestMetricsLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, srv, _ := start(t, bridge.Config{Registerer: reg})
	c := bridgetest.NewClient(srv.URL)
	c.Expect(t, 200, "GET", "/topics", nil)
	c.Expect(t, 404, "GET", "/topics/none", nil)
	if got := metricValue(t, reg, "strata_bridge_http_requests_total", "route", "GET /topics/{topic}", "code", "404"); got != 1 {
		t.Errorf("404 count %v, want 1", got)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
}

// metricValue is the value of the counter or gauge series name{labels...}.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}
