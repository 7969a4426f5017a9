// Package metastore owns Strata's cluster metadata: typed access to the keys
// kept in etcd (topics, committed offsets, consumer-group state, producer-id
// blocks, broker registrations) and the embedded single-node etcd server used
// by the default `strata serve` setup.
//
// It is the only package that imports etcd. Every value is JSON; every key is
// built by the helpers in keys.go under one per-cluster prefix (default
// "/strata/"). State changes that can race are compare-and-swap transactions on
// the key's mod revision, surfaced to callers as ErrConflict / ErrExists.
//
// An external etcd (an etcd:// spec) can be reached over TLS: WithTLS takes a
// CA bundle and, for etcd run with --client-cert-auth, a client certificate
// and key. When the first request fails, a direct TLS handshake to the first
// endpoint names the cause (unknown CA, rejected client certificate, a TLS
// server reached without TLS). The etcdtest subpackage runs a real etcd,
// plain or TLS, for tests.
package metastore
