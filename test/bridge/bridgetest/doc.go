// Package bridgetest is the HTTP bridge's end-to-end scenario, written once
// and run against different setups: the bridge's unit tests run it against
// an in-process kfake cluster, test/bridge against a real `strata serve`
// (through a bridge on an httptest server and through the broker's own
// --http-addr when serve mounts the bridge).
package bridgetest
