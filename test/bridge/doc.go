// Package bridge holds the HTTP bridge's end-to-end tests: the bridgetest
// scenario over real HTTP against a real `strata serve` process, both through
// a bridge served from the test (pointing at the broker) and through the
// bridge that `strata serve` mounts on its --http-addr.
package bridge
