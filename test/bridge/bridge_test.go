package bridge

import (
	"net/http/httptest"
	"testing"

	"github.com/strata-io/strata/broker/bridge"
	"github.com/strata-io/strata/test/bridge/bridgetest"
	"github.com/strata-io/strata/test/harness"
)

// startBroker starts strata with group rebalances that do not wait, so
// consumer instances get their partitions quickly.
func startBroker(t *testing.T) *harness.Broker {
	t.Helper()
	return harness.StartT(t, harness.Options{Args: []string{"--group-initial-rebalance-delay", "0s"}})
}

// TestBridgeInTest serves the bridge from the test process, pointing at a
// real broker.
func TestBridgeInTest(t *testing.T) {
	b := startBroker(t)
	br, err := bridge.New(bridge.Config{Brokers: []string{b.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(br.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := br.Close(); err != nil {
			t.Errorf("close bridge: %v", err)
		}
	})
	bridgetest.Run(t, bridgetest.Env{BaseURL: srv.URL, Brokers: []string{b.Addr}})
}

// TestBridgeMountedByServe uses the bridge `strata serve` mounts on its
// --http-addr.
func TestBridgeMountedByServe(t *testing.T) {
	if harness.Target() != harness.TargetStrata {
		t.Skipf("target %s has no HTTP bridge", harness.Target())
	}
	b := startBroker(t)
	if b.HTTPAddr == "" {
		t.Fatal("strata broker without an HTTP address")
	}
	bridgetest.Run(t, bridgetest.Env{BaseURL: "http://" + b.HTTPAddr, Brokers: []string{b.Addr}})
}
